package config_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/devmail"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
)

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

func build(t *testing.T, cfg config.Config, opts ...config.BuildOption) *config.Stack {
	t.Helper()
	st, err := config.Build(context.Background(), cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	return st
}

// roundTrip signs an access token with the stack and verifies it, and
// returns the token's kid.
func roundTrip(t *testing.T, st *config.Stack, now time.Time) string {
	t.Helper()
	tok, err := st.Signer.Sign(token.Access, &token.Claims{Subject: "u1", SessionID: "s1", ExpiresAt: now.Add(time.Minute)})
	require.NoError(t, err)
	c, err := st.Verifier.Verify(context.Background(), token.Access, tok)
	require.NoError(t, err)
	assert.Equal(t, st.Config.Issuer, c.Issuer)
	assert.Equal(t, []string{st.Config.Audience}, c.Audience)
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	require.NoError(t, err)
	var h struct{ Alg, Kid string }
	require.NoError(t, json.Unmarshal(hdr, &h))
	assert.Equal(t, string(st.Config.JWTAlg), h.Alg)
	return h.Kid
}

func TestBuildMemory(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.Issuer, cfg.Audience = "iss.test", "aud.test"
	cfg.Addr = ":0"
	cfg.MailDir = t.TempDir()
	cfg.JWTKeyEncryptionKey = testKEK
	log, logs := testLogger()
	st := build(t, cfg, config.WithLogger(log))

	assert.Equal(t, ":0", st.Addr)
	assert.Equal(t, cfg, st.Config)
	require.NotNil(t, st.Auth)
	assert.IsType(t, &memory.Store{}, st.Store)
	assert.IsType(t, &auth.Argon2id{}, st.Hasher)
	assert.Equal(t, config.HMACKeyID, roundTrip(t, st, time.Now()))
	assert.Empty(t, st.Keys.JWKS().Keys, "HMAC keys are never published")
	assert.NotContains(t, logs.String(), "level=WARN", "a configured secret gives no warning")

	// The same secret on another instance verifies this one's tokens.
	st2 := build(t, cfg, config.WithLogger(log))
	tok, err := st.Signer.Sign(token.Access, &token.Claims{Subject: "u1", ExpiresAt: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	_, err = st2.Verifier.Verify(context.Background(), token.Access, tok)
	assert.NoError(t, err)

	assert.NoError(t, st.Close())
	assert.NoError(t, st.Close(), "Close twice")
}

func TestBuildRandomSecretWarns(t *testing.T) {
	log, logs := testLogger()
	st := build(t, config.Default(), config.WithLogger(log))
	kid := roundTrip(t, st, time.Now())
	assert.NotEqual(t, config.HMACKeyID, kid, "a per-start key must not pose as the configured one")
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "JWT_SECRET is unset")

	// Two starts, two keys: tokens of one are refused by the other.
	st2 := build(t, config.Default(), config.WithLogger(log))
	tok, err := st.Signer.Sign(token.Access, &token.Claims{Subject: "u1", ExpiresAt: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	_, err = st2.Verifier.Verify(context.Background(), token.Access, tok)
	assert.Error(t, err)
}

func TestBuildHMACVariants(t *testing.T) {
	for _, tc := range []struct {
		alg  token.Algorithm
		hash config.HashKind
	}{{token.HS384, config.HashBcrypt}, {token.HS512, config.HashArgon2id}} {
		cfg := config.Default()
		cfg.JWTAlg, cfg.JWTSecret = tc.alg, config.Secret(strings.Repeat("k", 64))
		cfg.PasswordHash = tc.hash
		st := build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
		assert.Equal(t, config.HMACKeyID, roundTrip(t, st, time.Now()))
		if tc.hash == config.HashBcrypt {
			require.IsType(t, &auth.Bcrypt{}, st.Hasher)
			assert.Equal(t, config.BcryptCost, st.Hasher.(*auth.Bcrypt).Cost())
		} else {
			assert.IsType(t, &auth.Argon2id{}, st.Hasher)
		}
	}
}

func TestBuildClock(t *testing.T) {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	cfg := config.Default()
	cfg.JWTSecret = secret32
	st := build(t, cfg, config.WithClock(func() time.Time { return now }), config.WithLogger(slog.New(slog.DiscardHandler)))
	// Valid only at the fake time, so the Verifier reads the clock given.
	roundTrip(t, st, now)
	tok, err := st.Signer.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Minute)})
	require.NoError(t, err)
	c, err := st.Verifier.Verify(context.Background(), token.Access, tok)
	require.NoError(t, err)
	assert.True(t, c.IssuedAt.Equal(now), "iat from the injected clock")
	u, _, err := config.BootstrapAdmin(context.Background(), st.Auth, "clock", "password-1")
	require.NoError(t, err)
	assert.True(t, u.CreatedAt.Equal(now), "the store reads the injected clock")
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return der
}

func TestBuildAsymmetricKeyFiles(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		alg  token.Algorithm
		path string
	}{
		{"RS256 PKCS#1", token.RS256, writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"RS256 PKCS#8", token.RS256, writePEM(t, "PRIVATE KEY", pkcs8(t, rsaKey))},
		{"PS256 PKCS#8", token.PS256, writePEM(t, "PRIVATE KEY", pkcs8(t, rsaKey))},
		{"ES256 SEC1", token.ES256, writePEM(t, "EC PRIVATE KEY", ecDER)},
		{"ES256 PKCS#8", token.ES256, writePEM(t, "PRIVATE KEY", pkcs8(t, ecKey))},
		{"EdDSA PKCS#8", token.EdDSA, writePEM(t, "PRIVATE KEY", pkcs8(t, edKey))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"JWT_ALG": string(tc.alg), "JWT_PRIVATE_KEY_FILE": tc.path, "MAIL_DIR": t.TempDir(), "JWT_KEY_ENCRYPTION_KEY": string(testKEK)}
			cfg, err := config.FromLookup(lookup(env))
			require.NoError(t, err)
			log, logs := testLogger()
			st := build(t, cfg, config.WithLogger(log))
			kid := roundTrip(t, st, time.Now())
			jwks := st.Keys.JWKS()
			require.Len(t, jwks.Keys, 1)
			assert.Equal(t, kid, jwks.Keys[0].Kid, "the published kid is the signing kid")
			assert.NotContains(t, logs.String(), "level=WARN")

			// A second start from the same file has the same kid.
			st2 := build(t, cfg, config.WithLogger(log))
			assert.Equal(t, kid, st2.Keys.Active().KID())
		})
	}
}

func TestBuildGeneratedAsymmetricKeyWarns(t *testing.T) {
	for _, alg := range []token.Algorithm{token.ES256, token.EdDSA} {
		cfg := config.Default()
		cfg.JWTAlg = alg
		log, logs := testLogger()
		st := build(t, cfg, config.WithLogger(log))
		roundTrip(t, st, time.Now())
		assert.Len(t, st.Keys.JWKS().Keys, 1)
		assert.Contains(t, logs.String(), "JWT_PRIVATE_KEY_FILE is unset")
	}
}

func TestBuildBadKeyFiles(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))

	for _, tc := range []struct {
		name string
		alg  token.Algorithm
		path string
		want string
	}{
		{"missing", token.ES256, filepath.Join(t.TempDir(), "none.pem"), "want a readable PEM file"},
		{"not PEM", token.ES256, garbage, "want a PEM private key for ES256"},
		{"public key", token.ES256, writePEM(t, "PUBLIC KEY", pubDER), "not a public key"},
		{"EC key for RS256", token.RS256, writePEM(t, "PRIVATE KEY", pkcs8(t, ecKey)), "want a PEM private key for RS256"},
		// RSA below 2048 bits is refused.
		{"RSA 1024", token.RS256, writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "weak key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.JWTAlg, cfg.JWTPrivateKeyFile = tc.alg, tc.path
			_, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrInvalid)
			assert.True(t, strings.HasPrefix(err.Error(), "config: JWT_PRIVATE_KEY_FILE: want "), err.Error())
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestBuildInvalidConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Leeway = time.Hour
	_, err := config.Build(context.Background(), cfg)
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.ErrorContains(t, err, "JWT_LEEWAY")
}

func TestBuildBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gk.db")
	env := map[string]string{
		"JWT_SECRET": secret32, "AUTH_STORE": "bolt", "BOLT_PATH": path,
		"ADMIN_USERNAME": "Admin", "ADMIN_PASSWORD": "admin-password-Zq9",
	}
	cfg, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	log, logs := testLogger()

	st, err := config.Build(context.Background(), cfg, config.WithLogger(log))
	require.NoError(t, err)
	roundTrip(t, st, time.Now())
	u, err := st.Store.UserByUsername(context.Background(), "admin")
	require.NoError(t, err)
	assert.Equal(t, []string{"admin"}, u.Roles)
	assert.Contains(t, logs.String(), "created the admin user")

	// The file is locked while the stack is open.
	_, err = config.Build(context.Background(), cfg, config.WithLogger(log))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: BOLT_PATH: want "), err.Error())
	assert.ErrorIs(t, err, store.ErrUnavailable)
	require.NoError(t, st.Close())

	// A restart on the same file keeps the admin and creates no other.
	st = build(t, cfg, config.WithLogger(log))
	u2, err := st.Store.UserByUsername(context.Background(), "admin")
	require.NoError(t, err)
	assert.Equal(t, u.ID, u2.ID)
	assert.Equal(t, u.PasswordHash, u2.PasswordHash)
	assert.Equal(t, 1, strings.Count(logs.String(), "created the admin user"))
	assert.NotContains(t, logs.String(), "admin-password-Zq9")
}

// A damaged bolt file stops the start with one line naming BOLT_PATH and
// saying the file is damaged, instead of a bbolt panic.
func TestBuildBoltDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gk.db")
	env := map[string]string{"JWT_SECRET": secret32, "AUTH_STORE": "bolt", "BOLT_PATH": path}
	cfg, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	st := build(t, cfg)
	require.NoError(t, st.Close())
	require.NoError(t, os.Truncate(path, 8192))

	_, err = config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: BOLT_PATH: want an undamaged bbolt file"), err.Error())
	assert.Contains(t, err.Error(), "damaged")
	assert.NotContains(t, err.Error(), "\n")
	assert.ErrorIs(t, err, bolt.ErrCorrupt)
	assert.ErrorIs(t, err, store.ErrUnavailable)
}

// A failed Build leaves nothing open: the bbolt file's lock is released.
func TestBuildFailureClosesStore(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.Store, cfg.BoltPath = config.StoreBolt, filepath.Join(t.TempDir(), "gk.db")
	_, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)), config.WithAuthOptions(nil))
	require.Error(t, err)
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.ErrorIs(t, err, auth.ErrInvalidConfig)
	build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
}

// TestBuildMailerAndCookies: MAIL_DIR, RESET_URL, COOKIE_MODE and
// COOKIE_INSECURE reach the Authenticator: a forgot-password message lands
// in MAIL_DIR with a link on RESET_URL, and a login sets cookies without
// Secure.
func TestBuildMailerAndCookies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail", "out")
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.MailDir, cfg.CookieMode, cfg.CookieInsecure = dir, true, true
	cfg.ResetURL = "https://app.example/reset"
	st := build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	do := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	rec := do("/auth/register", `{"username":"carol","password":"correct horse"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 2)
	for _, c := range cookies {
		assert.True(t, c.HttpOnly, c.Name)
		assert.False(t, c.Secure, "COOKIE_INSECURE=true keeps Secure off: %s", c.Name)
	}

	rec = do("/auth/password/forgot", `{"username":"carol"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.NoError(t, st.Auth.Close()) // waits for the message
	msgs, err := devmail.Messages(dir)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	msg, err := os.ReadFile(msgs[0])
	require.NoError(t, err)
	assert.Contains(t, string(msg), "https://app.example/reset#token=")

	// Without MAIL_DIR messages go to stdout, with a warning.
	cfg.MailDir = ""
	log, logs := testLogger()
	build(t, cfg, config.WithLogger(log))
	assert.Contains(t, logs.String(), "MAIL_DIR is unset")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cfg.MailDir = filepath.Join(file, "sub")
	_, err = config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	assert.ErrorContains(t, err, "config: MAIL_DIR: want a folder")
}

func TestBootstrapAdmin(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.JWTSecret = secret32
	st := build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	h := st.Hasher

	u, created, err := config.BootstrapAdmin(ctx, st.Auth, "Root", "root-password")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "root", u.Username)
	assert.Equal(t, []string{config.AdminRole}, u.Roles)
	ok, _, err := h.Verify("root-password", u.PasswordHash)
	require.NoError(t, err)
	assert.True(t, ok)

	// Idempotent, by canonical username; the existing password is kept.
	u2, created, err := config.BootstrapAdmin(ctx, st.Auth, "ROOT", "another-password")
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, u.ID, u2.ID)
	assert.Equal(t, u.PasswordHash, u2.PasswordHash)

	// Concurrent starts: exactly one creates.
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 4 {
		wg.Go(func() {
			_, c, err := config.BootstrapAdmin(ctx, st.Auth, "racer", "racer-password")
			assert.NoError(t, err)
			if c {
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, n)

	for _, tc := range []struct{ name, user, pw, want string }{
		{"short password", "x", "Zq9s3c7", "config: ADMIN_PASSWORD: want 8 to 1024 bytes"},
		{"long password", "x", strings.Repeat("Zq9s3", 205), "config: ADMIN_PASSWORD: want 8 to 1024 bytes"},
		{"bad username", "a b", "Zq9s3cr3t", "config: ADMIN_USERNAME: want"},
	} {
		_, _, err := config.BootstrapAdmin(ctx, st.Auth, tc.user, tc.pw)
		assert.ErrorIs(t, err, config.ErrInvalid, tc.name)
		assert.ErrorContains(t, err, tc.want, tc.name)
		assert.NotContains(t, err.Error(), "Zq9s3", tc.name)
	}
	// bcrypt refuses what it would truncate; the error keeps the password out.
	cfg.PasswordHash = config.HashBcrypt
	bst := build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	_, _, err = config.BootstrapAdmin(ctx, bst.Auth, "longpw", strings.Repeat("Zq9s3", 20))
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.ErrorIs(t, err, auth.ErrPasswordTooLong)
	assert.NotContains(t, err.Error(), "Zq9s3")
}

func TestBuildAdminExistingWithoutRole(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.Store, cfg.BoltPath = config.StoreBolt, filepath.Join(t.TempDir(), "gk.db")
	st := build(t, cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, st.Store.CreateUser(context.Background(), &store.User{ID: "u1", Username: "boss", PasswordHash: "x", Roles: []string{"user"}}))
	require.NoError(t, st.Close())

	cfg.AdminUsername, cfg.AdminPassword = "Boss", "boss-password-Zq9"
	log, logs := testLogger()
	st = build(t, cfg, config.WithLogger(log))
	u, err := st.Store.UserByUsername(context.Background(), "boss")
	require.NoError(t, err)
	assert.Equal(t, []string{"user"}, u.Roles, "an existing user is left as it is")
	assert.Contains(t, logs.String(), "without role admin")
	assert.NotContains(t, logs.String(), "boss-password-Zq9")
}

// needRedis returns a client on the test Redis (internal/redistest) and a
// key prefix of the test's own, whose keys are removed at the end. Without
// a Redis it skips, or fails when CI is set.
func needRedis(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	c := redistest.Client(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "gkcfg-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		it := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			_ = c.Del(ctx, it.Val()).Err()
		}
	})
	return c, prefix
}

func TestBuildRedis(t *testing.T) {
	c, prefix := needRedis(t)
	env := map[string]string{
		"JWT_SECRET": secret32, "AUTH_STORE": "redis", "REDIS_URL": redistest.URL(),
		"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "admin-password-Zq9",
	}
	cfg, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	log, logs := testLogger()
	opts := []config.BuildOption{config.WithLogger(log), config.WithRedisOptions(redis.WithPrefix(prefix))}

	st := build(t, cfg, opts...)
	assert.IsType(t, &redis.Store{}, st.Store)
	roundTrip(t, st, time.Now())
	u, err := st.Store.UserByUsername(context.Background(), "admin")
	require.NoError(t, err)
	assert.Equal(t, []string{"admin"}, u.Roles)
	n, err := c.Exists(context.Background(), "{"+prefix+":u}:ids").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the store writes under the prefix given")

	// A second instance on the same Redis sees the admin and creates none.
	st2 := build(t, cfg, opts...)
	u2, err := st2.Store.UserByUsername(context.Background(), "admin")
	require.NoError(t, err)
	assert.Equal(t, u.ID, u2.ID)
	assert.Equal(t, 1, strings.Count(logs.String(), "created the admin user"))
	assert.NotContains(t, logs.String(), "admin-password-Zq9")
}

// An unreachable Redis at start is an error naming REDIS_URL, quickly,
// never a fallback to memory; the URL's password stays out of it.
func TestBuildRedisUnreachable(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.Store, cfg.RedisURL = config.StoreRedis, "redis://:pw-Zq9s3@127.0.0.1:1/0"
	start := time.Now()
	st, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.Error(t, err)
	assert.Nil(t, st)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.True(t, strings.HasPrefix(err.Error(), "config: REDIS_URL: want a Redis that answers at start"), err.Error())
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.ErrorIs(t, err, store.ErrUnavailable)
	assert.NotContains(t, err.Error(), "Zq9s3")
	assert.NotContains(t, err.Error(), "\n")

	for _, u := range []string{
		"redis://:pw-Zq9s3@[::1", "redis://:pw-Zq9s3@h:1/notadb",
		"redis+sentinel://:pw-Zq9s3@h:99999/mymaster", "redis+sentinel://h:26379/m?sentinel_password=pw-Zq9s3&x=1",
	} {
		cfg.RedisURL = config.Secret(u)
		_, err = config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
		require.Error(t, err, u)
		assert.True(t, strings.HasPrefix(err.Error(), "config: REDIS_URL: want "), err.Error())
		assert.NotContains(t, err.Error(), "Zq9s3")
	}
}

// A TRUSTED_PROXIES range wider than a /8 (IPv4) or a /32 (IPv6) starts
// with a warning naming the risk: anyone in it can spoof X-Forwarded-For
// and so the address per-IP throttling counts.
func TestBuildWideTrustedProxiesWarns(t *testing.T) {
	for _, row := range []struct {
		proxies string
		warn    bool
	}{
		{"10.0.0.0/8", false},
		{"192.168.1.7, fd00::/32", false},
		{"0.0.0.0/0", true},
		{"10.0.0.0/8, 8.0.0.0/7", true},
		{"::/0", true},
		{"2001:db8::/31", true},
		{"::ffff:0.0.0.0/100", true},
	} {
		t.Run(row.proxies, func(t *testing.T) {
			cfg, err := config.FromLookup(lookup(map[string]string{"JWT_SECRET": secret32, "TRUSTED_PROXIES": row.proxies}))
			require.NoError(t, err)
			log, logs := testLogger()
			build(t, cfg, config.WithLogger(log))
			assert.Equal(t, row.warn, strings.Contains(logs.String(), "TRUSTED_PROXIES holds a range wider than"), logs.String())
		})
	}
}
