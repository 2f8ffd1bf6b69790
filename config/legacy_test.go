package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/nodejwt"
)

// JWT_ACCEPT_LEGACY=true accepts an express application's token signed
// with JWT_SECRET by the real jsonwebtoken, with a warning at start; off
// (the default), the same token is refused. A verify-only service refuses
// the variable.
func TestBuildAcceptLegacy(t *testing.T) {
	const secret = "a-node-dotenv-JWT_SECRET-of-32+-bytes!!"
	now := time.Now().Truncate(time.Second)
	tok := nodejwt.Sign(t, nodejwt.Request{
		Payload: map[string]any{"id": 42, "admin": true, "iat": now.Unix()},
		Key:     secret, Options: map[string]any{"expiresIn": "15m"},
	})[0]
	for _, on := range []string{"true", ""} {
		t.Run("JWT_ACCEPT_LEGACY="+on, func(t *testing.T) {
			env := map[string]string{"JWT_SECRET": secret, "JWT_ACCEPT_LEGACY": on}
			cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" })
			require.NoError(t, err)
			require.Equal(t, on == "true", cfg.AcceptLegacy)
			log, buf := testLogger()
			st := build(t, cfg, config.WithLogger(log), config.WithClock(func() time.Time { return now }))
			p, err := st.Auth.AuthenticateToken(context.Background(), tok)
			if on == "" {
				require.ErrorIs(t, err, auth.ErrInvalidToken)
				require.NotContains(t, buf.String(), "JWT_ACCEPT_LEGACY")
				return
			}
			require.NoError(t, err)
			require.True(t, p.Legacy)
			require.Equal(t, "42", p.UserID)
			require.Equal(t, []string{"user", "admin"}, p.Roles)
			require.Contains(t, buf.String(), "level=WARN msg=\"config: JWT_ACCEPT_LEGACY=true")
			require.Contains(t, buf.String(), "msg=auth.legacy_token user_id=42 admin=true")
			require.False(t, strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), tok))
		})
	}
	t.Run("BuildGate", func(t *testing.T) {
		cfg := config.Default()
		cfg.JWKSURL, cfg.JWTAlg, cfg.Store, cfg.AcceptLegacy = "http://127.0.0.1:1/.well-known/jwks.json", "EdDSA", config.StoreRedis, true
		_, err := config.BuildGate(context.Background(), cfg)
		require.ErrorContains(t, err, "config: JWT_ACCEPT_LEGACY: want false for a verify-only service")
		require.True(t, errors.Is(err, config.ErrInvalid))
	})
}
