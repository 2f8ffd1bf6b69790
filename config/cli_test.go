package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

func TestFromEnvFunc(t *testing.T) {
	file := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(file, []byte("JWT_ISSUER=from-file\nJWT_AUDIENCE=file-aud\n"), 0o600))
	env := map[string]string{"JWT_ISSUER": "from-env", "JWT_AUDIENCE": ""}
	getenv := func(k string) string { return env[k] }

	cfg, err := config.FromEnvFunc(getenv, file)
	require.NoError(t, err)
	assert.Equal(t, "from-env", cfg.Issuer, "a non-empty variable wins over the file")
	assert.Equal(t, "file-aud", cfg.Audience, "an empty variable is unset")

	cfg, err = config.FromEnvFunc(getenv, filepath.Join(t.TempDir(), "missing.env"))
	require.NoError(t, err, "a missing file is no error")
	assert.Equal(t, "gatekeep", cfg.Audience)

	cfg, err = config.FromEnvFunc(getenv, "")
	require.NoError(t, err)
	assert.Equal(t, "gatekeep", cfg.Audience, `"" reads no file`)

	require.NoError(t, os.WriteFile(file, []byte("JWT_ISSUER=$(id)\n"), 0o600))
	_, err = config.FromEnvFunc(getenv, file)
	var le *config.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 1, le.Line)

	_, err = config.FromEnvFunc(nil, "")
	assert.ErrorIs(t, err, config.ErrInvalid)
}

func TestSigningKeyIsBuilds(t *testing.T) {
	cfg := config.Default()
	k, err := config.SigningKey(cfg)
	require.NoError(t, err)
	assert.Nil(t, k, "no key configured: nil, where Build generates one")

	cfg.JWTSecret = "0123456789abcdef0123456789abcdef"
	k, err = config.SigningKey(cfg)
	require.NoError(t, err)
	st, err := config.Build(t.Context(), cfg)
	require.NoError(t, err)
	defer st.Close()
	assert.Equal(t, st.Keys.Active().KID(), k.KID())
	assert.Equal(t, config.HMACKeyID, k.KID())
	// The same secret: a token of Build's signer verifies with k.
	tok, err := st.Signer.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	ks, err := token.NewKeySet(k)
	require.NoError(t, err)
	v, err := token.NewVerifier(ks, token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience))
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), token.Access, tok)
	assert.NoError(t, err)

	cfg.JWTSecret = "short"
	_, err = config.SigningKey(cfg)
	assert.ErrorIs(t, err, config.ErrInvalid)
}

func TestNewHasher(t *testing.T) {
	h, err := config.NewHasher(config.HashBcrypt)
	require.NoError(t, err)
	b, ok := h.(*auth.Bcrypt)
	require.True(t, ok)
	assert.Equal(t, config.BcryptCost, b.Cost())
	h, err = config.NewHasher(config.HashArgon2id)
	require.NoError(t, err)
	_, ok = h.(*auth.Argon2id)
	assert.True(t, ok)
}
