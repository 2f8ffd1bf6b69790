package config_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

func newKEKText() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestKeyVariablesParse(t *testing.T) {
	kek := newKEKText()
	prev := strings.Repeat("p", 32) + "," + strings.Repeat("q", 40) + " "
	cfg, err := config.FromLookup(lookup(map[string]string{
		"JWT_SECRET": secret32, "JWT_ROTATE_EVERY": "720h", "JWT_KEY_PREPUBLISH": "2h",
		"JWT_KEY_ENCRYPTION_KEY": " " + kek + " ", "JWT_PREVIOUS_SECRETS": prev,
	}))
	require.NoError(t, err)
	assert.Equal(t, 720*time.Hour, cfg.JWTRotateEvery)
	assert.Equal(t, 2*time.Hour, cfg.JWTKeyPrepublish)
	assert.Equal(t, config.Secret(kek), cfg.JWTKeyEncryptionKey)
	// Secrets are used as written: the trailing space belongs to the second.
	assert.Equal(t, []config.Secret{config.Secret(strings.Repeat("p", 32)), config.Secret(strings.Repeat("q", 40) + " ")}, cfg.JWTPreviousSecrets)

	cfg, err = config.FromLookup(lookup(map[string]string{
		"JWT_ALG": "ES384", "JWT_PREVIOUS_KEY_FILES": " a.pem, /keys/b.pem ", "JWT_KEY_ENCRYPTION_KEY": hex.EncodeToString(make([]byte, 32)),
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"a.pem", "/keys/b.pem"}, cfg.JWTPreviousKeyFiles)
	assert.Equal(t, token.ES384, cfg.JWTAlg)

	for _, alg := range token.Algorithms() {
		env := map[string]string{"JWT_ALG": string(alg)}
		if strings.HasPrefix(string(alg), "HS") {
			env["JWT_SECRET"] = strings.Repeat("k", 64)
		}
		_, err := config.FromLookup(lookup(env))
		assert.NoError(t, err, "JWT_ALG=%s: every algorithm of the token package", alg)
	}
}

func TestKeyVariablesRefused(t *testing.T) {
	kek := newKEKText()
	short := strings.Repeat("s", 31)
	for _, row := range []struct {
		name, want string
		env        map[string]string
	}{
		{"rotation too often", `config: JWT_ROTATE_EVERY: want 0 (no automatic rotation) or a Go duration of at least 1m, such as 720h, got "30s"`,
			map[string]string{"JWT_ROTATE_EVERY": "30s", "JWT_KEY_ENCRYPTION_KEY": kek}},
		{"rotation not a duration", `config: JWT_ROTATE_EVERY: want a Go duration`, map[string]string{"JWT_ROTATE_EVERY": "monthly"}},
		// The one-line refusal the issue asks for: no rotation without a KEK.
		{"rotation without a KEK", "config: JWT_KEY_ENCRYPTION_KEY: want 32 bytes as 64 hex digits or base64 (openssl rand -base64 32) when JWT_ROTATE_EVERY is set",
			map[string]string{"JWT_ROTATE_EVERY": "720h"}},
		{"KEK too short", "config: JWT_KEY_ENCRYPTION_KEY: want 32 bytes", map[string]string{"JWT_ROTATE_EVERY": "720h", "JWT_KEY_ENCRYPTION_KEY": "c2hvcnQ="}},
		{"KEK a password", "config: JWT_KEY_ENCRYPTION_KEY: want 32 bytes", map[string]string{"JWT_ROTATE_EVERY": "720h", "JWT_KEY_ENCRYPTION_KEY": "hunter2-hunter2-hunter2"}},
		{"pre-publication without rotation", "config: JWT_KEY_PREPUBLISH: want it unset unless JWT_ROTATE_EVERY is set", map[string]string{"JWT_KEY_PREPUBLISH": "1h"}},
		// Shorter than the reload interval: an instance could sign with a key another has not loaded.
		{"pre-publication below the reload interval", `config: JWT_KEY_PREPUBLISH: want a Go duration of at least 30s`,
			map[string]string{"JWT_ROTATE_EVERY": "720h", "JWT_KEY_PREPUBLISH": "10s", "JWT_KEY_ENCRYPTION_KEY": kek}},
		{"previous secret too short", "config: JWT_PREVIOUS_SECRETS: want secrets of at least 32 bytes each for HS256",
			map[string]string{"JWT_PREVIOUS_SECRETS": secret32 + "," + short}},
		{"previous secret empty", "config: JWT_PREVIOUS_SECRETS: want comma-separated secrets, none empty", map[string]string{"JWT_PREVIOUS_SECRETS": secret32 + ","}},
		{"previous secrets for an asymmetric key", "config: JWT_PREVIOUS_SECRETS: want it unset when JWT_ALG is ES256",
			map[string]string{"JWT_ALG": "ES256", "JWT_PREVIOUS_SECRETS": secret32}},
		{"previous key files for HMAC", "config: JWT_PREVIOUS_KEY_FILES: want it unset when JWT_ALG is HS256", map[string]string{"JWT_PREVIOUS_KEY_FILES": "a.pem"}},
		{"previous key files with a hole", "config: JWT_PREVIOUS_KEY_FILES: want a comma-separated list", map[string]string{"JWT_ALG": "ES256", "JWT_PREVIOUS_KEY_FILES": "a.pem,,b.pem"}},
	} {
		t.Run(row.name, func(t *testing.T) {
			_, err := config.FromLookup(lookup(row.env))
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrInvalid)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, row.want), "got %q, want it to start %q", msg, row.want)
			assert.NotContains(t, msg, "\n", "one line")
			for _, secret := range []string{kek, short, "hunter2", "c2hvcnQ"} {
				assert.NotContains(t, msg, secret, "a secret in the error")
			}
		})
	}
}

// Rotating JWT_SECRET by hand: the old secret moves to
// JWT_PREVIOUS_SECRETS, and the tokens it signed (kid "default") still
// verify on the new configuration, which signs under a kid of its own.
func TestManualRotationHMAC(t *testing.T) {
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	oldSecret, newSecret := strings.Repeat("o", 32), strings.Repeat("n", 32)
	before, err := config.FromLookup(lookup(map[string]string{"JWT_SECRET": oldSecret}))
	require.NoError(t, err)
	a := build(t, before, quiet)
	now := time.Now()
	require.Equal(t, config.HMACKeyID, roundTrip(t, a, now))
	old, err := a.Signer.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Minute)})
	require.NoError(t, err)

	after, err := config.FromLookup(lookup(map[string]string{"JWT_SECRET": newSecret, "JWT_PREVIOUS_SECRETS": oldSecret}))
	require.NoError(t, err)
	b := build(t, after, quiet)
	_, err = b.Verifier.Verify(context.Background(), token.Access, old)
	assert.NoError(t, err, "a token of the previous secret")
	kid := roundTrip(t, b, now)
	assert.NotEqual(t, config.HMACKeyID, kid, "the new secret signs under its own kid")
	assert.Same(t, b.Keys.Active(), mustLookup(t, b.Keys, kid))
	for _, k := range b.Keys.Keys() {
		if k != b.Keys.Active() {
			assert.NotEqual(t, kid, k.KID())
		}
	}
	// The old configuration does not accept the new secret's tokens: the
	// previous secret really is a different key.
	fresh, err := b.Signer.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Minute)})
	require.NoError(t, err)
	_, err = a.Verifier.Verify(context.Background(), token.Access, fresh)
	assert.Error(t, err)
}

func mustLookup(t *testing.T, ks *token.KeySet, kid string) *token.Key {
	t.Helper()
	k, err := ks.LookupKey(context.Background(), kid)
	require.NoError(t, err)
	return k
}

// Rotating JWT_PRIVATE_KEY_FILE by hand: the old key's public half in
// JWT_PREVIOUS_KEY_FILES verifies its tokens, never signs, and is
// published in the JWK Set.
func TestManualRotationKeyFiles(t *testing.T) {
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	dir := t.TempDir()
	write := func(name string, block *pem.Block) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(block), 0o600))
		return p
	}
	oldKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalPKCS8PrivateKey(k); return b }
	pub, _ := x509.MarshalPKIXPublicKey(&oldKey.PublicKey)
	oldPriv := write("old.pem", &pem.Block{Type: "PRIVATE KEY", Bytes: der(oldKey)})
	oldPub := write("old.pub.pem", &pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	newPriv := write("new.pem", &pem.Block{Type: "PRIVATE KEY", Bytes: der(newKey)})

	before, err := config.FromLookup(lookup(map[string]string{"JWT_ALG": "ES256", "JWT_PRIVATE_KEY_FILE": oldPriv}))
	require.NoError(t, err)
	a := build(t, before, quiet)
	now := time.Now()
	oldKid := roundTrip(t, a, now)
	old, err := a.Signer.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Minute)})
	require.NoError(t, err)

	after, err := config.FromLookup(lookup(map[string]string{"JWT_ALG": "ES256", "JWT_PRIVATE_KEY_FILE": newPriv, "JWT_PREVIOUS_KEY_FILES": oldPub}))
	require.NoError(t, err)
	b := build(t, after, quiet)
	_, err = b.Verifier.Verify(context.Background(), token.Access, old)
	assert.NoError(t, err)
	assert.NotEqual(t, oldKid, roundTrip(t, b, now))
	assert.False(t, mustLookup(t, b.Keys, oldKid).CanSign(), "a previous key verifies only")
	kids := map[string]bool{}
	for _, j := range b.Keys.JWKS().Keys {
		kids[j.Kid] = true
	}
	assert.True(t, kids[oldKid] && len(kids) == 2, "the JWK Set publishes the current and the previous key: %v", kids)

	// The same key twice is refused, naming the variable.
	_, err = config.Build(context.Background(), func() config.Config {
		c := after
		c.JWTPreviousKeyFiles = []string{oldPub, oldPriv}
		return c
	}(), quiet)
	assert.ErrorContains(t, err, "JWT_PREVIOUS_KEY_FILES")
}

// fakeClock is shared by the stacks of one test.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// rotationEnv is a rotation timeline a test can walk: a key every hour,
// published 10 minutes ahead, refresh tokens of 2 hours.
func rotationEnv(kek string, alg token.Algorithm) map[string]string {
	return map[string]string{
		"JWT_ALG": string(alg), "JWT_ROTATE_EVERY": "1h", "JWT_KEY_PREPUBLISH": "10m", "JWT_KEY_ENCRYPTION_KEY": kek,
		"ACCESS_TTL": "15m", "REFRESH_TTL": "2h", "SESSION_MAX_AGE": "24h",
	}
}

// server is one instance: its HTTP API and JWK Set on a test server.
type server struct {
	st  *config.Stack
	url string
}

func serve(t testing.TB, st *config.Stack) *server {
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	mux.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &server{st: st, url: srv.URL}
}

func (s *server) call(t testing.TB, method, path, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *server) jwks(t *testing.T) map[string]bool {
	t.Helper()
	code, body := s.call(t, "GET", "/.well-known/jwks.json", "", nil)
	require.Equal(t, 200, code)
	out := map[string]bool{}
	for _, k := range body["keys"].([]any) {
		out[k.(map[string]any)["kid"].(string)] = true
	}
	return out
}

func headerKid(t *testing.T, tok string) string {
	t.Helper()
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	require.NoError(t, err)
	var h struct{ Kid string }
	require.NoError(t, json.Unmarshal(hdr, &h))
	return h.Kid
}

// TestRotationEndToEnd, on each store: a key rotates while a session is
// live. The old access token keeps working on every instance, the refresh
// gives tokens under the new kid, the JWK Set shows both, and after
// retirement the old kid is gone and its tokens are refused.
func TestRotationEndToEnd(t *testing.T) {
	kek := newKEKText()
	rows := []struct {
		name      string
		instances int
		env       func(t *testing.T) (map[string]string, []config.BuildOption)
	}{
		{"memory", 1, func(t *testing.T) (map[string]string, []config.BuildOption) {
			return map[string]string{"AUTH_STORE": "memory"}, nil
		}},
		{"bolt", 1, func(t *testing.T) (map[string]string, []config.BuildOption) {
			return map[string]string{"AUTH_STORE": "bolt", "BOLT_PATH": filepath.Join(t.TempDir(), "gk.db")}, nil
		}},
		{"redis", 2, func(t *testing.T) (map[string]string, []config.BuildOption) {
			_, prefix := needRedis(t)
			return map[string]string{"AUTH_STORE": "redis", "REDIS_URL": redistest.URL()},
				[]config.BuildOption{config.WithRedisOptions(redis.WithPrefix(prefix), redis.WithTimeout(5*time.Second))}
		}},
		{"postgres", 2, func(t *testing.T) (map[string]string, []config.BuildOption) {
			pool := pgtest.Pool(t)
			return map[string]string{"AUTH_STORE": "postgres", "DATABASE_URL": pgtest.URL(), "POSTGRES_SCHEMA": pgtest.Schema(t, pool)}, nil
		}},
	}
	for _, row := range rows {
		for _, alg := range []token.Algorithm{token.ES256, token.HS256} {
			t.Run(row.name+"/"+string(alg), func(t *testing.T) {
				ctx := context.Background()
				storeEnv, opts := row.env(t)
				env := rotationEnv(kek, alg)
				for k, v := range storeEnv {
					env[k] = v
				}
				cfg, err := config.FromLookup(lookup(env))
				require.NoError(t, err)
				clk := &fakeClock{}
				clk.ns.Store(time.Now().UnixNano())
				log, logs := testLogger()
				opts = append(opts, config.WithClock(clk.Now), config.WithLogger(log))
				var srvs []*server
				for range row.instances {
					srvs = append(srvs, serve(t, build(t, cfg, opts...)))
				}
				a, b := srvs[0], srvs[len(srvs)-1]
				syncAll := func() {
					for _, s := range srvs {
						require.NoError(t, s.st.Rotator.Sync(ctx))
					}
				}
				oldKid := a.st.Keys.Active().KID()
				for _, s := range srvs {
					require.Equal(t, oldKid, s.st.Keys.Active().KID(), "every instance signs with the ring's one key")
				}

				code, reg := a.call(t, "POST", "/auth/register", "", map[string]string{"username": "alice", "password": "alice-password-Zq9"})
				require.Equal(t, 201, code, "%v", reg)
				require.Equal(t, oldKid, headerKid(t, reg["access_token"].(string)))

				// 50 minutes on: the next key is published on every instance.
				clk.Advance(50 * time.Minute)
				syncAll()
				code, login := b.call(t, "POST", "/auth/login", "", map[string]string{"username": "alice", "password": "alice-password-Zq9"})
				require.Equal(t, 200, code)
				access, refresh := login["access_token"].(string), login["refresh_token"].(string)
				require.Equal(t, oldKid, headerKid(t, access), "nothing signs with a pre-published key")
				var newKid string
				for _, s := range srvs {
					ring, err := s.st.Store.(store.KeyStore).SigningKeys(ctx)
					require.NoError(t, err)
					require.Len(t, ring.Keys, 2)
					for _, k := range ring.Keys {
						if k.State == store.KeyNext {
							newKid = k.ID
						}
					}
					if alg == token.ES256 {
						assert.Equal(t, map[string]bool{oldKid: true, newKid: true}, s.jwks(t), "the JWK Set holds the next key before it signs")
					} else {
						assert.Empty(t, s.jwks(t), "HMAC keys are never published")
					}
				}
				require.NotEmpty(t, newKid)

				// 60 minutes: the next key signs; the old access token still works everywhere.
				clk.Advance(10 * time.Minute)
				syncAll()
				for _, s := range srvs {
					code, _ := s.call(t, "GET", "/me", access, nil)
					assert.Equal(t, 200, code, "the old key's access token after the rotation")
					assert.Equal(t, newKid, s.st.Keys.Active().KID())
				}
				code, ref := a.call(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": refresh})
				require.Equal(t, 200, code, "%v", ref)
				newAccess := ref["access_token"].(string)
				assert.Equal(t, newKid, headerKid(t, newAccess), "the refresh gives tokens under the new kid")
				assert.Equal(t, newKid, headerKid(t, ref["refresh_token"].(string)))
				for _, s := range srvs {
					code, _ := s.call(t, "GET", "/me", newAccess, nil)
					assert.Equal(t, 200, code)
					if alg == token.ES256 {
						assert.Equal(t, map[string]bool{oldKid: true, newKid: true}, s.jwks(t), "the JWK Set holds the active and the retiring key")
					}
				}

				// Past REFRESH_TTL + leeway + the reload interval: the old key is gone.
				clk.Advance(2*time.Hour + time.Minute + time.Second)
				syncAll()
				for _, s := range srvs {
					_, err := s.st.Keys.LookupKey(ctx, oldKid)
					assert.ErrorIs(t, err, token.ErrUnknownKey, "the retired key is deleted on every instance")
					if alg == token.ES256 {
						assert.False(t, s.jwks(t)[oldKid], "the retired key leaves the JWK Set")
					}
					code, _ := s.call(t, "GET", "/me", access, nil)
					assert.Equal(t, 401, code, "a token of the retired key")
					_, err = s.st.Verifier.Verify(ctx, token.Access, access)
					assert.ErrorIs(t, err, token.ErrUnknownKey)
				}
				for _, ev := range []string{"signing key created", "signing key activated", "signing key retiring", "signing key deleted"} {
					assert.Contains(t, logs.String(), ev)
				}
				assert.NotContains(t, logs.String(), kek)
			})
		}
	}
}

// Rotation refuses to start on a ring sealed under another
// JWT_KEY_ENCRYPTION_KEY, naming the variable, rather than make a key of
// its own.
func TestRotationWrongKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gk.db")
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	env := rotationEnv(newKEKText(), token.ES256)
	env["AUTH_STORE"], env["BOLT_PATH"] = "bolt", path
	cfg, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	st, err := config.Build(context.Background(), cfg, quiet)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	other := newKEKText()
	env["JWT_KEY_ENCRYPTION_KEY"] = other
	cfg, err = config.FromLookup(lookup(env))
	require.NoError(t, err)
	_, err = config.Build(context.Background(), cfg, quiet)
	require.Error(t, err)
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.True(t, errors.Is(err, rotation.ErrNoSigningKey) && errors.Is(err, token.ErrSealed), "%v", err)
	assert.Contains(t, err.Error(), "JWT_ROTATE_EVERY")
	assert.NotContains(t, err.Error(), other)
	assert.NotContains(t, err.Error(), "\n")
}

// Every algorithm of the token package builds and signs, with a generated
// key and with rotation on, under the same key-size rules.
func TestBuildEveryAlgorithm(t *testing.T) {
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	kek := newKEKText()
	for _, alg := range token.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			cfg, err := config.FromLookup(lookup(map[string]string{"JWT_ALG": string(alg)}))
			require.NoError(t, err)
			st := build(t, cfg, quiet)
			roundTrip(t, st, time.Now())

			cfg, err = config.FromLookup(lookup(rotationEnv(kek, alg)))
			require.NoError(t, err)
			st = build(t, cfg, quiet)
			require.NotNil(t, st.Rotator)
			roundTrip(t, st, time.Now())
			assert.Equal(t, alg, st.Keys.Active().Algorithm())
		})
	}
}
