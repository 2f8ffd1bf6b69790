package main

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
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

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// The fixed world of the token tests: a clock, a secret, a foreign secret.
var (
	testNow       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testSecret    = strings.Repeat("s3cret-", 10)
	foreignSecret = strings.Repeat("f0reign-", 10)
)

func testEnv() map[string]string { return map[string]string{"JWT_SECRET": testSecret} }

// mint signs a token as the server would, at a fixed time, with fixed ids.
func mint(t *testing.T, secret, kid string, typ token.Type, iat time.Time, ttl time.Duration, edit func(*token.Claims), opts ...token.Option) string {
	t.Helper()
	key, err := token.NewHMACKey(token.HS256, kid, []byte(secret))
	require.NoError(t, err)
	ks, err := token.NewKeySet(key)
	require.NoError(t, err)
	s, err := token.NewSigner(ks, append([]token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep")}, opts...)...)
	require.NoError(t, err)
	c := &token.Claims{Subject: "user-42", SessionID: "sess-7", ID: "jti-1", Roles: []string{"user"}, IssuedAt: iat, ExpiresAt: iat.Add(ttl)}
	if edit != nil {
		edit(c)
	}
	tok, err := s.Sign(typ, c)
	require.NoError(t, err)
	return tok
}

// TestInspectGolden proves the whole output of token inspect for the three
// failures people debug most. go test ./cmd/gatekeep -run Golden -update
// rewrites the files.
func TestInspectGolden(t *testing.T) {
	for _, tc := range []struct {
		name, tok string
	}{
		{"expired", mint(t, testSecret, config.HMACKeyID, token.Access, testNow.Add(-3*time.Hour-15*time.Minute), 15*time.Minute, nil)},
		{"wrong_audience", mint(t, testSecret, config.HMACKeyID, token.Access, testNow.Add(-2*time.Minute), 15*time.Minute,
			func(c *token.Claims) { c.Audience = []string{"billing"} })},
		// Signed with another secret under the same kid: only the signature tells.
		{"foreign_key", mint(t, foreignSecret, config.HMACKeyID, token.Access, testNow.Add(-time.Minute), 15*time.Minute, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gk(t, invocation{args: args("token", "inspect", tc.tok), env: testEnv(), now: testNow})
			got := "exit status " + string(rune('0'+r.code)) + "\n" + r.stdout + "--- stderr\n" + r.stderr
			file := filepath.Join("testdata", "inspect_"+tc.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), got)
			assert.Equal(t, exitFailure, r.code)
			assert.NotContains(t, got, testSecret)
			assert.NotContains(t, got, foreignSecret)
		})
	}
}

func TestInspect(t *testing.T) {
	good := mint(t, testSecret, config.HMACKeyID, token.Access, testNow.Add(-time.Minute), 15*time.Minute, nil)

	// An ES256 key pair in files, and its JWK Set in a file and on a
	// loopback server, for -key and -jwks.
	ecKey, err := token.GenerateKey(token.ES256, "")
	require.NoError(t, err)
	ecSet, err := token.NewKeySet(ecKey)
	require.NoError(t, err)
	ecSigner, err := token.NewSigner(ecSet, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	ecTok, err := ecSigner.Sign(token.Access, &token.Claims{Subject: "u", SessionID: "s", ExpiresAt: testNow.Add(time.Hour)})
	require.NoError(t, err)
	dir := t.TempDir()
	jwksFile := filepath.Join(dir, "jwks.json")
	b, err := json.Marshal(ecSet.JWKS())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(jwksFile, b, 0o644))
	srv := httptest.NewServer(token.JWKSHandler(ecSet))
	t.Cleanup(srv.Close)
	kg := gk(t, invocation{args: args("keygen", "-alg", "ES256", "-out", dir, "-json")})
	require.Equal(t, exitOK, kg.code, kg.stderr)
	var pair keygenResult
	require.NoError(t, json.Unmarshal([]byte(kg.stdout), &pair))

	for _, tc := range []struct {
		name      string
		args      []string
		stdin     string
		env       map[string]string
		code      int
		firstLine string // a prefix of stdout's first line
		stderr    string
	}{
		{name: "verified with JWT_SECRET", args: args("token", "inspect", good), env: testEnv(), code: exitOK,
			firstLine: `VERIFIED as an access token with JWT_SECRET (HS256, kid default): signature, typ, exp/nbf/iat (leeway 30s), issuer "gatekeep" and audience "gatekeep"`},
		{name: "from stdin with Bearer", args: args("token", "inspect", "-"), stdin: "Bearer " + good + "\n", env: testEnv(), code: exitOK, firstLine: "VERIFIED"},
		{name: "no key: nothing verified, first line", args: args("token", "inspect", good), code: exitOK,
			firstLine: "NOT VERIFIED: no key given"},
		{name: "kid unknown", args: args("token", "inspect", mint(t, testSecret, "other", token.Access, testNow, time.Hour, nil)), env: testEnv(), code: exitFailure,
			firstLine: `INVALID: kid unknown: kid "other" names no key of JWT_SECRET (HS256, kid default)`},
		// RFC 8725 §3.11: a refresh token is not an access token.
		{name: "typ", args: args("token", "inspect", "-kind", "access", mint(t, testSecret, config.HMACKeyID, token.Refresh, testNow, time.Hour, nil)), env: testEnv(), code: exitFailure,
			firstLine: `INVALID: typ: typ "refresh+jwt" is not "at+jwt"`},
		{name: "refresh verified as its own kind", args: args("token", "inspect", mint(t, testSecret, config.HMACKeyID, token.Refresh, testNow, time.Hour, nil)), env: testEnv(), code: exitOK,
			firstLine: "VERIFIED as a refresh token"},
		{name: "not yet valid", args: args("token", "inspect", mint(t, testSecret, config.HMACKeyID, token.Access, testNow.Add(time.Hour), time.Hour, nil)), env: testEnv(), code: exitFailure,
			firstLine: "INVALID: not yet valid: nbf"},
		{name: "issuer", args: args("token", "inspect", mint(t, testSecret, config.HMACKeyID, token.Access, testNow, time.Hour, func(c *token.Claims) { c.Issuer = "evil" })), env: testEnv(), code: exitFailure,
			firstLine: `INVALID: issuer: iss "evil" is not "gatekeep"`},
		{name: "-aud overrides JWT_AUDIENCE", args: args("token", "inspect", "-aud", "billing", good), env: testEnv(), code: exitFailure, firstLine: "INVALID: audience"},
		{name: "JWT_ISSUER from the environment", args: args("token", "inspect", good), env: map[string]string{"JWT_SECRET": testSecret, "JWT_ISSUER": "other"}, code: exitFailure, firstLine: "INVALID: issuer"},
		{name: "access token without sid", args: args("token", "inspect", mint(t, testSecret, config.HMACKeyID, token.Access, testNow, time.Hour, func(c *token.Claims) { c.SessionID = "" })), env: testEnv(), code: exitFailure,
			firstLine: "INVALID: claims: "},
		// HMAC/EC confusion: the key pins ES256, the header's HS256 is refused.
		{name: "algorithm pinned to -key", args: args("token", "inspect", "-key", pair.Public, mint(t, testSecret, pair.Kid, token.Access, testNow, time.Hour, nil)), code: exitFailure,
			firstLine: `INVALID: algorithm: alg "HS256" is not the algorithm pinned to the key of -key`},
		{name: "-key missing file", args: args("token", "inspect", "-key", filepath.Join(dir, "nope.pem"), ecTok), code: exitFailure, stderr: "no such file"},
		{name: "-jwks file", args: args("token", "inspect", "-jwks", jwksFile, ecTok), code: exitOK, firstLine: "VERIFIED as an access token with -jwks " + jwksFile},
		{name: "-jwks loopback URL", args: args("token", "inspect", "-jwks", srv.URL, ecTok), code: exitOK, firstLine: "VERIFIED"},
		{name: "-jwks file, foreign key", args: args("token", "inspect", "-jwks", jwksFile, good), code: exitFailure, firstLine: `INVALID: kid unknown: kid "default"`},
		// The key set is only fetched over https, or http to loopback.
		{name: "-jwks plain http elsewhere refused", args: args("token", "inspect", "-jwks", "http://192.0.2.1/jwks.json", ecTok), code: exitFailure, stderr: "-jwks"},
		{name: "malformed", args: args("token", "inspect", "a.b"), env: testEnv(), code: exitFailure, stderr: "token: malformed: a compact JWS has three dot-separated parts, this has 2"},
		{name: "not base64", args: args("token", "inspect", "a.b.c"), env: testEnv(), code: exitFailure, stderr: "the header is not unpadded base64url"},
		{name: "no token", args: args("token", "inspect"), code: exitUsage, stderr: "no token"},
		{name: "two tokens", args: args("token", "inspect", good, good), code: exitUsage},
		{name: "-key and -jwks", args: args("token", "inspect", "-key", "a", "-jwks", "b", good), code: exitUsage},
		{name: "bad -kind", args: args("token", "inspect", "-kind", "id", good), code: exitUsage},
		{name: "unknown subcommand", args: args("token", "decode"), code: exitUsage, stderr: `unknown subcommand "decode"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gk(t, invocation{args: tc.args, stdin: tc.stdin, env: tc.env, now: testNow})
			assert.Equal(t, tc.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			first, _, _ := strings.Cut(r.stdout, "\n")
			assert.True(t, strings.HasPrefix(first, tc.firstLine), "first line %q, want prefix %q", first, tc.firstLine)
			assert.Contains(t, r.stderr, tc.stderr)
			assert.NotContains(t, r.stdout+r.stderr, testSecret)
		})
	}

	// -key with the private PEM keygen wrote, and the PEM's own kid.
	privTok := gk(t, invocation{args: args("token", "sign", "-sub", "u9", "-json"), env: map[string]string{"JWT_ALG": "ES256", "JWT_PRIVATE_KEY_FILE": pair.Private}})
	require.Equal(t, exitOK, privTok.code, privTok.stderr)
	var sr signResult
	require.NoError(t, json.Unmarshal([]byte(privTok.stdout), &sr))
	assert.Equal(t, pair.Kid, sr.Kid)
	r := gk(t, invocation{args: args("token", "inspect", "-key", pair.Public, "-json", sr.Token)})
	require.Equal(t, exitOK, r.code, r.stderr)
	var in inspection
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
	assert.True(t, in.Verified)
	assert.Equal(t, "access", in.Kind)
	assert.Contains(t, in.KeySource, pair.Kid)
}

func TestTokenSign(t *testing.T) {
	r := gk(t, invocation{args: args("token", "sign", "-sub", "user-1", "-roles", "admin,user", "-ttl", "5m",
		"-claim", "tenant=acme", "-claim", "level=3", "-claim", `meta={"a":1}`), env: testEnv(), now: testNow})
	require.Equal(t, exitOK, r.code, r.stderr)
	tok := strings.TrimSpace(r.stdout)

	// It verifies with the Verifier Build gives the server.
	cfg, err := config.FromLookup(mapLookup(testEnv()))
	require.NoError(t, err)
	key, err := config.SigningKey(cfg)
	require.NoError(t, err)
	ks, err := token.NewKeySet(key)
	require.NoError(t, err)
	v, err := token.NewVerifier(ks, token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience), token.WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	var extra struct {
		Tenant string         `json:"tenant"`
		Level  int            `json:"level"`
		Meta   map[string]int `json:"meta"`
	}
	c, err := token.VerifyInto(t.Context(), v, token.Access, tok, &extra)
	require.NoError(t, err)
	assert.Equal(t, "user-1", c.Subject)
	assert.Equal(t, []string{"admin", "user"}, c.Roles)
	assert.Equal(t, testNow.Add(5*time.Minute), c.ExpiresAt)
	assert.NotEmpty(t, c.SessionID, "the middleware requires a sid")
	assert.Equal(t, "acme", extra.Tenant)
	assert.Equal(t, 3, extra.Level)
	assert.Equal(t, map[string]int{"a": 1}, extra.Meta)

	// The default lifetime is the configured one.
	r = gk(t, invocation{args: args("token", "sign", "-kind", "refresh", "-sub", "u", "-json"), env: map[string]string{"JWT_SECRET": testSecret, "REFRESH_TTL": "48h"}, now: testNow})
	require.Equal(t, exitOK, r.code, r.stderr)
	var sr signResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sr))
	assert.Equal(t, testNow.Add(48*time.Hour).Format(time.RFC3339), sr.ExpiresAt)
	assert.Equal(t, "refresh", sr.Kind)
	assert.Equal(t, config.HMACKeyID, sr.Kid)

	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{name: "no key configured", args: args("token", "sign", "-sub", "u"), code: exitFailure, stderr: "no signing key is configured"},
		{name: "weak secret is the server's error", args: args("token", "sign", "-sub", "u"), env: map[string]string{"JWT_SECRET": "short"}, code: exitFailure, stderr: "gatekeep: config: JWT_SECRET"},
		{name: "no -sub", args: args("token", "sign"), env: testEnv(), code: exitUsage, stderr: "-sub is required"},
		{name: "bad kind", args: args("token", "sign", "-sub", "u", "-kind", "id"), env: testEnv(), code: exitUsage},
		{name: "registered claim", args: args("token", "sign", "-sub", "u", "-claim", "exp=1"), env: testEnv(), code: exitUsage, stderr: "registered claim"},
		{name: "claim without =", args: args("token", "sign", "-sub", "u", "-claim", "x"), env: testEnv(), code: exitUsage},
		{name: "negative ttl", args: args("token", "sign", "-sub", "u", "-ttl", "-5m"), env: testEnv(), code: exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gk(t, invocation{args: tc.args, env: tc.env, now: testNow})
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}
}
