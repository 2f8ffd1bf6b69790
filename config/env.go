package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// DotEnvFile is the file [FromEnv] reads beside the process environment,
// relative to the working directory.
const DotEnvFile = ".env"

// secretVars are never quoted in errors; JWT_SECRET (and JWT_SECRET_KEY) and ADMIN_PASSWORD are
// used as written (not trimmed), REDIS_URL and DATABASE_URL are trimmed like other URLs.
var secretVars = map[string]bool{"JWT_SECRET": true, "JWT_SECRET_KEY": true, "ADMIN_PASSWORD": true, "REDIS_URL": true, "DATABASE_URL": true,
	"JWT_KEY_ENCRYPTION_KEY": true, "JWT_PREVIOUS_SECRETS": true}

// FromEnv returns the configuration of the process environment and of the
// file .env in the working directory, if there is one (see [ParseDotEnv]:
// its rules apply to the lines of variables gatekeep reads; other lines,
// an application's own, are skipped if they break them).
// A variable set to a non-empty value in the process environment wins
// over the file. It returns the first bad value as a [*VarError], or a bad
// line of .env as a [*LineError]; both match [ErrInvalid].
//
// A variable set in either that gatekeep does not read but that looks
// like one it does (JWT_SECERT, AUTH_STOR, ACCES_TTL: at most two edits
// from a name it reads, the same name in another case, or a JWT_ or AUTH_
// name) gets a warning naming the likely intended one ([Config.Notes],
// logged by [Build]); OIDC_ names are left alone.
func FromEnv() (Config, error) {
	file, err := readDotEnv(DotEnvFile)
	if err != nil {
		return Config{}, err
	}
	c, err := FromLookup(func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	})
	if err != nil {
		return c, err
	}
	names := environNames()
	for k := range file {
		names = append(names, k)
	}
	c.notes = append(c.notes, unknownVarNotes(names, knownVars())...)
	return c, nil
}

func readDotEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &VarError{Var: path, Want: "a readable file (or none)", Err: err}
	}
	defer f.Close()
	known := knownVars()
	return parseDotEnv(f, path, func(k string) bool { return known[k] })
}

// FromLookup is [FromEnv] over lookup instead of the process environment
// and .env: lookup returns a variable's value and whether it is set (as
// os.LookupEnv does). A variable set to "" counts as unset and takes its
// default. Values are trimmed of surrounding white space, except
// JWT_SECRET and ADMIN_PASSWORD, which are used exactly as given.
//
// It parses each variable and then validates the whole, as
// [Config.Validate] does.
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	if lookup == nil {
		return Config{}, &VarError{Var: "lookup", Want: "a non-nil function"}
	}
	// This function is the one place that names the variables: every name
	// it asks lookup for is one gatekeep reads (knownVars, for the
	// unknown-variable warnings and .env), so each is asked for whatever
	// the others hold.
	p := parser{lookup: lookup, raw: map[string]string{}}
	c := Default()

	p.str("ADDR", &c.Addr)
	if v, ok := p.get("JWT_SECRET"); ok {
		c.JWTSecret = Secret(v)
	}
	// JWT_SECRET_KEY is the name some express guides use.
	if v, ok := p.get("JWT_SECRET_KEY"); ok {
		if c.JWTSecret == "" {
			c.JWTSecret = Secret(v)
			p.secretFrom = "JWT_SECRET_KEY"
			c.note(slog.LevelInfo, "config: JWT_SECRET_KEY is read as JWT_SECRET (which is unset); rename it to JWT_SECRET to silence this note")
		} else {
			c.note(slog.LevelWarn, "config: JWT_SECRET_KEY is ignored: JWT_SECRET is set and wins")
		}
	}
	if v, ok := p.get("JWT_ALG"); ok {
		c.JWTAlg = token.Algorithm(v)
	}
	p.str("JWT_PRIVATE_KEY_FILE", &c.JWTPrivateKeyFile)
	p.duration("JWT_ROTATE_EVERY", &c.JWTRotateEvery)
	p.duration("JWT_KEY_PREPUBLISH", &c.JWTKeyPrepublish)
	if v, ok := p.get("JWT_KEY_ENCRYPTION_KEY"); ok {
		c.JWTKeyEncryptionKey = Secret(strings.TrimSpace(v))
	}
	p.secrets("JWT_PREVIOUS_SECRETS", &c.JWTPreviousSecrets)
	p.list("JWT_PREVIOUS_KEY_FILES", &c.JWTPreviousKeyFiles)
	p.expiry("JWT_EXPIRY", &c.AccessTTL)
	p.duration("ACCESS_TTL", &c.AccessTTL) // after JWT_EXPIRY: it wins
	p.duration("REFRESH_TTL", &c.RefreshTTL)
	p.duration("SESSION_MAX_AGE", &c.SessionMaxAge)
	p.duration("JWT_LEEWAY", &c.Leeway)
	p.duration("REFRESH_REUSE_GRACE", &c.RefreshReuseGrace)
	p.str("JWT_ISSUER", &c.Issuer)
	p.str("JWT_AUDIENCE", &c.Audience)
	storeSet := false
	if v, ok := p.get("AUTH_STORE"); ok {
		c.Store, storeSet = StoreKind(v), true
	}
	p.str("BOLT_PATH", &c.BoltPath)
	if v, ok := p.get("REDIS_URL"); ok {
		c.RedisURL = Secret(strings.TrimSpace(v))
	}
	p.str("REDIS_PREFIX", &c.RedisPrefix)
	if v, ok := p.get("DATABASE_URL"); ok {
		c.DatabaseURL = Secret(strings.TrimSpace(v))
	}
	p.selectStore(&c, storeSet)
	p.str("POSTGRES_SCHEMA", &c.PostgresSchema)
	p.duration("REVOCATION_MAX_LAG", &c.RevocationMaxLag)
	p.integer("LOGIN_MAX_FAILURES", &c.LoginMaxFailures)
	p.duration("LOGIN_WINDOW", &c.LoginWindow)
	p.integer("MAX_SESSIONS_PER_USER", &c.MaxSessionsPerUser)
	p.integer("PASSWORD_HASH_CONCURRENCY", &c.PasswordHashConcurrency)
	p.integer("FORGOT_MAX_PER_IP", &c.ForgotMaxPerIP)
	p.integer("FORGOT_MAX_TOTAL", &c.ForgotMaxTotal)
	p.duration("FORGOT_WINDOW", &c.ForgotWindow)
	p.integer("REGISTER_MAX_PER_IP", &c.RegisterMaxPerIP)
	p.integer("REGISTER_MAX_TOTAL", &c.RegisterMaxTotal)
	p.duration("REGISTER_WINDOW", &c.RegisterWindow)
	p.prefixes("TRUSTED_PROXIES", &c.TrustedProxies)
	if v, ok := p.get("PASSWORD_HASH"); ok {
		c.PasswordHash = HashKind(v)
	}
	p.str("ADMIN_USERNAME", &c.AdminUsername)
	if v, ok := p.get("ADMIN_PASSWORD"); ok {
		c.AdminPassword = Secret(v)
	}
	p.str("MAIL_DIR", &c.MailDir)
	p.str("RESET_URL", &c.ResetURL)
	p.boolean("COOKIE_MODE", &c.CookieMode)
	p.boolean("COOKIE_INSECURE", &c.CookieInsecure)
	p.boolean("JWT_ACCEPT_LEGACY", &c.AcceptLegacy)
	p.str("JWKS_URL", &c.JWKSURL)
	var oidcNames string
	p.str("OIDC_PROVIDERS", &oidcNames)
	p.oidcProviders(oidcNames, &c.OIDCProviders) // OIDC_<NAME>_*: config/oidc.go
	p.str("OIDC_SUCCESS_URL", &c.OIDCSuccessURL)
	p.boolean("OIDC_LINK_BY_VERIFIED_EMAIL", &c.OIDCLinkByVerifiedEmail)
	p.str("OIDC_ERROR_URL", &c.OIDCErrorURL)
	p.str("TOTP_ISSUER", &c.TOTPIssuer)

	if p.err != nil {
		return Config{}, p.err
	}
	if err := c.validate(p.raw); err != nil {
		var ve *VarError
		if p.secretFrom != "" && errors.As(err, &ve) && ve.Var == "JWT_SECRET" {
			ve.Var = p.secretFrom + " (read as JWT_SECRET)"
		}
		return Config{}, err
	}
	return c, nil
}

// parser reads variables, keeping the first error and the raw text of
// each non-secret value for validation messages.
type parser struct {
	lookup func(string) (string, bool)
	raw    map[string]string
	err    error
	// secretFrom is the variable the JWT secret came from when it is not
	// JWT_SECRET, for errors about it.
	secretFrom string
}

func (p *parser) get(name string) (string, bool) {
	v, ok := p.lookup(name)
	if !secretVars[name] {
		v = strings.TrimSpace(v)
	}
	if !ok || v == "" {
		return "", false
	}
	if !secretVars[name] {
		p.raw[name] = v
	}
	return v, true
}

// isSet reports whether name has a non-empty value (as get would),
// without recording it.
func (p *parser) isSet(name string) bool {
	v, ok := p.lookup(name)
	return ok && strings.TrimSpace(v) != ""
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *parser) str(name string, dst *string) {
	if v, ok := p.get(name); ok {
		*dst = v
	}
}

func (p *parser) duration(name string, dst *time.Duration) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(varErr(name, `a Go duration such as "30s", "15m" or "168h"`, v))
		return
	}
	*dst = d
}

// expiry reads JWT_EXPIRY: seconds, or a span as jsonwebtoken's expiresIn
// takes it ([parseExpiry]).
func (p *parser) expiry(name string, dst *time.Duration) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	d, ok := parseExpiry(v)
	if !ok {
		p.fail(varErr(name, expiryWant, v))
		return
	}
	*dst = d
}

func (p *parser) integer(name string, dst *int) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		p.fail(varErr(name, "a whole number above 0", v))
		return
	}
	*dst = n
}

// boolean accepts true, false, 1 and 0 only: "yes" or "TRUE" are more
// likely a mistake than a wish.
func (p *parser) boolean(name string, dst *bool) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	switch v {
	case "true", "1":
		*dst = true
	case "false", "0":
		*dst = false
	default:
		p.fail(varErr(name, "true, false, 1 or 0", v))
	}
}

// prefixes reads comma-separated CIDRs; a bare address is a single host.
func (p *parser) prefixes(name string, dst *[]netip.Prefix) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var out []netip.Prefix
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil || addr.Zone() != "" {
				p.fail(varErr(name, `comma-separated CIDRs such as "10.0.0.0/8,192.168.1.7"`, part))
				return
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, pfx.Masked())
	}
	*dst = out
}
