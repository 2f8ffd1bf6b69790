package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/redact"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
)

// StoreKind names a store backend (AUTH_STORE).
type StoreKind string

// The store backends.
const (
	StoreMemory StoreKind = "memory" // in-process; state ends with the process
	StoreBolt   StoreKind = "bolt"   // one bbolt file (BOLT_PATH); one process
	StoreRedis  StoreKind = "redis"  // Redis node, Sentinel or Cluster (REDIS_URL); many processes
	// StorePostgres is a PostgreSQL database (DATABASE_URL, POSTGRES_SCHEMA); many processes.
	StorePostgres StoreKind = "postgres"
)

// HashKind names a password hasher (PASSWORD_HASH).
type HashKind string

// The password hashers.
const (
	HashArgon2id HashKind = "argon2id" // m=19456 KiB, t=2, p=1 (OWASP)
	HashBcrypt   HashKind = "bcrypt"   // cost 12; passwords of at most 72 bytes
)

// BcryptCost is the cost of the bcrypt hasher PASSWORD_HASH=bcrypt selects.
const BcryptCost = 12

// HMACKeyID is the kid of the key made from JWT_SECRET. It is fixed, not
// derived from the secret, so that a peer signing with the same secret
// (Node's jsonwebtoken with keyid: "default", say) can name it.
const HMACKeyID = "default"

// Limits checked by [Config.Validate].
const (
	MaxAccessTTL         = auth.MaxAccessTTL         // 24h
	MaxLeeway            = auth.MaxLeeway            // 5m
	MaxRefreshReuseGrace = auth.MaxRefreshReuseGrace // 60s
	// MinRevocationMaxLag and MaxRevocationMaxLag bound REVOCATION_MAX_LAG
	// (0 aside, which turns the local view off).
	MinRevocationMaxLag = 10 * time.Millisecond
	MaxRevocationMaxLag = 60 * time.Second
	MinSecretLen        = 32 // bytes, for HS256; HS384 and HS512 need 48 and 64
)

// Secret is a string that never prints: fmt, log/slog and encoding/json
// show "[REDACTED]" (or "" when it is empty). Convert it with string(s)
// where the value itself is needed. It is gatekeep's one redaction type,
// the same the auth handlers decode passwords and tokens into.
type Secret = redact.Secret

// Config is everything a gatekeep stack is built from: one field per
// variable of the configuration table of the HTTP API. [FromEnv] fills it
// from the environment, [Default] gives the defaults, and a program may
// build one in Go; [Build] validates it and builds the stack.
type Config struct {
	// Addr is the listen address (ADDR). Default "127.0.0.1:8080".
	Addr string

	// JWTSecret is the HMAC key, used as its raw bytes, at least 32 bytes
	// (48 for HS384, 64 for HS512) (JWT_SECRET; JWT_SECRET_KEY, the name
	// some express guides use, is read when JWT_SECRET is unset, with a
	// note at start). Default unset: a random
	// key per start, with a warning; tokens then die with the process and
	// no other instance accepts them. Set only with an HS* JWTAlg.
	JWTSecret Secret
	// JWTAlg is the signing algorithm (JWT_ALG): HS256, HS384, HS512,
	// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or
	// EdDSA. Default HS256.
	JWTAlg token.Algorithm
	// JWTPrivateKeyFile is the PEM file of the private key for an
	// asymmetric JWTAlg (JWT_PRIVATE_KEY_FILE): PKCS#8, PKCS#1 for RSA
	// (at least 2048 bits), SEC1 for EC. Its kid is the key's RFC 7638
	// thumbprint. Default unset: a key generated per start, with a warning.
	JWTPrivateKeyFile string

	// AccessTTL is the access-token lifetime (ACCESS_TTL as a Go duration,
	// or JWT_EXPIRY as jsonwebtoken's expiresIn takes it: seconds such as
	// 900, or a span such as "15m", "1h" or "2 days", in whole seconds;
	// ACCESS_TTL wins when both are set).
	// Default 15m, at most 24h.
	AccessTTL time.Duration
	// RefreshTTL is the refresh-token lifetime and a session's idle
	// timeout (REFRESH_TTL). Default 168h; at least AccessTTL.
	RefreshTTL time.Duration
	// SessionMaxAge is the absolute lifetime of a login (SESSION_MAX_AGE).
	// Default 720h; at least AccessTTL.
	SessionMaxAge time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat (JWT_LEEWAY).
	// Default 30s, at most 5m.
	Leeway time.Duration
	// RefreshReuseGrace is how long the previous refresh token of a
	// session may be presented again without ending it
	// (REFRESH_REUSE_GRACE). Default 0s, at most 60s.
	RefreshReuseGrace time.Duration

	// Issuer is the iss put in and required of every token (JWT_ISSUER).
	// Default "gatekeep".
	Issuer string
	// Audience is the aud put in and required of every token
	// (JWT_AUDIENCE). Default "gatekeep".
	Audience string
	// TOTPIssuer is the name authenticator apps show beside the account
	// (TOTP_ISSUER). Default unset: the JWT_ISSUER.
	TOTPIssuer string

	// Store selects the backend (AUTH_STORE): memory, bolt, redis or
	// postgres. Default memory; when AUTH_STORE is unset, REDIS_URL alone
	// selects redis, BOLT_PATH alone bolt and DATABASE_URL alone postgres
	// (with a note at start), and two of them are an error naming both.
	Store StoreKind
	// BoltPath is the bbolt file when Store is bolt (BOLT_PATH). Default
	// "gatekeep.db".
	BoltPath string
	// RedisURL names the Redis when Store is redis (REDIS_URL):
	// redis://[user:password@]host:port[/db], rediss:// for TLS, a
	// comma-separated list of host:port for a Cluster, or
	// redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db]
	// for the master that Redis Sentinels know by that name (rediss+sentinel://
	// for TLS; ?sentinel_password=... when the Sentinels need one). It is a
	// Secret because it may hold a password. Default
	// "redis://127.0.0.1:6379/0".
	RedisURL Secret
	// RedisPrefix is the prefix of every key and channel in Redis
	// (REDIS_PREFIX), so that deployments or test runs share one Redis:
	// 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'. Default
	// "gatekeep". [WithRedisOptions] with redis.WithPrefix wins over it.
	RedisPrefix string
	// DatabaseURL names the PostgreSQL database when Store is postgres
	// (DATABASE_URL): postgres://[user[:password]@]host[:port]/database[?options]
	// or a key=value connection string, as libpq takes them. It is a Secret
	// because it may hold a password. Default unset; required for postgres.
	DatabaseURL Secret
	// PostgresSchema is the schema that holds gatekeep's tables when Store
	// is postgres (POSTGRES_SCHEMA): 1 to 48 characters from a-z, 0-9 and
	// '_', not starting with a digit. Default "gatekeep".
	PostgresSchema string
	// RevocationMaxLag bounds how late a revocation made on another
	// instance can be seen here when AUTH_STORE is redis or postgres
	// (REVOCATION_MAX_LAG): each instance keeps a local view of
	// revocations, trusted only while its own ping on the revocation
	// channel came back within this bound, and asks the store otherwise.
	// Default 250ms; 0 turns the local view off, so every check asks the
	// store (one round trip per request). At least 10ms, at most 60s.
	RevocationMaxLag time.Duration

	// LoginMaxFailures is how many failed logins an account may have from
	// one client IP in LoginWindow before 429 for that client; a client IP
	// may have ten times as many over all accounts; past three times it
	// from all clients the account is slowed, never refused
	// (LOGIN_MAX_FAILURES). Default 10; at least 1.
	LoginMaxFailures int
	// LoginWindow is the throttling window (LOGIN_WINDOW). Default 15m.
	LoginWindow time.Duration
	// MaxSessionsPerUser is how many live sessions one user may have; a
	// login beyond it ends the oldest (MAX_SESSIONS_PER_USER). Default 100;
	// at least 1.
	MaxSessionsPerUser int
	// PasswordHashConcurrency is how many password hashes may run at once
	// (PASSWORD_HASH_CONCURRENCY); beyond it up to 64 requests wait at
	// most 5s, then get 503 with Retry-After. Default 0: half the cores,
	// at least 1 (auth.DefaultHashConcurrency), so that a flood of wrong
	// passwords leaves the other half to verified requests.
	PasswordHashConcurrency int
	// ForgotMaxPerIP is how many forgot-password requests one client IP
	// may make in ForgotWindow before 429, in front of the per-name limit
	// (FORGOT_MAX_PER_IP). Default 20; at least 1.
	ForgotMaxPerIP int
	// ForgotMaxTotal is how many forgot-password requests everyone
	// together may make in ForgotWindow (FORGOT_MAX_TOTAL). Default 1000;
	// at least 1.
	ForgotMaxTotal int
	// ForgotWindow is their window (FORGOT_WINDOW). Default 15m.
	ForgotWindow time.Duration
	// RegisterMaxPerIP is how many registrations one client IP may make in
	// RegisterWindow before 429 (REGISTER_MAX_PER_IP). Default 20; at least 1.
	RegisterMaxPerIP int
	// RegisterMaxTotal is how many registrations everyone together may
	// make in RegisterWindow (REGISTER_MAX_TOTAL). Default 1000; at least 1.
	RegisterMaxTotal int
	// RegisterWindow is the registration throttling window
	// (REGISTER_WINDOW). Default 15m.
	RegisterWindow time.Duration
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES, comma-separated; a bare address is one host).
	// Default none: the client IP is the connection's.
	TrustedProxies []netip.Prefix
	// PasswordHash selects the hasher for new hashes (PASSWORD_HASH):
	// argon2id or bcrypt. Default argon2id. Hashes of the other kind still
	// verify and are replaced at the next login.
	PasswordHash HashKind

	// AdminUsername and AdminPassword, when both are set, make [Build]
	// create that user with role "admin" if no user has that username
	// (ADMIN_USERNAME, ADMIN_PASSWORD). Default unset; setting only one is
	// an error. An existing user is left as it is, password included.
	AdminUsername string
	AdminPassword Secret

	// MailDir is the folder where the development mailer writes each
	// outgoing message, one file per message (MAIL_DIR). Default unset:
	// messages go to stdout with a warning. Build creates the folder (0700).
	MailDir string
	// ResetURL is the page a password-reset message links to; the token is
	// appended as "#token=..." (RESET_URL). Default
	// http://<ADDR>/reset-password, with localhost for an unspecified host.
	// The link never comes from a request's Host header.
	ResetURL string
	// CookieMode also sets tokens as cookies and accepts them from cookies
	// (COOKIE_MODE), with cross-origin unsafe requests refused. Default
	// false.
	CookieMode bool
	// CookieInsecure drops the Secure attribute of the cookies, for plain
	// http during local development only (COOKIE_INSECURE). Default false.
	CookieInsecure bool

	// AcceptLegacy also accepts access tokens in the shape a Node express
	// application signed them with jsonwebtoken and the same key
	// (JWT_ACCEPT_LEGACY), for the time a migration takes: header typ JWT
	// or none, no sid, sub or id as the user id, a boolean admin claim
	// giving role admin, at most 24h long. They are never refreshed, are
	// checked against the user's valid-after time and are named in the
	// audit log (auth.legacy_token); see [auth.WithLegacyTokens]. Default
	// false; true starts with a warning. Refused by [BuildGate].
	AcceptLegacy bool

	// JWKSURL is the issuing service's JWK Set
	// (http(s)://issuer/.well-known/jwks.json) that a verify-only service
	// ([BuildGate]) reads its keys from (JWKS_URL): https, or http to a
	// loopback address. Default unset; required by BuildGate, ignored by
	// Build.
	JWKSURL string

	// OIDCProviders are the providers users may sign in with
	// (OIDC_PROVIDERS, comma-separated names, each configured by
	// OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _REDIRECT_URL and
	// _SCOPES; see [OIDCProvider]). Default none: no provider sign-in.
	OIDCProviders []OIDCProvider
	// OIDCSuccessURL is where the browser goes after a provider sign-in
	// (OIDC_SUCCESS_URL): with the session cookies in cookie mode, else
	// with "#code=<one-time code>" for POST /auth/oidc/exchange. Required
	// with OIDC_PROVIDERS.
	OIDCSuccessURL string
	// OIDCLinkByVerifiedEmail lets a first provider sign-in whose email
	// the provider marks verified join the one existing user with exactly
	// that email instead of creating a user
	// (OIDC_LINK_BY_VERIFIED_EMAIL, default false; see
	// [oidc.WithLinkByVerifiedEmail] for its hazard).
	OIDCLinkByVerifiedEmail bool
	// OIDCErrorURL, when set, is where a failed provider callback sends
	// the browser, with "?error=<code>" (OIDC_ERROR_URL); unset, the
	// callback answers failures in JSON.
	OIDCErrorURL string
	// KeyRotation holds JWT_ROTATE_EVERY and the other key-rotation
	// variables (config/keys.go).
	KeyRotation

	// notes are what reading the variables had to say; Build logs them.
	notes []note
}

// Default returns the configuration of an empty environment.
func Default() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		JWTAlg:             token.HS256,
		AccessTTL:          auth.DefaultAccessTTL,
		RefreshTTL:         auth.DefaultRefreshTTL,
		SessionMaxAge:      auth.DefaultSessionMaxAge,
		Leeway:             auth.DefaultLeeway,
		Issuer:             "gatekeep",
		Audience:           "gatekeep",
		Store:              StoreMemory,
		BoltPath:           "gatekeep.db",
		RedisURL:           "redis://127.0.0.1:6379/0",
		RedisPrefix:        "gatekeep",
		PostgresSchema:     "gatekeep",
		RevocationMaxLag:   redis.DefaultViewMaxLag,
		LoginMaxFailures:   auth.DefaultMaxFailures,
		LoginWindow:        auth.DefaultLoginWindow,
		MaxSessionsPerUser: auth.DefaultMaxSessionsPerUser,
		ForgotMaxPerIP:     auth.DefaultForgotPasswordLimit.PerIP,
		ForgotMaxTotal:     auth.DefaultForgotPasswordLimit.Total,
		ForgotWindow:       auth.DefaultForgotPasswordLimit.Window,
		RegisterMaxPerIP:   auth.DefaultRegisterLimit.PerIP,
		RegisterMaxTotal:   auth.DefaultRegisterLimit.Total,
		RegisterWindow:     auth.DefaultRegisterLimit.Window,
		PasswordHash:       HashArgon2id,
	}
}

// algorithms are the values JWT_ALG accepts, in the order the error lists
// them: every algorithm the token package supports.
var algorithms = token.Algorithms()

// hmacMin is the shortest secret of each HMAC algorithm (RFC 7518 §3.2).
var hmacMin = map[token.Algorithm]int{token.HS256: 32, token.HS384: 48, token.HS512: 64}

func isHMAC(a token.Algorithm) bool { _, ok := hmacMin[a]; return ok }

// Validate checks every field against the limits of the configuration
// table and returns the first violation as a [*VarError] naming the
// variable. [Build] calls it.
func (c *Config) Validate() error { return c.validate(nil) }

// validate checks c; raw holds the text each variable was parsed from, so
// errors quote what the user wrote ("10m", not "10m0s").
func (c *Config) validate(raw map[string]string) error {
	got := func(name, formatted string) string {
		if r, ok := raw[name]; ok {
			return r
		}
		return formatted
	}
	dur := func(name string, d time.Duration) string { return got(name, fmtDuration(d)) }

	if host, port, err := net.SplitHostPort(c.Addr); err != nil || !validPort(port) || strings.ContainsAny(host, " \t") {
		return varErr("ADDR", "host:port, such as 127.0.0.1:8080 or :8080", got("ADDR", c.Addr))
	}

	okAlg := false
	for _, a := range algorithms {
		okAlg = okAlg || a == c.JWTAlg
	}
	if !okAlg {
		names := make([]string, len(algorithms))
		for i, a := range algorithms {
			names[i] = string(a)
		}
		return varErr("JWT_ALG", "one of "+strings.Join(names, ", "), got("JWT_ALG", string(c.JWTAlg)))
	}
	if isHMAC(c.JWTAlg) {
		if c.JWTSecret != "" && len(c.JWTSecret) < hmacMin[c.JWTAlg] {
			// Never the secret, nor its length.
			return varErr("JWT_SECRET", fmt.Sprintf("at least %d bytes for %s (used as raw bytes)", hmacMin[c.JWTAlg], c.JWTAlg), "")
		}
		if c.JWTPrivateKeyFile != "" {
			return varErr("JWT_PRIVATE_KEY_FILE", fmt.Sprintf("it unset when JWT_ALG is %s: HMAC keys come from JWT_SECRET", c.JWTAlg), "")
		}
	} else if c.JWTSecret != "" {
		return varErr("JWT_SECRET", fmt.Sprintf("it unset when JWT_ALG is %s: asymmetric keys come from JWT_PRIVATE_KEY_FILE", c.JWTAlg), "")
	}

	switch {
	case c.AccessTTL <= 0 || c.AccessTTL > MaxAccessTTL:
		return varErr("ACCESS_TTL", "a Go duration above 0 and at most 24h", dur("ACCESS_TTL", c.AccessTTL))
	case c.RefreshTTL < c.AccessTTL:
		return varErr("REFRESH_TTL", "a Go duration of at least the access-token lifetime ("+fmtDuration(c.AccessTTL)+")", dur("REFRESH_TTL", c.RefreshTTL))
	case c.SessionMaxAge < c.AccessTTL:
		return varErr("SESSION_MAX_AGE", "a Go duration of at least the access-token lifetime ("+fmtDuration(c.AccessTTL)+")", dur("SESSION_MAX_AGE", c.SessionMaxAge))
	case c.Leeway < 0:
		return varErr("JWT_LEEWAY", "a Go duration of at least 0s", dur("JWT_LEEWAY", c.Leeway))
	case c.Leeway > MaxLeeway:
		return varErr("JWT_LEEWAY", "a Go duration of at most 5m", dur("JWT_LEEWAY", c.Leeway))
	case c.RefreshReuseGrace < 0:
		return varErr("REFRESH_REUSE_GRACE", "a Go duration of at least 0s", dur("REFRESH_REUSE_GRACE", c.RefreshReuseGrace))
	case c.RefreshReuseGrace > MaxRefreshReuseGrace:
		return varErr("REFRESH_REUSE_GRACE", "a Go duration of at most 60s", dur("REFRESH_REUSE_GRACE", c.RefreshReuseGrace))
	case c.Issuer == "":
		return varErr("JWT_ISSUER", "a non-empty string", "")
	case c.Audience == "":
		return varErr("JWT_AUDIENCE", "a non-empty string", "")
	}

	switch c.Store {
	case StoreMemory:
	case StoreBolt:
		if c.BoltPath == "" {
			return varErr("BOLT_PATH", "a file path when AUTH_STORE is bolt", "")
		}
	case StoreRedis:
		if err := checkRedisURL(string(c.RedisURL)); err != nil {
			return err
		}
		if !validRedisPrefix(c.RedisPrefix) {
			return varErr("REDIS_PREFIX", "1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'", got("REDIS_PREFIX", c.RedisPrefix))
		}
	case StorePostgres:
		if err := checkPostgres(string(c.DatabaseURL), c.PostgresSchema, got("POSTGRES_SCHEMA", c.PostgresSchema)); err != nil {
			return err
		}
	default:
		return varErr("AUTH_STORE", "memory, bolt, redis or postgres", got("AUTH_STORE", string(c.Store)))
	}
	if c.Store == StoreRedis || c.Store == StorePostgres {
		if l := c.RevocationMaxLag; l != 0 && (l < MinRevocationMaxLag || l > MaxRevocationMaxLag) {
			return varErr("REVOCATION_MAX_LAG", "0 (no local view) or a Go duration from 10ms to 60s", dur("REVOCATION_MAX_LAG", l))
		}
	}

	switch {
	case c.LoginMaxFailures < 1:
		return varErr("LOGIN_MAX_FAILURES", "a whole number above 0", got("LOGIN_MAX_FAILURES", fmt.Sprint(c.LoginMaxFailures)))
	case c.LoginWindow < time.Millisecond:
		return varErr("LOGIN_WINDOW", "a Go duration of at least 1ms", dur("LOGIN_WINDOW", c.LoginWindow))
	case c.PasswordHashConcurrency < 0:
		return varErr("PASSWORD_HASH_CONCURRENCY", "a whole number above 0 (or unset: half the cores)", got("PASSWORD_HASH_CONCURRENCY", fmt.Sprint(c.PasswordHashConcurrency)))
	case c.MaxSessionsPerUser < 1:
		return varErr("MAX_SESSIONS_PER_USER", "a whole number above 0", got("MAX_SESSIONS_PER_USER", fmt.Sprint(c.MaxSessionsPerUser)))
	case c.ForgotMaxPerIP < 1:
		return varErr("FORGOT_MAX_PER_IP", "a whole number above 0", got("FORGOT_MAX_PER_IP", fmt.Sprint(c.ForgotMaxPerIP)))
	case c.ForgotMaxTotal < 1:
		return varErr("FORGOT_MAX_TOTAL", "a whole number above 0", got("FORGOT_MAX_TOTAL", fmt.Sprint(c.ForgotMaxTotal)))
	case c.ForgotWindow < time.Millisecond:
		return varErr("FORGOT_WINDOW", "a Go duration of at least 1ms", dur("FORGOT_WINDOW", c.ForgotWindow))
	case c.RegisterMaxPerIP < 1:
		return varErr("REGISTER_MAX_PER_IP", "a whole number above 0", got("REGISTER_MAX_PER_IP", fmt.Sprint(c.RegisterMaxPerIP)))
	case c.RegisterMaxTotal < 1:
		return varErr("REGISTER_MAX_TOTAL", "a whole number above 0", got("REGISTER_MAX_TOTAL", fmt.Sprint(c.RegisterMaxTotal)))
	case c.RegisterWindow < time.Millisecond:
		return varErr("REGISTER_WINDOW", "a Go duration of at least 1ms", dur("REGISTER_WINDOW", c.RegisterWindow))
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			return varErr("TRUSTED_PROXIES", `comma-separated CIDRs such as "10.0.0.0/8"`, "")
		}
	}

	switch c.PasswordHash {
	case HashArgon2id, HashBcrypt:
	default:
		return varErr("PASSWORD_HASH", "argon2id or bcrypt", got("PASSWORD_HASH", string(c.PasswordHash)))
	}

	if c.ResetURL != "" {
		u, err := url.Parse(c.ResetURL)
		// The same rules as auth.WithPasswordReset's, so that a bad value
		// is reported here, naming the variable.
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" ||
			u.Opaque != "" || len(c.ResetURL) > 2048 {
			return varErr("RESET_URL", "an absolute http(s) URL of at most 2048 bytes without user info or fragment", got("RESET_URL", c.ResetURL))
		}
	}
	if err := c.validateKeys(got); err != nil {
		return err
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	if err := c.validateSecondFactor(); err != nil {
		return err
	}
	return c.validateAdmin()
}

// validPort reports a port number from 0 to 65535 (0: one the system
// picks), digits only: "http" or "99999" would fail only at listen time.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && strings.Trim(p, "0123456789") == ""
}

// resetLink is the base of password-reset links: RESET_URL, or the
// reset page on ADDR.
func (c *Config) resetLink() string {
	if c.ResetURL != "" {
		return c.ResetURL
	}
	host, port, _ := net.SplitHostPort(c.Addr) // validated
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/reset-password"
}

func (c *Config) validateAdmin() error {
	switch {
	case c.AdminUsername == "" && c.AdminPassword == "":
		return nil
	case c.AdminUsername == "":
		return varErr("ADMIN_USERNAME", "it set together with ADMIN_PASSWORD (both or neither)", "")
	case c.AdminPassword == "":
		return varErr("ADMIN_PASSWORD", "it set together with ADMIN_USERNAME (both or neither)", "")
	}
	if _, err := store.CanonicalUsername(c.AdminUsername); err != nil {
		return varErr("ADMIN_USERNAME", "a username that PRECIS UsernameCaseMapped allows (RFC 8265)", "")
	}
	return checkAdminPassword(string(c.AdminPassword), c.PasswordHash)
}

// checkAdminPassword applies the password rules of the HTTP API: 8 to
// 1024 bytes, used whole, and at most 72 for bcrypt, which would ignore
// the rest.
func checkAdminPassword(pw string, kind HashKind) error {
	switch {
	case len(pw) < auth.MinPasswordLen || len(pw) > auth.MaxPasswordLen:
		return varErr("ADMIN_PASSWORD", fmt.Sprintf("%d to %d bytes", auth.MinPasswordLen, auth.MaxPasswordLen), "")
	case kind == HashBcrypt && len(pw) > 72:
		return varErr("ADMIN_PASSWORD", "at most 72 bytes with PASSWORD_HASH=bcrypt", "")
	}
	return nil
}

// checkRedisURL catches what can be caught without store/redis's parser;
// [Build] reports the rest, also naming REDIS_URL. The URL is never quoted:
// it may hold a password.
func checkRedisURL(u string) error {
	const want = "redis://host:port[/db], rediss://host:port[/db], a comma-separated host:port list " +
		"or redis+sentinel://host:port[,host:port...]/master[/db]"
	u = strings.TrimSpace(u)
	if u == "" {
		return varErr("REDIS_URL", want+" when AUTH_STORE is redis", "")
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return nil
	}
	switch scheme {
	case "redis", "rediss":
	case "redis+sentinel", "rediss+sentinel":
		// The master name is what a Sentinel URL is most easily missing.
		rest, _, _ = strings.Cut(rest, "?")
		if _, path, _ := strings.Cut(rest, "/"); path == "" || path[0] == '/' {
			return varErr("REDIS_URL", "a Sentinel URL naming its master: redis+sentinel://host:port[,host:port...]/master[/db]", "")
		}
	default:
		return varErr("REDIS_URL", want, "")
	}
	return nil
}

// validRedisPrefix applies store/redis's rule for WithPrefix, so that a
// bad REDIS_PREFIX is named here.
func validRedisPrefix(p string) bool {
	ok := p != "" && len(p) <= 64
	for _, r := range p {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}
	return ok
}

// checkPostgres catches what can be caught without connecting; [Build]
// reports the rest, also naming the variable. The URL is never quoted: it
// may hold a password.
func checkPostgres(u, schema, gotSchema string) error {
	u = strings.TrimSpace(u)
	if u == "" {
		return varErr("DATABASE_URL", "postgres://[user[:password]@]host[:port]/database when AUTH_STORE is postgres", "")
	}
	if scheme, _, ok := strings.Cut(u, "://"); ok && scheme != "postgres" && scheme != "postgresql" {
		return varErr("DATABASE_URL", "a postgres:// or postgresql:// URL, or a key=value connection string", "")
	}
	ok := schema != "" && len(schema) <= 48
	for i, r := range schema {
		ok = ok && (r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9')
	}
	if !ok {
		return varErr("POSTGRES_SCHEMA", "1 to 48 characters from a-z, 0-9 and _, not starting with a digit", gotSchema)
	}
	return nil
}

// fmtDuration prints d without trailing zero units: 10m, 1h30m, 168h.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
