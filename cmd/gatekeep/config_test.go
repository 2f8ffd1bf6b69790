package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

// TestSettingsCoverConfig fails when Config gains a field config check
// does not print.
func TestSettingsCoverConfig(t *testing.T) {
	exported := 0
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config.Config]()) {
		if f.IsExported() && !f.Anonymous { // an embedded struct counts by its fields
			exported++
		}
	}
	assert.Equal(t, exported, len(settings(config.Default())),
		"every exported Config field has its line in settings()")
}

func TestConfigCheck(t *testing.T) {
	const adminPW = "admin password 1"
	dir := t.TempDir()
	dotEnv := filepath.Join(dir, ".env")
	require.NoError(t, os.WriteFile(dotEnv, []byte("JWT_ISSUER=from-dotenv\nJWT_EXPIRY=600\nJWT_SECRET="+testSecret+"\n"), 0o600))
	env := map[string]string{
		"AUTH_STORE": "bolt", "BOLT_PATH": filepath.Join(dir, "g.db"), "TRUSTED_PROXIES": "0.0.0.0/0",
		"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": adminPW, "MAIL_DIR": filepath.Join(dir, "mail"),
	}

	r := gk(t, invocation{args: args("config", "check"), env: env, dotEnv: dotEnv})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "configuration OK: AUTH_STORE=bolt opened, 3 warning(s)\n"), r.stdout)
	assert.Regexp(t, `(?m)^JWT_ISSUER +from-dotenv +\.env$`, r.stdout)
	assert.Regexp(t, `(?m)^ACCESS_TTL +10m0s +\.env JWT_EXPIRY$`, r.stdout)
	assert.Regexp(t, `(?m)^AUTH_STORE +bolt +env$`, r.stdout)
	assert.Regexp(t, `(?m)^JWT_SECRET +\[REDACTED\] +\.env$`, r.stdout)
	assert.Regexp(t, `(?m)^ADMIN_PASSWORD +\[REDACTED\] +env$`, r.stdout)
	assert.Regexp(t, `(?m)^JWT_LEEWAY +30s +default$`, r.stdout)
	assert.Regexp(t, `(?m)^signing key +HS256, kid default`, r.stdout)
	assert.Contains(t, r.stdout, "warning: config: TRUSTED_PROXIES holds a range wider than a /8")
	assert.Contains(t, r.stdout, "warning: (note) config: created the admin user")
	assert.Contains(t, r.stdout, "warning: (note) auth.user_created") // the audit event of the creation
	assert.NotContains(t, r.stdout+r.stderr, testSecret)
	assert.NotContains(t, r.stdout+r.stderr, adminPW)

	// JSON for scripts: the same values and warnings.
	r = gk(t, invocation{args: args("config", "check", "-json"), env: env, dotEnv: dotEnv})
	require.Equal(t, exitOK, r.code, r.stderr)
	var res checkResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	assert.True(t, res.OK)
	assert.Len(t, res.Settings, len(settings(config.Default())))
	assert.Len(t, res.Warnings, 1, "the admin exists now: only the proxy warning")
	assert.NotContains(t, r.stdout, testSecret)

	// Without a secret: the server's warning about a per-process key.
	r = gk(t, invocation{args: args("config", "check")})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "warning: config: JWT_SECRET is unset: signing with a key generated for this process only")

	for _, tc := range []struct {
		name   string
		env    map[string]string
		dotEnv string
		want   string // the whole of stderr
	}{
		{name: "bad duration, the server's line", env: map[string]string{"JWT_LEEWAY": "10m"},
			want: "gatekeep: config: JWT_LEEWAY: want a Go duration of at most 5m, got \"10m\"\n"},
		{name: "weak secret never quoted", env: map[string]string{"JWT_SECRET": "hunter2"}},
		{name: "bad .env line", dotEnv: "JWT_ISSUER=$(whoami)\n"},
		{name: "unreachable Redis names REDIS_URL", env: map[string]string{"AUTH_STORE": "redis", "REDIS_URL": "redis://:pa55word@127.0.0.1:1/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.dotEnv != "" {
				file = filepath.Join(t.TempDir(), ".env")
				require.NoError(t, os.WriteFile(file, []byte(tc.dotEnv), 0o600))
			}
			r := gk(t, invocation{args: args("config", "check"), env: tc.env, dotEnv: file})
			assert.Equal(t, exitFailure, r.code)
			assert.Empty(t, r.stdout)
			// The same one line FromEnv and Build give the server.
			want := tc.want
			if want == "" {
				cfg, err := config.FromEnvFunc(func(k string) string { return tc.env[k] }, file)
				if err == nil {
					_, err = config.Build(t.Context(), cfg)
				}
				require.Error(t, err)
				want = "gatekeep: " + err.Error() + "\n"
			}
			assert.Equal(t, want, r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"))
			assert.NotContains(t, r.stderr, "hunter2")
			assert.NotContains(t, r.stderr, "pa55word")

			r = gk(t, invocation{args: args("config", "check", "-json"), env: tc.env, dotEnv: file})
			assert.Equal(t, exitFailure, r.code)
			var res checkResult
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
			assert.False(t, res.OK)
			assert.Equal(t, strings.TrimSuffix(strings.TrimPrefix(want, "gatekeep: "), "\n"), res.Error)
		})
	}
}
