package config_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
)

// testKEK is a key-encryption key in base64 (32 bytes of 0x11).
var testKEK = config.Secret(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x11", 32))))

// TestKeyEncryptionKey: JWT_KEY_ENCRYPTION_KEY takes 64 hex digits or
// base64 of 32 bytes; anything else is a start-up error that never quotes
// the value; unset, the stack starts with a warning and enrolment is 503.
func TestKeyEncryptionKey(t *testing.T) {
	raw := []byte(strings.Repeat("\x22", 32))
	for name, v := range map[string]string{
		"hex":        hex.EncodeToString(raw),
		"base64":     base64.StdEncoding.EncodeToString(raw),
		"base64url":  base64.RawURLEncoding.EncodeToString(append([]byte{0xfb, 0xff}, raw[2:]...)),
		"unpadded":   base64.RawStdEncoding.EncodeToString(raw),
		"whitespace": " " + hex.EncodeToString(raw) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.FromLookup(lookup(map[string]string{"JWT_KEY_ENCRYPTION_KEY": v}))
			require.NoError(t, err)
			assert.NotEmpty(t, cfg.JWTKeyEncryptionKey)
		})
	}
	for name, v := range map[string]string{
		"short":      base64.StdEncoding.EncodeToString(raw[:16]),
		"long hex":   hex.EncodeToString(append(raw, 1)),
		"not key":    "not-a-key-at-all!",
		"bad hex 64": strings.Repeat("zz", 32),
	} {
		t.Run("refused/"+name, func(t *testing.T) {
			_, err := config.FromLookup(lookup(map[string]string{"JWT_KEY_ENCRYPTION_KEY": v}))
			require.ErrorIs(t, err, config.ErrInvalid)
			assert.Contains(t, err.Error(), "JWT_KEY_ENCRYPTION_KEY")
			assert.NotContains(t, err.Error(), v)
		})
	}

	log, logs := testLogger()
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.MailDir = t.TempDir()
	st := build(t, cfg, config.WithLogger(log))
	assert.Contains(t, logs.String(), "JWT_KEY_ENCRYPTION_KEY is unset")
	tr, err := st.Auth.Register(context.Background(), auth.Registration{Username: "alice", Password: "alice password 1"}, auth.Client{})
	require.NoError(t, err)
	p, err := st.Auth.AuthenticateToken(context.Background(), tr.AccessToken)
	require.NoError(t, err)
	_, err = st.Auth.EnrolTOTP(context.Background(), p)
	require.ErrorIs(t, err, auth.ErrUnavailable)

	cfg.JWTKeyEncryptionKey = testKEK
	cfg.TOTPIssuer = "Example Co"
	st = build(t, cfg)
	tr, err = st.Auth.Register(context.Background(), auth.Registration{Username: "bob", Password: "bob password 12"}, auth.Client{})
	require.NoError(t, err)
	p, err = st.Auth.AuthenticateToken(context.Background(), tr.AccessToken)
	require.NoError(t, err)
	setup, err := st.Auth.EnrolTOTP(context.Background(), p)
	require.NoError(t, err)
	assert.Contains(t, setup.URI, "issuer=Example")
}
