package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"time"

	"github.com/gatekeep/gatekeep/rbac"
)

// Option configures an [Authenticator]; see [New].
//
// Options that configure the request side ([WithErrorHandler],
// [WithPolicy], [WithLogger], [WithCookies], [WithInsecureCookies],
// [WithIssuer], [WithAudience]) are [GateOption]s, which configure a
// verify-only [Gate] too: one option, one meaning, for both constructors.
type Option interface{ apply(*config) }

// GateOption configures a [Gate] ([NewGate]) and, being an [Option], the
// Gate inside an Authenticator ([New]).
type GateOption interface {
	Option
	applyGate(*gateConfig)
}

type option func(*config)

func (o option) apply(c *config) { o(c) }

type gateOption func(*gateConfig)

func (o gateOption) apply(c *config)          { o(&c.gateConfig) }
func (o gateOption) applyGate(gc *gateConfig) { o(gc) }

// Defaults and limits of the options.
const (
	DefaultAccessTTL     = 15 * time.Minute
	DefaultRefreshTTL    = 7 * 24 * time.Hour
	DefaultSessionMaxAge = 30 * 24 * time.Hour
	DefaultLeeway        = 30 * time.Second
	DefaultMaxFailures   = 10
	DefaultLoginWindow   = 15 * time.Minute
	DefaultHashWait      = 5 * time.Second
	MaxAccessTTL         = 24 * time.Hour
	MaxLeeway            = 5 * time.Minute
	MaxRefreshReuseGrace = 60 * time.Second
	ipFailuresMultiplier = 10
)

type config struct {
	gateConfig
	accessTTL      time.Duration
	refreshTTL     time.Duration
	sessionMaxAge  time.Duration
	leeway         time.Duration
	hasher         Hasher
	maxHashes      int
	hashWait       time.Duration
	hashQueue      int
	maxFailures    int
	loginWindow    time.Duration
	trustedProxies []netip.Prefix
	reuseGrace     time.Duration
	now            func() time.Time
	adminRole      string
	notifier       Notifier
	resetLink      string
	resetTTL       time.Duration
	resetRequests  int
	resetWindow    time.Duration
	claims         ClaimsFunc
	revokePrevious bool
	registerLimit  RateLimit
	forgotLimit    RateLimit
	maxSessions    int
	// sleep waits d (the progressive login delay); tests record it.
	sleep func(ctx context.Context, d time.Duration) error
}

func defaultConfig() config {
	return config{
		gateConfig:    defaultGateConfig(),
		accessTTL:     DefaultAccessTTL,
		refreshTTL:    DefaultRefreshTTL,
		sessionMaxAge: DefaultSessionMaxAge,
		leeway:        DefaultLeeway,
		maxHashes:     DefaultHashConcurrency(),
		hashQueue:     DefaultHashQueue,
		hashWait:      DefaultHashWait,
		maxFailures:   DefaultMaxFailures,
		loginWindow:   DefaultLoginWindow,
		now:           time.Now,
		adminRole:     DefaultAdminRole,
		resetTTL:      DefaultPasswordResetTTL,
		resetRequests: DefaultResetRequests,
		resetWindow:   DefaultResetWindow,
		registerLimit: DefaultRegisterLimit,
		forgotLimit:   DefaultForgotPasswordLimit,
		maxSessions:   DefaultMaxSessionsPerUser,
		sleep:         sleepCtx,
	}
}

func (c *config) validate() error {
	switch {
	case c.accessTTL <= 0 || c.accessTTL > MaxAccessTTL:
		return fmt.Errorf("%w: access TTL must be positive and at most %v", ErrInvalidConfig, MaxAccessTTL)
	case c.refreshTTL < c.accessTTL:
		return fmt.Errorf("%w: refresh TTL must be at least the access TTL", ErrInvalidConfig)
	case c.sessionMaxAge < c.accessTTL:
		return fmt.Errorf("%w: session max age must be at least the access TTL", ErrInvalidConfig)
	case c.leeway < 0 || c.leeway > MaxLeeway:
		return fmt.Errorf("%w: leeway must be between 0 and %v", ErrInvalidConfig, MaxLeeway)
	case c.reuseGrace < 0 || c.reuseGrace > MaxRefreshReuseGrace:
		return fmt.Errorf("%w: refresh reuse grace must be between 0 and %v", ErrInvalidConfig, MaxRefreshReuseGrace)
	case c.maxHashes < 1 || c.hashWait <= 0 || c.hashQueue < 0:
		return fmt.Errorf("%w: concurrent hashes and their wait must be positive", ErrInvalidConfig)
	case c.maxFailures < 1 || c.loginWindow <= 0:
		return fmt.Errorf("%w: login throttle needs at least one failure and a positive window", ErrInvalidConfig)
	case c.now == nil:
		return fmt.Errorf("%w: nil clock", ErrInvalidConfig)
	case isNil(c.hasher):
		return fmt.Errorf("%w: nil hasher", ErrInvalidConfig)
	case c.adminRole == "":
		return fmt.Errorf("%w: empty admin role", ErrInvalidConfig)
	case c.resetTTL < MinPasswordResetTTL || c.resetTTL > MaxPasswordResetTTL:
		return fmt.Errorf("%w: password reset TTL must be between %v and %v", ErrInvalidConfig, MinPasswordResetTTL, MaxPasswordResetTTL)
	case c.resetRequests < 1 || c.resetWindow <= 0:
		return fmt.Errorf("%w: password reset throttle needs at least one request and a positive window", ErrInvalidConfig)
	case !c.registerLimit.valid():
		return fmt.Errorf("%w: the register limit needs at least one request per IP and in total and a positive window", ErrInvalidConfig)
	case !c.forgotLimit.valid():
		return fmt.Errorf("%w: the forgot-password limit needs at least one request per IP and in total and a positive window", ErrInvalidConfig)
	case c.maxSessions < 1:
		return fmt.Errorf("%w: at least one session per user", ErrInvalidConfig)
	}
	if c.notifier != nil || c.resetLink != "" {
		if err := checkResetLink(c.notifier, c.resetLink); err != nil {
			return err
		}
	}
	for _, p := range c.trustedProxies {
		if !p.IsValid() {
			return fmt.Errorf("%w: invalid trusted proxy prefix", ErrInvalidConfig)
		}
	}
	return nil
}

// WithAccessTTL sets the lifetime of access tokens. Default 15 minutes, at
// most 24 hours. An access token cannot be recalled faster than a
// revocation check, so shorter is safer; longer saves refreshes.
func WithAccessTTL(d time.Duration) Option { return option(func(c *config) { c.accessTTL = d }) }

// WithRefreshTTL sets the lifetime of refresh tokens, which is also a
// session's idle timeout: a session not refreshed within it ends. Default 7
// days; it must be at least the access TTL. Shorten it to log idle devices
// out sooner.
func WithRefreshTTL(d time.Duration) Option { return option(func(c *config) { c.refreshTTL = d }) }

// WithSessionMaxAge sets the absolute lifetime of a login: refresh rotation
// never extends a session past it. Default 30 days. Shorten it to make
// users log in again more often.
func WithSessionMaxAge(d time.Duration) Option {
	return option(func(c *config) { c.sessionMaxAge = d })
}

// WithLeeway declares the clock-skew leeway your Verifier allows on exp, so
// revocations are remembered that much longer than the tokens they stop.
// Default 30 seconds, at most 5 minutes. Set it to what you passed to
// token.WithLeeway.
func WithLeeway(d time.Duration) Option { return option(func(c *config) { c.leeway = d }) }

// WithIssuer sets the iss written into every token, and required of every
// token presented (besides what the Verifier checks). Default none: set it,
// and the same on the Verifier, whenever one key could sign for more than
// one service.
func WithIssuer(iss string) GateOption { return gateOption(func(c *gateConfig) { c.issuer = iss }) }

// WithAudience sets the aud written into every token, and one of which is
// required of every token presented. Default none; set it as for
// [WithIssuer].
func WithAudience(aud ...string) GateOption {
	return gateOption(func(c *gateConfig) { c.audience = append([]string(nil), aud...) })
}

// WithHasher sets the password hasher. Default [Argon2id] with OWASP's
// parameters; use [NewBcrypt] to create hashes other stacks can read.
// Hashes of either kind verify whatever the hasher, and are replaced by the
// configured kind at the next login.
func WithHasher(h Hasher) Option { return option(func(c *config) { c.hasher = h }) }

// WithMaxConcurrentHashes bounds how many password hashes run at once and
// how long a request waits for a free slot before it gets 503 with
// Retry-After. Default [DefaultHashConcurrency] (half the cores, at least
// one) and a 5 second wait, so that a login flood — every wrong password
// costs a full argon2id hash — leaves the other cores to verified requests.
// Raise it on machines where logins compete with little else.
func WithMaxConcurrentHashes(n int, wait time.Duration) Option {
	return option(func(c *config) { c.maxHashes, c.hashWait = n, wait })
}

// WithHashQueue bounds how many requests may wait for a hashing slot at
// once; one more is answered 503 with Retry-After at once instead of
// queueing (a flood then costs a queue, not a pile of goroutines each
// holding a request). Default [DefaultHashQueue]; 0 means no waiting at all.
func WithHashQueue(n int) Option { return option(func(c *config) { c.hashQueue = n }) }

// DefaultHashQueue is how many requests may wait for a hashing slot.
const DefaultHashQueue = 64

// DefaultHashConcurrency is the default number of password hashes that run
// at once: half of GOMAXPROCS rounded down, at least 1.
func DefaultHashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// WithLoginThrottle sets how many failed logins an account may have from
// one client IP (an IPv6 client by its /64) within window before further
// attempts on it from that IP get 429; a client IP may have ten times as
// many failures over all accounts. Failures from elsewhere never lock the
// account for a client that has none: past three times maxFailures
// failures of the account from all clients in the window, every attempt on
// it waits (250ms, doubling with each further failure, at most 5s) and is
// never refused, so nobody can lock the owner out. Default 10 failures in
// 15 minutes. Lower it for high-value accounts.
func WithLoginThrottle(maxFailures int, window time.Duration) Option {
	return option(func(c *config) { c.maxFailures, c.loginWindow = maxFailures, window })
}

// WithTrustedProxies lists the reverse proxies whose X-Forwarded-For is
// believed when finding a client's IP for throttling. Default none: the
// client IP is the connection's. Set it when the service sits behind a load
// balancer, or every client shares the balancer's throttle.
func WithTrustedProxies(prefixes []netip.Prefix) Option {
	return option(func(c *config) { c.trustedProxies = append([]netip.Prefix(nil), prefixes...) })
}

// WithRefreshReuseGrace lets the immediately previous refresh token of a
// session be presented again within d of its rotation without ending the
// session (see [Authenticator.Refresh]). Default 0, at most 60 seconds.
// Raise it only for clients whose tabs refresh concurrently: within the
// window a stolen previous token works too.
func WithRefreshReuseGrace(d time.Duration) Option {
	return option(func(c *config) { c.reuseGrace = d })
}

// WithClock sets the source of the current time. Default time.Now; tests
// inject a fake clock (use the same one for the token Signer and Verifier).
func WithClock(now func() time.Time) Option { return option(func(c *config) { c.now = now }) }

// WithLogger sets the logger for audit events (login success and failure,
// throttling, refresh, refresh reuse, logout, logout-all, session ended,
// password changed, reset requested, sent and done, roles changed). Default
// slog.Default(); pass your security log's logger to keep audit events
// apart from application logs. No password, token or key is ever an
// attribute.
func WithLogger(l *slog.Logger) GateOption { return gateOption(func(c *gateConfig) { c.logger = l }) }

// WithErrorHandler replaces the default error responses ([WriteError]).
// The handler receives errors of this package; use [ResponseFor] to keep
// the status codes of the HTTP API.
func WithErrorHandler(h ErrorHandler) GateOption {
	return gateOption(func(c *gateConfig) { c.errorHandler = h })
}

// WithPolicy makes [Authenticator.Authorize] honour p's role inheritance
// (an "admin" that inherits "editor" passes a guard for "editor"), and lets
// it name only roles p defines. Default none: a guard matches the roles it
// names exactly.
func WithPolicy(p *rbac.Policy) GateOption { return gateOption(func(c *gateConfig) { c.policy = p }) }

// WithAdminRole names the role the admin handlers ([Authenticator.Users],
// [Authenticator.UserRoles]) require. Default "admin"; with [WithPolicy],
// roles that inherit it pass too. Change it when your administrators
// already have a role of another name.
func WithAdminRole(role string) Option { return option(func(c *config) { c.adminRole = role }) }

// WithPasswordReset turns on password-reset messages: POST
// /auth/password/forgot for an existing user has n send a [PasswordReset]
// whose link is linkBase with "#token=<reset token>" appended. linkBase is
// an absolute http(s) URL without a fragment, such as
// "https://app.example.com/reset-password": the page of your application
// that asks for the new password and posts it with the token to POST
// /auth/password/reset. It comes from configuration only, never from a
// request's Host header, so a forged Host cannot redirect a reset link.
// Default none: forgot answers 202 and sends nothing (with a warning logged
// at its first use). Needs a *token.JWTVerifier (as [New]'s verifier) to
// read the token's claims.
func WithPasswordReset(n Notifier, linkBase string) Option {
	return option(func(c *config) { c.notifier, c.resetLink = n, linkBase })
}

// WithPasswordResetTTL sets how long a reset token works. Default 15
// minutes, at least 1 minute and at most 24 hours: the token opens the
// account to whoever reads the message, so keep it short.
func WithPasswordResetTTL(d time.Duration) Option { return option(func(c *config) { c.resetTTL = d }) }

// WithPasswordResetThrottle sets how many forgot-password requests one
// username may make within window before further ones get 429. Default 3
// in 15 minutes, which bounds how many messages anyone can make a user
// receive. Names that do not exist are counted alike.
func WithPasswordResetThrottle(maxRequests int, window time.Duration) Option {
	return option(func(c *config) { c.resetRequests, c.resetWindow = maxRequests, window })
}

func checkResetLink(n Notifier, link string) error {
	if isNil(n) {
		return fmt.Errorf("%w: nil password reset Notifier", ErrInvalidConfig)
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.Fragment != "" || u.Opaque != "" || len(link) > 2048 {
		return fmt.Errorf("%w: the password reset link base must be an absolute http(s) URL without user info or fragment", ErrInvalidConfig)
	}
	return nil
}
