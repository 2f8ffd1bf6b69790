package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

func TestParseDotEnv(t *testing.T) {
	const file = "\uFEFF# gatekeep settings\n" +
		"\n" +
		"   # indented comment\n" +
		"PLAIN=value\n" +
		"export EXPORTED=yes\n" +
		"export\tTABBED=tab\n" +
		"SPACED = around equals \n" +
		"TRAILING=value # a comment\n" +
		"HASH=a#b\n" +
		"SINGLE='lit $(not run) ${NOR_THIS} `nor this` \\n # kept'\n" +
		"DOUBLE=\"a \\\"quoted\\\" \\\\ line\\nbreak\\t\\$HOME # kept\" # comment\n" +
		"EMPTY=\n" +
		"EMPTYQ=\"\"\n" +
		"DOLLAR=pa$$word\n" +
		"CRLF=windows\r\n" +
		"lower_case_1=ok\n"
	got, err := config.ParseDotEnv(strings.NewReader(file))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"PLAIN":        "value",
		"EXPORTED":     "yes",
		"TABBED":       "tab",
		"SPACED":       "around equals",
		"TRAILING":     "value",
		"HASH":         "a#b",
		"SINGLE":       "lit $(not run) ${NOR_THIS} `nor this` \\n # kept",
		"DOUBLE":       "a \"quoted\" \\ line\nbreak\t$HOME # kept",
		"EMPTY":        "",
		"EMPTYQ":       "",
		"DOLLAR":       "pa$$word",
		"CRLF":         "windows",
		"lower_case_1": "ok",
	}, got)
}

func TestParseDotEnvBadLines(t *testing.T) {
	const value = "Zq9s3cr3t"
	for _, tc := range []struct {
		name, file string
		line       int
		why        string
	}{
		{"no equals", "A=1\n" + value + "\n", 2, "want KEY=value"},
		{"bad key", "1A=" + value, 1, "want KEY=value"},
		{"key with dash", "A-B=" + value, 1, "want KEY=value"},
		{"export alone", "export", 1, "want KEY=value"},
		{"unterminated single", "A='" + value, 1, "unterminated single quote"},
		{"unterminated double", "A=\"" + value, 1, "unterminated double quote"},
		{"multi-line double", "A=\"" + value + "\nmore\"", 1, "unterminated double quote"},
		{"text after quote", "A='" + value + "' junk", 1, "after the closing quote"},
		{"unknown escape", `A="` + value + `\q"`, 1, "unknown escape"},
		// A shell would run these; we do not, and do not pretend to.
		{"command substitution", "A=$(cat /etc/" + value + ")", 1, "command substitution"},
		{"backquotes", "A=`" + value + "`", 1, "command substitution"},
		{"expansion", "A=${" + value + "}", 1, "expansion"},
		{"substitution in double quotes", `A="x$(` + value + `)"`, 1, "command substitution"},
		{"duplicate", "A=1\n\nA=" + value, 3, "A is set again (first on line 1)"},
		{"long line", "A=" + strings.Repeat("x", 70<<10), 1, "longer than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.ParseDotEnv(strings.NewReader(tc.file))
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrInvalid)
			var le *config.LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.line, le.Line)
			assert.Contains(t, err.Error(), tc.why)
			assert.True(t, strings.HasPrefix(err.Error(), "config: .env line "), err.Error())
			assert.NotContains(t, err.Error(), value, "a bad line's value is never echoed")
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// FromEnv reads .env in the working directory; the process environment
// wins. Not parallel: it changes the working directory and environment.
func TestFromEnvDotEnv(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"ADDR", "JWT_SECRET", "JWT_EXPIRY", "ACCESS_TTL", "AUTH_STORE", "JWT_ISSUER", "JWT_LEEWAY", "COOKIE_MODE", "REDIS_URL"} {
		t.Setenv(k, "") // empty counts as unset
	}

	c, err := config.FromEnv()
	require.NoError(t, err, "no .env is fine")
	assert.Equal(t, config.Default(), c)

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte(
		"# from the Node app\n"+
			"export JWT_SECRET='"+secret32+"'\n"+
			"JWT_EXPIRY=3600\n"+
			"JWT_ISSUER=file-issuer\n"+
			"ADDR=:7000\n"+
			"COOKIE_MODE=true # cookies too\n"), 0o600))
	t.Setenv("ADDR", ":9000")
	c, err = config.FromEnv()
	require.NoError(t, err)
	assert.Equal(t, config.Secret(secret32), c.JWTSecret)
	assert.Equal(t, "1h0m0s", c.AccessTTL.String(), "JWT_EXPIRY from the file")
	assert.Equal(t, "file-issuer", c.Issuer)
	assert.Equal(t, ":9000", c.Addr, "the process environment wins over the file")
	assert.True(t, c.CookieMode)

	t.Setenv("ACCESS_TTL", "5m") // ACCESS_TTL from the environment beats JWT_EXPIRY from the file
	c, err = config.FromEnv()
	require.NoError(t, err)
	assert.Equal(t, "5m0s", c.AccessTTL.String())

	t.Setenv("JWT_LEEWAY", "10m")
	_, err = config.FromEnv()
	assert.EqualError(t, err, `config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"`)
	t.Setenv("JWT_LEEWAY", "")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("A=1\nJWT_SECRET=$("+secret32+")\n"), 0o600))
	_, err = config.FromEnv()
	require.Error(t, err)
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.Contains(t, err.Error(), "config: .env line 2: ")
	assert.NotContains(t, err.Error(), secret32)

	require.NoError(t, os.Remove(filepath.Join(dir, ".env")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".env"), 0o700))
	_, err = config.FromEnv()
	assert.ErrorIs(t, err, config.ErrInvalid, "an unreadable .env is an error, not ignored")
}

func FuzzParseDotEnv(f *testing.F) {
	for _, s := range []string{
		"A=1", "export A='x'", `A="a\nb" # c`, "A=$(x)", "# c\n\nB = 2 ", "A='", `A="\`, "\uFEFFA=1\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := config.ParseDotEnv(strings.NewReader(s))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, "= \t\n#'\"") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
