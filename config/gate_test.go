package config_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store/redis"
)

// TestBuildGateRefuses: a verify-only service needs JWKS_URL, an
// asymmetric JWT_ALG and a store that shares revocations; each refusal is
// one line naming the variable.
func TestBuildGateRefuses(t *testing.T) {
	jwks := "http://127.0.0.1:1/.well-known/jwks.json"
	for _, row := range []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"no JWKS_URL", func(c *config.Config) { c.JWTAlg, c.Store = "EdDSA", config.StoreRedis }, "config: JWKS_URL: want the issuing service's JWK Set URL"},
		{"HMAC", func(c *config.Config) { c.JWKSURL, c.Store = jwks, config.StoreRedis }, "config: JWT_ALG: want the issuing service's asymmetric algorithm"},
		{"memory", func(c *config.Config) { c.JWKSURL, c.JWTAlg = jwks, "EdDSA" }, "config: AUTH_STORE: want redis or postgres for a verify-only service"},
		{"bolt", func(c *config.Config) { c.JWKSURL, c.JWTAlg, c.Store = jwks, "EdDSA", config.StoreBolt }, "config: AUTH_STORE: want redis or postgres"},
		{"plain http elsewhere", func(c *config.Config) {
			c.JWKSURL, c.JWTAlg, c.Store = "http://issuer.example/.well-known/jwks.json", "EdDSA", config.StoreRedis
		}, "config: JWKS_URL: want an https URL"},
	} {
		t.Run(row.name, func(t *testing.T) {
			cfg := config.Default()
			row.edit(&cfg)
			_, err := config.BuildGate(context.Background(), cfg)
			require.Error(t, err)
			assert.True(t, errors.Is(err, config.ErrInvalid))
			assert.Contains(t, err.Error(), row.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// TestBuildGateUnreachableJWKS: an issuer that cannot be read yet is a
// warning, not a refusal (it may start later); requests answer 503 until
// its keys can be read.
func TestBuildGateUnreachableJWKS(t *testing.T) {
	redistest.Client(t) // skips without Redis, fails under CI
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	cfg := config.Default()
	cfg.JWKSURL, cfg.JWTAlg, cfg.Store, cfg.RedisURL = down.URL+"/.well-known/jwks.json", "EdDSA", config.StoreRedis, config.Secret(redistest.URL())
	log, out := testLogger()
	st, err := config.BuildGate(context.Background(), cfg, config.WithLogger(log), config.WithRedisOptions(redis.WithPrefix("gkgate-test")))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	assert.Contains(t, out.String(), "JWKS_URL could not be read yet")
	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJ1In0.c2ln")
	w := httptest.NewRecorder()
	st.Gate.Require(http.NotFoundHandler()).ServeHTTP(w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}
