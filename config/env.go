package config

import (
	"errors"
	"io/fs"
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

// secretVars are never quoted in errors; JWT_SECRET and ADMIN_PASSWORD are
// used as written (not trimmed), REDIS_URL and DATABASE_URL are trimmed like other URLs.
var secretVars = map[string]bool{"JWT_SECRET": true, "ADMIN_PASSWORD": true, "REDIS_URL": true, "DATABASE_URL": true,
	"JWT_KEY_ENCRYPTION_KEY": true}

// FromEnv returns the configuration of the process environment and of the
// file .env in the working directory, if there is one (see [ParseDotEnv]).
// A variable set to a non-empty value in the process environment wins
// over the file. It returns the first bad value as a [*VarError], or a bad
// line of .env as a [*LineError]; both match [ErrInvalid].
func FromEnv() (Config, error) {
	file, err := readDotEnv(DotEnvFile)
	if err != nil {
		return Config{}, err
	}
	return FromLookup(func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	})
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
	return parseDotEnv(f, path)
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
	p := parser{lookup: lookup, raw: map[string]string{}}
	c := Default()

	p.str("ADDR", &c.Addr)
	if v, ok := p.get("JWT_SECRET"); ok {
		c.JWTSecret = Secret(v)
	}
	if v, ok := p.get("JWT_ALG"); ok {
		c.JWTAlg = token.Algorithm(v)
	}
	p.str("JWT_PRIVATE_KEY_FILE", &c.JWTPrivateKeyFile)
	p.seconds("JWT_EXPIRY", &c.AccessTTL)
	p.duration("ACCESS_TTL", &c.AccessTTL) // after JWT_EXPIRY: it wins
	p.duration("REFRESH_TTL", &c.RefreshTTL)
	p.duration("SESSION_MAX_AGE", &c.SessionMaxAge)
	p.duration("JWT_LEEWAY", &c.Leeway)
	p.duration("REFRESH_REUSE_GRACE", &c.RefreshReuseGrace)
	p.str("JWT_ISSUER", &c.Issuer)
	p.str("JWT_AUDIENCE", &c.Audience)
	if v, ok := p.get("AUTH_STORE"); ok {
		c.Store = StoreKind(v)
	}
	p.str("BOLT_PATH", &c.BoltPath)
	if v, ok := p.get("REDIS_URL"); ok {
		c.RedisURL = Secret(strings.TrimSpace(v))
	}
	if v, ok := p.get("DATABASE_URL"); ok {
		c.DatabaseURL = Secret(strings.TrimSpace(v))
	}
	p.str("POSTGRES_SCHEMA", &c.PostgresSchema)
	p.duration("REVOCATION_MAX_LAG", &c.RevocationMaxLag)
	p.integer("LOGIN_MAX_FAILURES", &c.LoginMaxFailures)
	p.duration("LOGIN_WINDOW", &c.LoginWindow)
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
	p.str("JWKS_URL", &c.JWKSURL)
	if v, ok := p.get("JWT_KEY_ENCRYPTION_KEY"); ok {
		p.kek(&c, v) // config/kek.go
	}
	p.str("TOTP_ISSUER", &c.TOTPIssuer)

	if p.err != nil {
		return Config{}, p.err
	}
	if err := c.validate(p.raw); err != nil {
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

// seconds reads JWT_EXPIRY: whole seconds, as jsonwebtoken's expiresIn
// takes a number.
func (p *parser) seconds(name string, dst *time.Duration) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || time.Duration(n)*time.Second > MaxAccessTTL {
		p.fail(varErr(name, "a whole number of seconds from 1 to 86400 (or set ACCESS_TTL as a Go duration)", v))
		return
	}
	*dst = time.Duration(n) * time.Second
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
