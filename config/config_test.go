package config_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

const secret32 = "0123456789abcdef0123456789abcdef"

func TestDefaults(t *testing.T) {
	c, err := config.FromLookup(lookup(nil))
	require.NoError(t, err)
	assert.Equal(t, config.Default(), c)
	assert.Equal(t, "127.0.0.1:8080", c.Addr)
	assert.Empty(t, c.JWTSecret)
	assert.Equal(t, token.HS256, c.JWTAlg)
	assert.Empty(t, c.JWTPrivateKeyFile)
	assert.Equal(t, 15*time.Minute, c.AccessTTL)
	assert.Equal(t, 168*time.Hour, c.RefreshTTL)
	assert.Equal(t, 720*time.Hour, c.SessionMaxAge)
	assert.Equal(t, 30*time.Second, c.Leeway)
	assert.Equal(t, time.Duration(0), c.RefreshReuseGrace)
	assert.Equal(t, "gatekeep", c.Issuer)
	assert.Equal(t, "gatekeep", c.Audience)
	assert.Equal(t, config.StoreMemory, c.Store)
	assert.Equal(t, "gatekeep.db", c.BoltPath)
	assert.Equal(t, config.Secret("redis://127.0.0.1:6379/0"), c.RedisURL)
	assert.Equal(t, "gatekeep", c.RedisPrefix)
	assert.Equal(t, 10, c.LoginMaxFailures)
	assert.Equal(t, 15*time.Minute, c.LoginWindow)
	assert.Empty(t, c.TrustedProxies)
	assert.Equal(t, config.HashArgon2id, c.PasswordHash)
	assert.Empty(t, c.AdminUsername)
	assert.Empty(t, c.AdminPassword)
	assert.Empty(t, c.MailDir)
	assert.False(t, c.CookieMode)
	assert.False(t, c.CookieInsecure)
	require.NoError(t, c.Validate())
}

// Empty values are unset: a .env.example copied with blanks keeps defaults.
func TestEmptyIsUnset(t *testing.T) {
	env := map[string]string{}
	for _, k := range []string{"ADDR", "JWT_SECRET", "JWT_ALG", "JWT_EXPIRY", "ACCESS_TTL", "AUTH_STORE", "LOGIN_MAX_FAILURES", "COOKIE_MODE", "TRUSTED_PROXIES", "ADMIN_USERNAME", "ADMIN_PASSWORD"} {
		env[k] = ""
	}
	c, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	assert.Equal(t, config.Default(), c)
}

func TestParseEveryVariable(t *testing.T) {
	env := map[string]string{
		"ADDR":                  " :9090 ",
		"JWT_SECRET":            " " + secret32 + "x ", // raw bytes: not trimmed
		"JWT_ALG":               "HS256",
		"ACCESS_TTL":            "5m",
		"REFRESH_TTL":           "24h",
		"SESSION_MAX_AGE":       "48h",
		"JWT_LEEWAY":            "5m",
		"REFRESH_REUSE_GRACE":   "60s",
		"JWT_ISSUER":            "iss.example",
		"JWT_AUDIENCE":          "api.example",
		"AUTH_STORE":            "bolt",
		"BOLT_PATH":             "/var/lib/gk.db",
		"REDIS_PREFIX":          "app1",
		"REDIS_URL":             "redis://:pw@10.0.0.5:6379/2",
		"DATABASE_URL":          " postgres://app:pw@db/app ",
		"POSTGRES_SCHEMA":       "auth",
		"REVOCATION_MAX_LAG":    "1s",
		"LOGIN_MAX_FAILURES":    "3",
		"LOGIN_WINDOW":          "1h",
		"MAX_SESSIONS_PER_USER": "5",
		"FORGOT_MAX_PER_IP":     "8",
		"FORGOT_MAX_TOTAL":      "80",
		"FORGOT_WINDOW":         "3h",
		"REGISTER_MAX_PER_IP":   "7",
		"REGISTER_MAX_TOTAL":    "70",
		"REGISTER_WINDOW":       "2h",
		"TRUSTED_PROXIES":       "10.0.0.0/8, 192.168.1.7 ,fd00::/8, 172.16.5.4/12",
		"PASSWORD_HASH":         "bcrypt",
		"ADMIN_USERNAME":        "Root",
		"ADMIN_PASSWORD":        " pass word ",
		"MAIL_DIR":              "/tmp/mail",
		"RESET_URL":             "https://app.example/reset",
		"COOKIE_MODE":           "true",
		"COOKIE_INSECURE":       "1",
		"JWT_PRIVATE_KEY_FILE":  "",
	}
	c, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	assert.Equal(t, config.Config{
		Addr:               ":9090",
		JWTSecret:          config.Secret(" " + secret32 + "x "),
		JWTAlg:             token.HS256,
		AccessTTL:          5 * time.Minute,
		RefreshTTL:         24 * time.Hour,
		SessionMaxAge:      48 * time.Hour,
		Leeway:             5 * time.Minute,
		RefreshReuseGrace:  60 * time.Second,
		Issuer:             "iss.example",
		Audience:           "api.example",
		Store:              config.StoreBolt,
		BoltPath:           "/var/lib/gk.db",
		RedisPrefix:        "app1",
		RedisURL:           "redis://:pw@10.0.0.5:6379/2",
		DatabaseURL:        "postgres://app:pw@db/app",
		PostgresSchema:     "auth",
		RevocationMaxLag:   time.Second,
		LoginMaxFailures:   3,
		LoginWindow:        time.Hour,
		MaxSessionsPerUser: 5,
		ForgotMaxPerIP:     8,
		ForgotMaxTotal:     80,
		ForgotWindow:       3 * time.Hour,
		RegisterMaxPerIP:   7,
		RegisterMaxTotal:   70,
		RegisterWindow:     2 * time.Hour,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
			netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("172.16.0.0/12"),
		},
		PasswordHash:   config.HashBcrypt,
		AdminUsername:  "Root",
		AdminPassword:  " pass word ",
		MailDir:        "/tmp/mail",
		ResetURL:       "https://app.example/reset",
		CookieMode:     true,
		CookieInsecure: true,
	}, c)

	for _, alg := range []string{"HS384", "HS512"} {
		c, err := config.FromLookup(lookup(map[string]string{"JWT_ALG": alg, "JWT_SECRET": strings.Repeat("k", 64)}))
		require.NoError(t, err, alg)
		assert.Equal(t, token.Algorithm(alg), c.JWTAlg)
	}
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		c, err := config.FromLookup(lookup(map[string]string{"JWT_ALG": alg, "JWT_PRIVATE_KEY_FILE": "k.pem"}))
		require.NoError(t, err, alg)
		assert.Equal(t, token.Algorithm(alg), c.JWTAlg)
		assert.Equal(t, "k.pem", c.JWTPrivateKeyFile)
	}
	for _, kind := range []string{"memory", "redis"} {
		c, err := config.FromLookup(lookup(map[string]string{"AUTH_STORE": kind}))
		require.NoError(t, err)
		assert.Equal(t, config.StoreKind(kind), c.Store)
	}
	for _, u := range []string{
		"redis+sentinel://10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379/mymaster",
		"rediss+sentinel://app:pw@10.0.0.5:26379/mymaster/2?sentinel_password=spw",
	} {
		c, err := config.FromLookup(lookup(map[string]string{"AUTH_STORE": "redis", "REDIS_URL": u}))
		require.NoError(t, err, "a Sentinel URL")
		assert.Equal(t, config.Secret(u), c.RedisURL)
	}
	for v, want := range map[string]bool{"true": true, "1": true, "false": false, "0": false} {
		c, err := config.FromLookup(lookup(map[string]string{"COOKIE_MODE": v, "COOKIE_INSECURE": v}))
		require.NoError(t, err)
		assert.Equal(t, want, c.CookieMode, v)
		assert.Equal(t, want, c.CookieInsecure, v)
	}
}

func TestAccessTTLPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"default", nil, 15 * time.Minute},
		{"JWT_EXPIRY seconds", map[string]string{"JWT_EXPIRY": "3600"}, time.Hour},
		{"ACCESS_TTL alone", map[string]string{"ACCESS_TTL": "90s"}, 90 * time.Second},
		{"ACCESS_TTL wins", map[string]string{"JWT_EXPIRY": "3600", "ACCESS_TTL": "10m"}, 10 * time.Minute},
		{"JWT_EXPIRY max", map[string]string{"JWT_EXPIRY": "86400"}, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.FromLookup(lookup(tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.AccessTTL)
		})
	}
}

// Every bad value gives one line naming the variable, matching ErrInvalid,
// and never holding a secret.
func TestBadValues(t *testing.T) {
	const adminPW = "hunter2-but-longer-Zq9s3cr3tPW"
	const redisPW = "REDISPASSWORD"
	for _, tc := range []struct {
		name, varName string
		env           map[string]string
		want          string // substring of the message
	}{
		{"addr", "ADDR", map[string]string{"ADDR": "8080"}, `want host:port, such as 127.0.0.1:8080 or :8080, got "8080"`},
		{"alg unknown", "JWT_ALG", map[string]string{"JWT_ALG": "none"}, `got "none"`},
		{"alg lower case", "JWT_ALG", map[string]string{"JWT_ALG": "hs256"}, "want one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"},
		// Algorithms token supports but the table does not list.
		{"secret short", "JWT_SECRET", map[string]string{"JWT_SECRET": "short-Zq9s3cr3t"}, "want at least 32 bytes for HS256"},
		{"secret 31 bytes", "JWT_SECRET", map[string]string{"JWT_SECRET": secret32[:31]}, "at least 32 bytes"},
		// RFC 7518 §3.2: the key is at least the hash size.
		{"secret short for HS512", "JWT_SECRET", map[string]string{"JWT_ALG": "HS512", "JWT_SECRET": secret32 + "Zq9s3cr3t"}, "at least 64 bytes for HS512"},
		{"secret with asymmetric alg", "JWT_SECRET", map[string]string{"JWT_ALG": "ES256", "JWT_SECRET": secret32}, "unset when JWT_ALG is ES256"},
		{"key file with HMAC", "JWT_PRIVATE_KEY_FILE", map[string]string{"JWT_PRIVATE_KEY_FILE": "k.pem"}, "unset when JWT_ALG is HS256"},
		{"expiry not a span", "JWT_EXPIRY", map[string]string{"JWT_EXPIRY": "1h30m"}, `want seconds (such as 900) or a span as jsonwebtoken's expiresIn takes it (such as "90s", "15m", "1h", "1d" or "2 days"), from 1s to 24h (or set ACCESS_TTL as a Go duration), got "1h30m"`},
		{"expiry zero", "JWT_EXPIRY", map[string]string{"JWT_EXPIRY": "0"}, `got "0"`},
		{"expiry too long", "JWT_EXPIRY", map[string]string{"JWT_EXPIRY": "86401"}, `got "86401"`},
		{"expiry span too long", "JWT_EXPIRY", map[string]string{"JWT_EXPIRY": "2 days"}, `from 1s to 24h (or set ACCESS_TTL as a Go duration), got "2 days"`},
		// A malformed JWT_EXPIRY is reported even when ACCESS_TTL wins.
		{"expiry bad beside access", "JWT_EXPIRY", map[string]string{"JWT_EXPIRY": "x", "ACCESS_TTL": "5m"}, `got "x"`},
		{"access unparsable", "ACCESS_TTL", map[string]string{"ACCESS_TTL": "15"}, `want a Go duration such as "30s", "15m" or "168h", got "15"`},
		{"access zero", "ACCESS_TTL", map[string]string{"ACCESS_TTL": "0s"}, `want a Go duration above 0 and at most 24h, got "0s"`},
		{"access too long", "ACCESS_TTL", map[string]string{"ACCESS_TTL": "25h"}, `got "25h"`},
		{"refresh unparsable", "REFRESH_TTL", map[string]string{"REFRESH_TTL": "7d"}, `got "7d"`},
		{"refresh below access", "REFRESH_TTL", map[string]string{"ACCESS_TTL": "1h", "REFRESH_TTL": "30m"}, `at least the access-token lifetime (1h), got "30m"`},
		{"session unparsable", "SESSION_MAX_AGE", map[string]string{"SESSION_MAX_AGE": "forever"}, `got "forever"`},
		{"session below access", "SESSION_MAX_AGE", map[string]string{"SESSION_MAX_AGE": "1m"}, `got "1m"`},
		{"leeway too large", "JWT_LEEWAY", map[string]string{"JWT_LEEWAY": "10m"}, `want a Go duration of at most 5m, got "10m"`},
		{"leeway negative", "JWT_LEEWAY", map[string]string{"JWT_LEEWAY": "-1s"}, `at least 0s, got "-1s"`},
		{"leeway unparsable", "JWT_LEEWAY", map[string]string{"JWT_LEEWAY": "30"}, `got "30"`},
		{"grace too large", "REFRESH_REUSE_GRACE", map[string]string{"REFRESH_REUSE_GRACE": "61s"}, `at most 60s, got "61s"`},
		{"grace negative", "REFRESH_REUSE_GRACE", map[string]string{"REFRESH_REUSE_GRACE": "-5s"}, `got "-5s"`},
		{"store unknown", "AUTH_STORE", map[string]string{"AUTH_STORE": "mysql"}, `want memory, bolt, redis or postgres, got "mysql"`},
		{"store case", "AUTH_STORE", map[string]string{"AUTH_STORE": "Redis"}, `got "Redis"`},
		{"redis scheme", "REDIS_URL", map[string]string{"AUTH_STORE": "redis", "REDIS_URL": "http://u:" + redisPW + "@h:1"}, "want redis://"},
		{"redis sentinel scheme", "REDIS_URL", map[string]string{"AUTH_STORE": "redis", "REDIS_URL": "sentinel://:" + redisPW + "@h:26379/m"}, "redis+sentinel://"},
		{"redis sentinel without master", "REDIS_URL", map[string]string{"AUTH_STORE": "redis", "REDIS_URL": "redis+sentinel://:" + redisPW + "@h:26379?sentinel_password=" + redisPW}, "a Sentinel URL naming its master"},
		{"failures zero", "LOGIN_MAX_FAILURES", map[string]string{"LOGIN_MAX_FAILURES": "0"}, `want a whole number above 0, got "0"`},
		{"failures text", "LOGIN_MAX_FAILURES", map[string]string{"LOGIN_MAX_FAILURES": "ten"}, `got "ten"`},
		{"window unparsable", "LOGIN_WINDOW", map[string]string{"LOGIN_WINDOW": "15"}, `got "15"`},
		{"window zero", "LOGIN_WINDOW", map[string]string{"LOGIN_WINDOW": "0s"}, `at least 1ms, got "0s"`},
		{"proxies bad", "TRUSTED_PROXIES", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,example.com"}, `got "example.com"`},
		{"proxies empty entry", "TRUSTED_PROXIES", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,"}, "comma-separated CIDRs"},
		{"proxies bad bits", "TRUSTED_PROXIES", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, `got "10.0.0.0/33"`},
		{"hash unknown", "PASSWORD_HASH", map[string]string{"PASSWORD_HASH": "md5"}, `want argon2id or bcrypt, got "md5"`},
		{"admin without password", "ADMIN_PASSWORD", map[string]string{"ADMIN_USERNAME": "root"}, "both or neither"},
		{"password without admin", "ADMIN_USERNAME", map[string]string{"ADMIN_PASSWORD": adminPW}, "both or neither"},
		{"admin username", "ADMIN_USERNAME", map[string]string{"ADMIN_USERNAME": "two words", "ADMIN_PASSWORD": adminPW}, "PRECIS"},
		{"admin password short", "ADMIN_PASSWORD", map[string]string{"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "Zq9s3c7"}, "8 to 1024 bytes"},
		{"admin password long", "ADMIN_PASSWORD", map[string]string{"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": strings.Repeat("Zq9s3cr3t", 200)}, "8 to 1024 bytes"},
		// bcrypt would ignore bytes past 72.
		{"admin password bcrypt", "ADMIN_PASSWORD", map[string]string{"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": strings.Repeat("Zq9s3cr3t", 9), "PASSWORD_HASH": "bcrypt"}, "at most 72 bytes"},
		{"cookie mode", "COOKIE_MODE", map[string]string{"COOKIE_MODE": "yes"}, `want true, false, 1 or 0, got "yes"`},
		{"cookie mode upper", "COOKIE_MODE", map[string]string{"COOKIE_MODE": "TRUE"}, `got "TRUE"`},
		{"cookie insecure", "COOKIE_INSECURE", map[string]string{"COOKIE_INSECURE": "on"}, `got "on"`},
		{"reset url relative", "RESET_URL", map[string]string{"RESET_URL": "/reset"}, "an absolute http(s) URL"},
		// A javascript: or other scheme in an emailed link.
		{"reset url scheme", "RESET_URL", map[string]string{"RESET_URL": "javascript:alert(1)"}, "an absolute http(s) URL"},
		// The token goes in the fragment; a fragment of its own would hide it.
		{"reset url fragment", "RESET_URL", map[string]string{"RESET_URL": "https://app.example/r#x"}, "without user info or fragment"},
		// auth.WithPasswordReset refuses it too; it must be named here.
		{"reset url long", "RESET_URL", map[string]string{"RESET_URL": "https://app.example/" + strings.Repeat("r", 2048)}, "at most 2048 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.FromLookup(lookup(tc.env))
			require.Error(t, err)
			msg := err.Error()
			assert.ErrorIs(t, err, config.ErrInvalid)
			var ve *config.VarError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.varName, ve.Var)
			assert.True(t, strings.HasPrefix(msg, "config: "+tc.varName+": want "), msg)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, "\n")
			for _, s := range []string{"Zq9s3", secret32[:16], adminPW, redisPW} {
				assert.NotContains(t, msg, s, "the message holds a secret")
			}
		})
	}
}

// A Config built in Go is validated the same way, quoting typed values.
func TestValidateStruct(t *testing.T) {
	c := config.Default()
	c.Leeway = 10 * time.Minute
	assert.EqualError(t, c.Validate(), `config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"`)

	c = config.Default()
	c.Issuer = ""
	assert.EqualError(t, c.Validate(), "config: JWT_ISSUER: want a non-empty string")
	c = config.Default()
	c.Audience = ""
	assert.EqualError(t, c.Validate(), "config: JWT_AUDIENCE: want a non-empty string")
	c = config.Default()
	c.Store, c.BoltPath = config.StoreBolt, ""
	assert.ErrorContains(t, c.Validate(), "config: BOLT_PATH: want a file path")
	c = config.Default()
	c.Store, c.RedisURL = config.StoreRedis, ""
	assert.ErrorContains(t, c.Validate(), "config: REDIS_URL: want")
	c = config.Default()
	c.TrustedProxies = []netip.Prefix{{}}
	assert.ErrorContains(t, c.Validate(), "config: TRUSTED_PROXIES")
	c = config.Default()
	c.RefreshTTL = 90 * time.Minute
	c.AccessTTL = 2 * time.Hour
	assert.EqualError(t, c.Validate(), `config: REFRESH_TTL: want a Go duration of at least the access-token lifetime (2h), got "1h30m"`)
}

// Secrets never print, whatever the verb or the logger.
func TestSecretRedacted(t *testing.T) {
	c := config.Default()
	c.JWTSecret = secret32
	c.AdminPassword = "admin-password"
	c.RedisURL = "redis://:redis-pw@h:6379"
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v %s %q %x", c, c, c, c.JWTSecret, c.AdminPassword, c.RedisURL)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("cfg", "config", c, "secret", c.JWTSecret)
	slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", "secret", c.JWTSecret, "pw", c.AdminPassword)
	out := b.String()
	for _, s := range []string{secret32, "admin-password", "redis-pw"} {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, out, "[REDACTED]")
	assert.Equal(t, "", config.Secret("").String())
}

func TestErrorTypes(t *testing.T) {
	cause := errors.New("cause\nsecond line")
	e := &config.VarError{Var: "X", Want: "y", Got: strings.Repeat("z", 100), Err: cause}
	assert.ErrorIs(t, e, config.ErrInvalid)
	assert.ErrorIs(t, e, cause)
	assert.NotContains(t, e.Error(), "\n")
	assert.Less(t, len(e.Error()), 140, "long values are clipped")
	le := &config.LineError{File: ".env", Line: 3, Why: "bad"}
	assert.ErrorIs(t, le, config.ErrInvalid)
	assert.Equal(t, "config: .env line 3: bad", le.Error())
}

func TestNilLookup(t *testing.T) {
	_, err := config.FromLookup(nil)
	assert.ErrorIs(t, err, config.ErrInvalid)
}
