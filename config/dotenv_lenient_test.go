package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

func writeDotEnv(t *testing.T, text string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, config.DotEnvFile), []byte(text), 0o600))
	for _, k := range []string{"JWT_SECRET", "JWT_EXPIRY", "ACCESS_TTL", "JWT_ISSUER", "AUTH_STORE", "REDIS_URL", "BOLT_PATH", "DATABASE_URL"} {
		t.Setenv(k, "")
	}
}

// A .env shared with an application: lines gatekeep does not read never
// stop it, whatever other loaders accept in them.
func TestFromEnvSkipsLinesItDoesNotRead(t *testing.T) {
	writeDotEnv(t, "# the application's own settings\n"+
		"APP_DB=postgres://${DB_USER}@db/app\n"+
		"APP_CMD=$(whoami)\n"+
		"APP_TICKS=`date`\n"+
		"APP_CERT=\"-----BEGIN CERTIFICATE-----\n"+
		"MIIBszCCAVmgAwIBAgIU\n"+
		"JWT_ISSUER=inside-the-certificate\n"+
		"-----END CERTIFICATE-----\"\n"+
		"APP_KEY='multi\n"+
		"line'\n"+
		"APP_ESCAPED=\"a \\\" still open\n"+
		"closed here\" # after\n"+
		"spring.datasource.url=jdbc:postgresql://db/app\n"+
		"APP-NAME=notes\n"+
		"APP_DUP=1\n"+
		"APP_DUP=2\n"+
		"APP_HTTP: yaml-style\n"+
		"APP_ESC=\"\\q\"\n"+
		"APP_OPEN=\"never closed\n"+
		"JWT_SECRET="+secret32+"\n"+
		"export JWT_EXPIRY=1h\n"+
		"JWT_ISSUER=iss.example\n")
	c, err := config.FromEnv()
	require.NoError(t, err)
	assert.Equal(t, config.Secret(secret32), c.JWTSecret)
	assert.Equal(t, time.Hour, c.AccessTTL)
	assert.Equal(t, "iss.example", c.Issuer, "the line inside the certificate is the application's value, not ours")
}

// Lines of variables gatekeep reads keep ParseDotEnv's rules, naming the
// line and never the value.
func TestFromEnvStrictForItsOwnLines(t *testing.T) {
	const value = "Zq9s3cr3t"
	for _, tc := range []struct {
		name, file string
		line       int
		why        string
	}{
		{"expansion", "APP=1\nJWT_SECRET=${" + value + "}\n", 2, "expansion"},
		{"substitution", "REDIS_URL=$(cat /run/" + value + ")\n", 1, "command substitution"},
		{"unterminated", "APP_X=\"ok\"\nAUTH_STORE=\"redis\n", 2, "unterminated double quote"},
		{"multi-line", "JWT_ISSUER='" + value + "\nmore'\n", 1, "unterminated single quote"},
		{"duplicate", "JWT_ISSUER=a\nAPP=1\nJWT_ISSUER=" + value + "\n", 3, "JWT_ISSUER is set again (first on line 1)"},
		{"yaml form", "JWT_SECRET: " + value + "\n", 1, "want KEY=value"},
		{"no equals", "JWT_SECRET " + value + "\n", 1, "want KEY=value"},
		{"after an unknown open quote", "APP=\"never closed\nJWT_LEEWAY=${" + value + "}\n", 2, "expansion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeDotEnv(t, tc.file)
			_, err := config.FromEnv()
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrInvalid)
			var le *config.LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.line, le.Line)
			assert.Contains(t, err.Error(), tc.why)
			assert.NotContains(t, err.Error(), value)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// ParseDotEnv itself stays strict for every line.
func TestParseDotEnvStillStrict(t *testing.T) {
	_, err := config.ParseDotEnv(strings.NewReader("APP_DB=postgres://${DB_USER}@db/app\n"))
	assert.ErrorIs(t, err, config.ErrInvalid)
}
