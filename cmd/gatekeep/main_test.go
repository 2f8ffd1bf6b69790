package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

// result is what one in-process run of gatekeep gave.
type result struct {
	code           int
	stdout, stderr string
}

// invocation is one command line with its world.
type invocation struct {
	args  []string
	stdin string
	env   map[string]string
	now   time.Time
	opts  []config.BuildOption
	// dotEnv is the .env file to read; "" means one that does not exist.
	dotEnv string
}

func gk(t *testing.T, in invocation) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{
		ctx: context.Background(), stdin: strings.NewReader(in.stdin), stdout: &out, stderr: &errb,
		env: func(k string) string { return in.env[k] }, buildOpts: in.opts, dotEnv: in.dotEnv,
	}
	if c.dotEnv == "" {
		c.dotEnv = filepath.Join(t.TempDir(), "no.env")
	}
	if !in.now.IsZero() {
		c.now = func() time.Time { return in.now }
	}
	code := c.run(in.args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func args(s ...string) []string { return s }

// TestRunEntry goes through run itself, the function main calls.
func TestRunEntry(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"-h"}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out.String(), "Usage: gatekeep <command>")

	code = run(nil, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	assert.Equal(t, exitUsage, code)
	code = run([]string{"frobnicate"}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errb.String(), `unknown command "frobnicate"`)
}

// TestHelpEverywhere: -h on every command and subcommand prints its usage
// on stdout and exits 0.
func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range [][]string{
		{"keygen"}, {"hash"}, {"token"}, {"token", "inspect"}, {"token", "sign"},
		{"users"}, {"users", "list"}, {"users", "create"}, {"users", "set-roles"},
		{"users", "delete"}, {"users", "revoke-sessions"}, {"sessions"}, {"sessions", "list"},
		{"config"}, {"config", "check"},
	} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			r := gk(t, invocation{args: append(cmd, "-h")})
			assert.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "Usage: gatekeep "+cmd[0])
			assert.Empty(t, r.stderr)
		})
	}
}

func TestKeygen(t *testing.T) {
	t.Run("hmac secret", func(t *testing.T) {
		r := gk(t, invocation{args: args("keygen")})
		require.Equal(t, exitOK, r.code, r.stderr)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.Len(t, lines, 1, "one line to append to .env")
		secret, ok := strings.CutPrefix(lines[0], "JWT_SECRET=")
		require.True(t, ok, lines[0])
		raw, err := base64.RawURLEncoding.DecodeString(secret)
		require.NoError(t, err)
		assert.Len(t, raw, 64)
		// The printed line is usable as it is, for every HS* algorithm.
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			_, err := config.FromLookup(mapLookup(map[string]string{"JWT_ALG": alg, "JWT_SECRET": secret}))
			assert.NoError(t, err, alg)
		}
		// Two runs never give the same secret.
		again := gk(t, invocation{args: args("keygen")})
		assert.NotEqual(t, r.stdout, again.stdout)
	})
	t.Run("hmac secret for HS512 names JWT_ALG", func(t *testing.T) {
		r := gk(t, invocation{args: args("keygen", "-alg", "HS512", "-json")})
		require.Equal(t, exitOK, r.code, r.stderr)
		var res keygenResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
		assert.Equal(t, "HS512", res.Env["JWT_ALG"])
		_, err := config.FromLookup(mapLookup(res.Env))
		assert.NoError(t, err)
	})
	t.Run("kek", func(t *testing.T) {
		r := gk(t, invocation{args: args("keygen", "-kek", "-json")})
		require.Equal(t, exitOK, r.code, r.stderr)
		var res keygenResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
		raw, err := base64.StdEncoding.DecodeString(res.Env["JWT_KEY_ENCRYPTION_KEY"])
		require.NoError(t, err)
		assert.Len(t, raw, 32)
	})
	for _, alg := range []token.Algorithm{token.ES256, token.EdDSA, token.RS256, token.PS256} {
		t.Run("key pair "+string(alg), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			r := gk(t, invocation{args: args("keygen", "-alg", string(alg), "-out", dir, "-json")})
			require.Equal(t, exitOK, r.code, r.stderr)
			var res keygenResult
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
			assert.Empty(t, res.Warning)
			fi, err := os.Stat(res.Private)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			// The server loads the file under the kid keygen named.
			cfg, err := config.FromLookup(mapLookup(res.Env))
			require.NoError(t, err)
			key, err := config.SigningKey(cfg)
			require.NoError(t, err)
			assert.Equal(t, res.Kid, key.KID())
			assert.True(t, key.CanSign())
			pub, err := os.ReadFile(res.Public)
			require.NoError(t, err)
			pk, err := token.ParsePEM(alg, "", pub)
			require.NoError(t, err)
			assert.Equal(t, res.Kid, pk.KID())
			assert.False(t, pk.CanSign())
		})
	}
	t.Run("never replaces a file", func(t *testing.T) {
		dir := t.TempDir()
		r := gk(t, invocation{args: args("keygen", "-alg", "EdDSA", "-out", dir)})
		require.Equal(t, exitOK, r.code, r.stderr)
		file := strings.TrimPrefix(strings.Split(r.stdout, "\n")[1], "JWT_PRIVATE_KEY_FILE=")
		before, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.ErrorContains(t, writeNew(file, []byte("other"), 0o600), "exists")
		after, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, before, after)
	})
	t.Run("every algorithm the configuration accepts, without a warning", func(t *testing.T) {
		r := gk(t, invocation{args: args("keygen", "-alg", "ES384", "-out", t.TempDir())})
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.NotContains(t, r.stderr, "warning")
	})
	for name, a := range map[string][]string{
		"unknown alg":        {"keygen", "-alg", "none"},
		"unknown flag":       {"keygen", "-frob"},
		"argument":           {"keygen", "extra"},
		"kek with alg":       {"keygen", "-kek", "-alg", "ES256"},
		"out for hmac":       {"keygen", "-out", "x"},
		"bits for ec":        {"keygen", "-alg", "ES256", "-bits", "4096"},
		"bits too small rsa": {"keygen", "-alg", "RS256", "-bits", "1024"},
	} {
		t.Run("usage: "+name, func(t *testing.T) {
			r := gk(t, invocation{args: a})
			assert.Equal(t, exitUsage, r.code)
			assert.Empty(t, r.stdout)
			assert.NotEmpty(t, r.stderr)
		})
	}
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestHash(t *testing.T) {
	const pw = "correct horse battery"
	argon := gk(t, invocation{args: args("hash"), stdin: pw + "\n"})
	require.Equal(t, exitOK, argon.code, argon.stderr)
	argonHash := strings.TrimSpace(argon.stdout)
	assert.True(t, strings.HasPrefix(argonHash, "$argon2id$v=19$m=19456,t=2,p=1$"), argonHash)
	assert.NotContains(t, argon.stdout+argon.stderr, pw, "the password is never echoed")

	bc := gk(t, invocation{args: args("hash", "-json"), stdin: pw + "\r\n", env: map[string]string{"PASSWORD_HASH": "bcrypt"}})
	require.Equal(t, exitOK, bc.code, bc.stderr)
	var res hashResult
	require.NoError(t, json.Unmarshal([]byte(bc.stdout), &res))
	assert.True(t, strings.HasPrefix(res.Hash, "$2a$12$"), res.Hash)
	assert.Equal(t, "bcrypt", res.Hasher)

	// The hash is the server's: the hasher config selects verifies it.
	h, err := config.NewHasher(config.HashArgon2id)
	require.NoError(t, err)
	ok, _, err := h.Verify(pw, argonHash)
	require.NoError(t, err)
	assert.True(t, ok)

	for _, tc := range []struct {
		name, stdin, stdout, stderr string
		args                        []string
		env                         map[string]string
		code                        int
	}{
		{name: "verify match", args: args("hash", "-verify", argonHash), stdin: pw, stdout: "match\n", code: exitOK},
		{name: "verify line end ignored", args: args("hash", "-verify", argonHash), stdin: pw + "\n", stdout: "match\n", code: exitOK},
		{name: "verify mismatch", args: args("hash", "-verify", argonHash), stdin: pw + "!", stdout: "no match\n", code: exitFailure},
		{name: "verify a bcrypt hash under argon2id: match, rehash", args: args("hash", "-verify", res.Hash), stdin: pw,
			stdout: "match\nthe hash is not what PASSWORD_HASH=argon2id makes today: the server replaces it at the next login\n", code: exitOK},
		{name: "verify only the first line counts", args: args("hash", "-verify", argonHash), stdin: pw + "\nsecond line", stdout: "match\n", code: exitOK},
		{name: "verify unreadable hash", args: args("hash", "-verify", "$argon2id$nonsense"), stdin: pw, stderr: "gatekeep: hash -verify: auth: unrecognised password hash", code: exitFailure},
		{name: "too short", args: args("hash"), stdin: "pw1234\n", stderr: "gatekeep: hash: auth: password too short: at least 8 bytes\n", code: exitFailure},
		{name: "too long", args: args("hash"), stdin: strings.Repeat("a", 1025) + "\n", stderr: "password too long", code: exitFailure},
		{name: "bcrypt refuses over 72 bytes rather than truncate", args: args("hash"), stdin: strings.Repeat("a", 73), env: map[string]string{"PASSWORD_HASH": "bcrypt"}, stderr: "password too long", code: exitFailure},
		{name: "no password", args: args("hash"), stdin: "", stderr: "gatekeep: no password", code: exitFailure},
		// A password is never taken from an argument (shell history, ps).
		{name: "password as argument refused", args: args("hash", pw), stderr: "unexpected argument", code: exitUsage},
		{name: "bad PASSWORD_HASH is the server's error", args: args("hash"), stdin: pw, env: map[string]string{"PASSWORD_HASH": "md5"}, stderr: "gatekeep: config: PASSWORD_HASH", code: exitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gk(t, invocation{args: tc.args, stdin: tc.stdin, env: tc.env})
			assert.Equal(t, tc.code, r.code, r.stderr)
			if tc.stdout != "" || tc.code != exitOK {
				assert.Equal(t, tc.stdout, r.stdout)
			}
			assert.Contains(t, r.stderr, tc.stderr)
			if tc.stdin != "" && tc.code != exitUsage {
				assert.NotContains(t, r.stdout+r.stderr, strings.TrimSpace(tc.stdin))
			}
		})
	}
}
