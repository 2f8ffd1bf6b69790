package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/devmail"
	"github.com/gatekeep/gatekeep/oidc"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/postgres"
	"github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

// maxKeyFile bounds JWT_PRIVATE_KEY_FILE; a PEM RSA 8192 key is under 7 KiB.
const maxKeyFile = 1 << 20

// Stack is a built gatekeep: keys, Signer and Verifier, store, hasher and
// Authenticator, configured alike. Close it when done.
type Stack struct {
	// Config is the configuration the stack was built from.
	Config Config
	// Addr is the listen address (ADDR).
	Addr string
	// Auth serves the HTTP API and guards routes.
	Auth *auth.Authenticator
	// Store is the backend AUTH_STORE selected.
	Store store.Store
	// Keys holds the signing key (and verify-only keys, and with
	// JWT_ROTATE_EVERY the ring's next, active and retiring keys); serve
	// it with token.JWKSHandler.
	Keys *token.KeySet
	// Rotator rotates Keys when JWT_ROTATE_EVERY is set; nil otherwise.
	Rotator *rotation.Rotator
	// Signer and Verifier use Keys, the issuer, audience, leeway and clock.
	Signer   *token.JWTSigner
	Verifier *token.JWTVerifier
	// Hasher is the password hasher PASSWORD_HASH selected.
	Hasher auth.Hasher
	// OIDC is provider sign-in (OIDC_PROVIDERS), nil when none is
	// configured; mount its Routes beside Auth's.
	OIDC      *oidc.Service
	closeOnce sync.Once
	closeErr  error
}

// Close closes the Authenticator (waiting for password-reset messages
// being sent), then the store (a bbolt file, Redis connections, janitor
// goroutines). Calling it again returns the first result.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		if s.Rotator != nil {
			_ = s.Rotator.Close() // before the store it reads
		}
		if s.Auth != nil {
			s.closeErr = s.Auth.Close()
		}
		if c, ok := s.Store.(io.Closer); ok {
			s.closeErr = errors.Join(s.closeErr, c.Close())
		}
	})
	return s.closeErr
}

// Build validates cfg ([Config.Validate]) and builds the stack it
// describes:
//
//   - the key: HMAC from JWT_SECRET with kid [HMACKeyID], or the private
//     key in JWT_PRIVATE_KEY_FILE with its RFC 7638 thumbprint as kid; when
//     neither is set, a key generated for this process, with a warning;
//   - verify-only keys from JWT_PREVIOUS_SECRETS or JWT_PREVIOUS_KEY_FILES;
//   - with JWT_ROTATE_EVERY, a rotation.Rotator on the store's key ring
//     (sealed with JWT_KEY_ENCRYPTION_KEY) in place of the one key, which
//     then verifies only (see [KeyRotation]);
//   - a Signer and Verifier with the issuer, audience, leeway and clock;
//   - the store: memory.New, bolt.Open(BOLT_PATH), redis.Open(REDIS_URL)
//     under REDIS_PREFIX followed by a ping, or postgres.Open(DATABASE_URL) in
//     POSTGRES_SCHEMA, which migrates it (an unreachable Redis or database
//     is an error naming REDIS_URL or DATABASE_URL, never a fallback to
//     memory);
//   - the hasher, and auth.New with every option the Config sets, then
//     opts' [WithAuthOptions];
//   - the development mailer for password-reset messages (one file per
//     message in MAIL_DIR, created, or stdout), linking to RESET_URL;
//   - cookie mode when COOKIE_MODE is set (COOKIE_INSECURE drops Secure);
//   - legacy express tokens signed with the key when JWT_ACCEPT_LEGACY is
//     set, with a warning;
//   - provider sign-in ([Stack.OIDC]) when OIDC_PROVIDERS is set;
//   - the admin user bootstrapped ([BootstrapAdmin]).
//
// Every error names the variable at fault and matches [ErrInvalid]; it
// never holds a secret. On error nothing stays open. An unreachable Redis
// is one line with the cause go-redis met ("connect: connection refused",
// "no such host"): the first Build that opens a Redis replaces go-redis's
// package logger (goredis.SetLogger), so that its lines are part of that
// error rather than printed to stderr; after a start they go to the
// logger (WithLogger) at Warn.
func Build(ctx context.Context, cfg Config, opts ...BuildOption) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bc := newBuildConfig(opts)
	log := bc.logger
	cfg.logNotes(ctx, log)

	keys, err := buildKeys(cfg, log)
	if err != nil {
		return nil, err
	}

	legacy, err := legacyOption(cfg, keys.current, tokenOptions(cfg, bc), log)
	if err != nil {
		return nil, err
	}

	hasher, err := buildHasher(cfg.PasswordHash)
	if err != nil {
		return nil, err
	}

	st, err := openStore(ctx, cfg, bc)
	if err != nil {
		return nil, err
	}
	s := &Stack{Config: cfg, Addr: cfg.Addr, Store: st, Hasher: hasher}
	fail := func(err error) (*Stack, error) {
		_ = s.Close()
		return nil, err
	}
	if err := s.buildTokens(ctx, cfg, bc, keys); err != nil {
		return fail(err)
	}

	aopts := []auth.Option{
		auth.WithAccessTTL(cfg.AccessTTL),
		auth.WithRefreshTTL(cfg.RefreshTTL),
		auth.WithSessionMaxAge(cfg.SessionMaxAge),
		auth.WithLeeway(cfg.Leeway),
		auth.WithIssuer(cfg.Issuer),
		auth.WithAudience(cfg.Audience),
		auth.WithHasher(hasher),
		auth.WithLoginThrottle(cfg.LoginMaxFailures, cfg.LoginWindow),
		auth.WithForgotPasswordLimit(auth.RateLimit{PerIP: cfg.ForgotMaxPerIP, Total: cfg.ForgotMaxTotal, Window: cfg.ForgotWindow}),
		auth.WithMaxSessionsPerUser(cfg.MaxSessionsPerUser),
		auth.WithMaxConcurrentHashes(cmp.Or(cfg.PasswordHashConcurrency, auth.DefaultHashConcurrency()), auth.DefaultHashWait),
		auth.WithRegisterLimit(auth.RateLimit{PerIP: cfg.RegisterMaxPerIP, Total: cfg.RegisterMaxTotal, Window: cfg.RegisterWindow}),
		auth.WithTrustedProxies(cfg.TrustedProxies),
		auth.WithRefreshReuseGrace(cfg.RefreshReuseGrace),
		auth.WithLogger(log),
	}
	if legacy != nil {
		aopts = append(aopts, legacy)
	}
	if bc.now != nil {
		aopts = append(aopts, auth.WithClock(bc.now))
	}
	if cfg.MailDir != "" {
		if err := os.MkdirAll(cfg.MailDir, 0o700); err != nil {
			return fail(&VarError{Var: "MAIL_DIR", Want: "a folder that exists or can be created", Err: err})
		}
	} else {
		log.Warn("config: MAIL_DIR is unset: password-reset messages are printed to stdout (development only)")
	}
	mailer, err := devmail.New(cfg.MailDir, nil) // nil: stdout
	if err != nil {
		return fail(&VarError{Var: "MAIL_DIR", Want: "a folder the development mailer can write to", Err: err})
	}
	aopts = append(aopts, auth.WithPasswordReset(mailer, cfg.resetLink()))
	for _, p := range cfg.TrustedProxies {
		if wideProxyRange(p) {
			log.Warn("config: TRUSTED_PROXIES holds a range wider than a /8 (IPv4) or /32 (IPv6): any client in it can set X-Forwarded-For and choose the address that per-IP login throttling counts; list only your proxies' addresses",
				slog.String("range", p.String()))
		}
	}
	for _, o := range cookieOptions(cfg, log) {
		aopts = append(aopts, o)
	}
	aopts = append(aopts, cfg.secondFactorOptions(log)...)
	aopts = append(aopts, bc.authOpts...)
	if s.Auth, err = auth.New(s.Signer, s.Verifier, st, aopts...); err != nil {
		return fail(&VarError{Var: "auth options", Want: "options auth.New accepts", Err: err})
	}

	if s.OIDC, err = buildOIDC(cfg, s.Auth, st, bc); err != nil {
		return fail(err)
	}

	if cfg.AdminUsername != "" {
		u, created, err := BootstrapAdmin(ctx, s.Auth, cfg.AdminUsername, string(cfg.AdminPassword))
		if err != nil {
			return fail(err)
		}
		switch {
		case created:
			log.Info("config: created the admin user", slog.String("username", u.Username), slog.String("role", AdminRole))
		case !hasRole(u, AdminRole):
			log.Warn("config: ADMIN_USERNAME names an existing user without role admin; left unchanged", slog.String("username", u.Username))
		}
	}
	return s, nil
}

func buildKey(cfg Config, log *slog.Logger) (*token.Key, error) {
	switch {
	case isHMAC(cfg.JWTAlg) && cfg.JWTSecret != "":
		k, err := token.NewHMACKey(cfg.JWTAlg, HMACKeyID, []byte(cfg.JWTSecret))
		if err != nil {
			// token's errors state lengths, never the secret.
			return nil, &VarError{Var: "JWT_SECRET", Want: fmt.Sprintf("a usable %s secret", cfg.JWTAlg), Err: err}
		}
		return k, nil
	case cfg.JWTPrivateKeyFile != "":
		pemBytes, err := readLimited(cfg.JWTPrivateKeyFile, maxKeyFile)
		if err != nil {
			return nil, &VarError{Var: "JWT_PRIVATE_KEY_FILE", Want: "a readable PEM file", Err: err}
		}
		k, err := token.ParsePEM(cfg.JWTAlg, "", pemBytes)
		if err != nil {
			return nil, &VarError{Var: "JWT_PRIVATE_KEY_FILE", Want: fmt.Sprintf("a PEM private key for %s (PKCS#8, PKCS#1 for RSA, SEC1 for EC)", cfg.JWTAlg), Err: err}
		}
		if !k.CanSign() {
			return nil, &VarError{Var: "JWT_PRIVATE_KEY_FILE", Want: fmt.Sprintf("a private key for %s, not a public key", cfg.JWTAlg)}
		}
		return k, nil
	}
	k, err := token.GenerateKey(cfg.JWTAlg, "")
	if err != nil {
		return nil, &VarError{Var: "JWT_ALG", Want: "an algorithm a key can be generated for", Err: err}
	}
	unset := "JWT_PRIVATE_KEY_FILE"
	if isHMAC(cfg.JWTAlg) {
		unset = "JWT_SECRET"
	}
	log.Warn("config: "+unset+" is unset: signing with a key generated for this process only; tokens will not survive a restart nor be accepted by other instances",
		slog.String("alg", string(cfg.JWTAlg)), slog.String("kid", k.KID()))
	return k, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("file larger than 1 MiB")
	}
	return b, nil
}

func buildHasher(kind HashKind) (auth.Hasher, error) {
	var (
		h   auth.Hasher
		err error
	)
	switch kind {
	case HashBcrypt:
		h, err = auth.NewBcrypt(BcryptCost)
	default:
		h, err = auth.NewArgon2id(auth.Argon2idParams{})
	}
	if err != nil {
		return nil, &VarError{Var: "PASSWORD_HASH", Want: "argon2id or bcrypt", Err: err}
	}
	return h, nil
}

// redisPingTimeout bounds the start-up ping, so an unreachable Redis or
// PostgreSQL fails the start within seconds.
const redisPingTimeout = 5 * time.Second

func openStore(ctx context.Context, cfg Config, bc buildConfig) (store.Store, error) {
	switch cfg.Store {
	case StoreBolt:
		opts := []bolt.Option{bolt.WithLogger(bc.logger)}
		if bc.now != nil {
			opts = append(opts, bolt.WithClock(bc.now))
		}
		st, err := bolt.Open(cfg.BoltPath, opts...)
		if errors.Is(err, bolt.ErrCorrupt) {
			return nil, &VarError{Var: "BOLT_PATH", Want: "an undamaged bbolt file (this one is damaged: restore it from a backup, or move it away to start empty)", Err: err}
		}
		if err != nil {
			return nil, &VarError{Var: "BOLT_PATH", Want: "a bbolt file that can be opened and locked", Err: err}
		}
		return st, nil
	case StoreRedis:
		opts := []redis.Option{redis.WithPrefix(cfg.RedisPrefix)}
		if bc.now != nil {
			opts = append(opts, redis.WithClock(bc.now))
		}
		opts = append(opts, viewOptions(cfg.RevocationMaxLag)...)
		opts = append(opts, bc.redisOpts...)
		// From before Open, whose local view may dial at once.
		tctx, trace, end := traceRedisStart(ctx)
		// store/redis never repeats the URL in its errors.
		st, err := redis.Open(string(cfg.RedisURL), opts...)
		if err != nil {
			end()
			return nil, &VarError{Var: "REDIS_URL", Want: "a Redis URL store/redis accepts", Err: err}
		}
		pctx, cancel := context.WithTimeout(tctx, redisPingTimeout)
		defer cancel()
		if err := st.Ping(pctx); err != nil {
			_ = st.Close()
			end()
			return nil, &VarError{Var: "REDIS_URL", Want: "a Redis that answers at start", Err: withDialCause(ctx, err, trace, string(cfg.RedisURL))}
		}
		end()
		redisStarted(bc.logger)
		return st, nil
	case StorePostgres:
		opts := []postgres.Option{postgres.WithSchema(cfg.PostgresSchema)}
		if bc.now != nil {
			opts = append(opts, postgres.WithClock(bc.now))
		}
		if lag := cfg.RevocationMaxLag; lag == 0 {
			opts = append(opts, postgres.WithoutLocalView())
		} else {
			opts = append(opts, postgres.WithViewPingInterval(min(redis.DefaultViewPingInterval, lag/5)), postgres.WithViewMaxLag(lag))
		}
		opts = append(opts, bc.pgOpts...)
		octx, cancel := context.WithTimeout(ctx, redisPingTimeout)
		defer cancel()
		// store/postgres never repeats the URL in its errors.
		st, err := postgres.Open(octx, string(cfg.DatabaseURL), opts...)
		switch {
		case errors.Is(err, postgres.ErrSchemaVersion):
			return nil, &VarError{Var: "POSTGRES_SCHEMA", Want: "a schema at this gatekeep's version", Err: err}
		case errors.Is(err, store.ErrInvalid):
			return nil, &VarError{Var: "DATABASE_URL", Want: "a database URL store/postgres accepts", Err: err}
		case err != nil:
			return nil, &VarError{Var: "DATABASE_URL", Want: "a PostgreSQL that answers at start", Err: err}
		}
		return st, nil
	default:
		var opts []memory.Option
		if bc.now != nil {
			opts = append(opts, memory.WithClock(bc.now))
		}
		return memory.New(opts...), nil
	}
}

// viewOptions sets the Redis local view's lag bound (REVOCATION_MAX_LAG):
// 0 turns the view off; otherwise the view pings at most every 50ms and
// often enough (a fifth of the bound) that a short bound is still met.
func viewOptions(maxLag time.Duration) []redis.Option {
	if maxLag == 0 {
		return []redis.Option{redis.WithoutLocalView()}
	}
	return []redis.Option{
		redis.WithViewPingInterval(min(redis.DefaultViewPingInterval, maxLag/5)),
		redis.WithViewMaxLag(maxLag),
	}
}

// wideProxyRange reports a TRUSTED_PROXIES range wider than a /8 of IPv4
// (16.7 million addresses; 0.0.0.0/0 believes every client) or a /32 of
// IPv6 (a whole provider's allocation): proxies sit in far smaller ranges,
// and a spoofable X-Forwarded-For defeats per-IP throttling.
func wideProxyRange(p netip.Prefix) bool {
	if p.Addr().Is4() || p.Addr().Is4In6() {
		bits := p.Bits()
		if p.Addr().Is4In6() {
			bits -= 96
		}
		return bits < 8
	}
	return p.Bits() < 32
}

// legacyOption is auth.WithLegacyTokens over key when JWT_ACCEPT_LEGACY is
// set (nil otherwise), with the start-up warning.
func legacyOption(cfg Config, key *token.Key, topts []token.Option, log *slog.Logger) (auth.Option, error) {
	if !cfg.AcceptLegacy {
		return nil, nil
	}
	if key == nil {
		return nil, varErr("JWT_ACCEPT_LEGACY", "JWT_SECRET or JWT_PRIVATE_KEY_FILE set: the key the Node application signed its tokens with (rotated keys never signed them)", "")
	}
	lv, err := token.NewLegacyVerifier(key, topts...)
	if err != nil {
		return nil, &VarError{Var: "JWT_ACCEPT_LEGACY", Want: "a key legacy tokens can be verified with", Err: err}
	}
	log.Warn("config: JWT_ACCEPT_LEGACY=true: access tokens in the shape of a Node express application (typ JWT or none, no sid, sub or id, admin) signed with this key are accepted too, never refreshed; turn it off once they have expired",
		slog.String("alg", string(key.Algorithm())))
	return auth.WithLegacyTokens(lv), nil
}

// tokenOptions are the Signer's and Verifier's options of cfg: issuer,
// audience, leeway, and the clock of WithClock.
func tokenOptions(cfg Config, bc buildConfig) []token.Option {
	topts := []token.Option{token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience), token.WithLeeway(cfg.Leeway)}
	if bc.now != nil {
		topts = append(topts, token.WithClock(bc.now))
	}
	return topts
}

// cookieOptions are cookie mode's options (COOKIE_MODE, COOKIE_INSECURE
// with its warning), for an Authenticator and a verify-only Gate alike.
func cookieOptions(cfg Config, log *slog.Logger) []auth.GateOption {
	if !cfg.CookieMode {
		return nil
	}
	opts := []auth.GateOption{auth.WithCookies(auth.CookieConfig{})}
	if cfg.CookieInsecure {
		log.Warn("config: COOKIE_INSECURE=true: cookies are sent without Secure (plain-http development only)")
		opts = append(opts, auth.WithInsecureCookies())
	}
	return opts
}
