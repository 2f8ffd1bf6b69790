package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

// Variables that look like gatekeep's but are not get a warning naming
// the likely intended one; others, and the values, are left alone.
func TestUnknownVariableWarnings(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("REFRESH_TTTL=24h\nAPP_NAME=notes\nJWT_AUDEINCE=${AUD}\n"), 0o600))
	set := map[string]string{
		"JWT_SECERT":     "value-Zq9s3-secret",
		"AUTH_STOR":      "redis",
		"ACCES_TTL":      "5m",
		"jwt_secret":     "value-Zq9s3-lower",
		"JWT_EXPIRES_IN": "1h",
		"AUTH_SECRET":    "value-Zq9s3-authjs",
		"OIDC_ISSUER":    "https://id.example", // another part of gatekeep's
		"OIDC_CLIENTID":  "x",
		"JWT_SECRET_KEY": secret32, // read: the express guides' name
		"APP_DB":         "postgres://x",
		"LOGIN_WINDOW":   "10m",
		"JWT_SECRE_":     "", // empty: unset
	}
	for k, v := range set {
		t.Setenv(k, v)
	}
	c, err := config.FromEnv()
	require.NoError(t, err)
	notes := strings.Join(c.Notes(), "\n")
	for _, want := range []string{
		"config: JWT_SECERT is set but gatekeep does not read it; did you mean JWT_SECRET?",
		"config: AUTH_STOR is set but gatekeep does not read it; did you mean AUTH_STORE?",
		"config: ACCES_TTL is set but gatekeep does not read it; did you mean ACCESS_TTL?",
		"config: jwt_secret is set but gatekeep does not read it: names are case-sensitive; did you mean JWT_SECRET?",
		"config: JWT_EXPIRES_IN is set but gatekeep does not read it; the nearest variable it reads is JWT_EXPIRY",
		"config: AUTH_SECRET is set but gatekeep does not read it; the nearest variable it reads is ",
		"config: REFRESH_TTTL is set but gatekeep does not read it; did you mean REFRESH_TTL?",  // from .env
		"config: JWT_AUDEINCE is set but gatekeep does not read it; did you mean JWT_AUDIENCE?", // a .env line skipped
	} {
		assert.Contains(t, notes, want)
	}
	for _, quiet := range []string{"OIDC_", "JWT_SECRET_KEY is set", "APP_DB", "APP_NAME", "LOGIN_WINDOW is set", "JWT_SECRE_", "PATH", "HOME"} {
		assert.NotContains(t, notes, quiet)
	}
	assert.NotContains(t, notes, "Zq9s3", "a note holds a value")

	// Build logs them as warnings.
	var logs bytes.Buffer
	st, err := config.Build(t.Context(), c, config.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	assert.Contains(t, logs.String(), `level=WARN msg="config: JWT_SECERT is set but gatekeep does not read it; did you mean JWT_SECRET?"`)
	assert.NotContains(t, logs.String(), "Zq9s3")
}
