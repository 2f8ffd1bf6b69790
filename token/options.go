package token

import (
	"fmt"
	"net/http"
	"time"
)

// Defaults.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest leeway accepted.
	MaxLeeway = 5 * time.Minute
	// DefaultMaxSize is the largest token accepted, in bytes.
	DefaultMaxSize = 8 << 10
	// DefaultRefreshInterval is the least time between two fetches of a
	// remote JWK Set prompted by unknown kids.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultRemoteMaxAge is how long a fetched JWK Set is used before it
	// is fetched again on the next lookup.
	DefaultRemoteMaxAge = time.Hour
	// DefaultRemoteTimeout bounds one fetch of a remote JWK Set.
	DefaultRemoteTimeout = 10 * time.Second
	// DefaultRemoteMaxBody bounds the size of a remote JWK Set.
	DefaultRemoteMaxBody = 1 << 20
)

// Option configures [NewSigner] and [NewVerifier].
type Option func(*config)

type config struct {
	issuer   string
	audience []string
	leeway   time.Duration
	clock    func() time.Time
	maxSize  int
	cache    *Cache
	noFast   bool // tests only: every token takes the general path
	errs     []error
}

func newConfig(opts []Option) (config, error) {
	c := config{leeway: DefaultLeeway, clock: time.Now, maxSize: DefaultMaxSize}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if len(c.errs) > 0 {
		return c, c.errs[0]
	}
	return c, nil
}

// WithIssuer sets iss. A Signer writes it into tokens whose claims leave
// Issuer empty; a Verifier requires it. Default: none (not written, not
// checked). Set it whenever more than one party issues tokens.
func WithIssuer(iss string) Option {
	return func(c *config) {
		if iss == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: empty issuer", ErrInvalidConfig))
		}
		c.issuer = iss
	}
}

// WithAudience sets aud. A Signer writes all of them into tokens whose
// claims leave Audience empty; a Verifier requires the token's aud to name
// at least one. Default: none.
func WithAudience(aud ...string) Option {
	return func(c *config) {
		if len(aud) == 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: empty audience", ErrInvalidConfig))
		}
		for _, a := range aud {
			if a == "" {
				c.errs = append(c.errs, fmt.Errorf("%w: empty audience member", ErrInvalidConfig))
			}
		}
		c.audience = append([]string(nil), aud...)
	}
}

// WithLeeway sets the clock skew tolerated on exp, nbf and iat. Default
// 30s; more than 5m is refused, as is a negative value.
func WithLeeway(d time.Duration) Option {
	return func(c *config) {
		if d < 0 || d > MaxLeeway {
			c.errs = append(c.errs, fmt.Errorf("%w: leeway %s outside [0, %s]", ErrInvalidConfig, d, MaxLeeway))
		}
		c.leeway = d
	}
}

// WithClock sets the time source. Default time.Now; tests inject a fixed
// clock instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil clock", ErrInvalidConfig))
		}
		c.clock = now
	}
}

// WithMaxSize sets the largest token, in bytes, a Verifier decodes; larger
// ones fail with ErrTooLarge before any decoding. Default 8 KiB, enough for
// RS512 with many roles; raise it only for unusually large claims.
func WithMaxSize(n int) Option {
	return func(c *config) {
		if n < 64 {
			c.errs = append(c.errs, fmt.Errorf("%w: max size %d below 64 bytes", ErrInvalidConfig, n))
		}
		c.maxSize = n
	}
}

// WithCache makes a Verifier remember the tokens it verified in c and
// answer a later verification of the same token string from it, after the
// checks listed on [Cache] (type, exp/nbf/iat against the clock, key still
// in the set). Default: no cache for a bare Verifier; the auth middleware
// adds one. Leave it off when tokens are rarely presented twice. A cache
// serves one verifier only; a Signer ignores this option.
func WithCache(c *Cache) Option {
	return func(cfg *config) {
		if c == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: nil cache", ErrInvalidConfig))
		}
		cfg.cache = c
	}
}

// RemoteOption configures [NewRemoteKeySource].
type RemoteOption func(*remoteConfig)

type remoteConfig struct {
	client   *http.Client
	interval time.Duration
	maxAge   time.Duration
	maxBody  int64
	clock    func() time.Time
	anyHTTP  bool
	errs     []error
	alg      Algorithm
}

// WithInsecureHTTP lets [NewRemoteKeySource] fetch over plain http from any
// host. Anyone on the path can then substitute their own keys and mint
// tokens this service accepts; use it only inside a network you trust
// completely. Default: https, or http to loopback only.
func WithInsecureHTTP() RemoteOption {
	return func(r *remoteConfig) { r.anyHTTP = true }
}

// WithHTTPClient sets the client used to fetch the JWK Set (for a proxy or
// custom roots). Default: a client with a 10s timeout. The client is copied:
// a copy without a Timeout gets the default, and redirects are never
// followed, whatever the client's CheckRedirect says.
func WithHTTPClient(c *http.Client) RemoteOption {
	return func(r *remoteConfig) {
		if c == nil {
			r.errs = append(r.errs, fmt.Errorf("%w: nil HTTP client", ErrInvalidConfig))
			return
		}
		r.client = c
	}
}

// WithRefreshInterval sets the least time between two fetches, so a flood
// of tokens with unknown kids causes at most one request per interval.
// Default 5m; lower it only in tests or for fast key rotation.
func WithRefreshInterval(d time.Duration) RemoteOption {
	return func(r *remoteConfig) {
		if d <= 0 {
			r.errs = append(r.errs, fmt.Errorf("%w: refresh interval must be positive", ErrInvalidConfig))
		}
		r.interval = d
	}
}

// WithMaxAge sets how long a fetched set is trusted before the next lookup
// fetches it again (so removed keys stop verifying). Default 1h.
func WithMaxAge(d time.Duration) RemoteOption {
	return func(r *remoteConfig) {
		if d <= 0 {
			r.errs = append(r.errs, fmt.Errorf("%w: max age must be positive", ErrInvalidConfig))
		}
		r.maxAge = d
	}
}

// WithMaxBodySize bounds the JWK Set response. Default 1 MiB.
func WithMaxBodySize(n int64) RemoteOption {
	return func(r *remoteConfig) {
		if n <= 0 {
			r.errs = append(r.errs, fmt.Errorf("%w: max body size must be positive", ErrInvalidConfig))
		}
		r.maxBody = n
	}
}

// WithRemoteClock sets the time source used for refresh decisions. Default
// time.Now.
func WithRemoteClock(now func() time.Time) RemoteOption {
	return func(r *remoteConfig) {
		if now == nil {
			r.errs = append(r.errs, fmt.Errorf("%w: nil clock", ErrInvalidConfig))
		}
		r.clock = now
	}
}

// WithRemoteAlgorithm pins every key taken from the set to alg: a JWK
// without alg is taken as alg when its kty (and crv) fit it, RFC 7517
// making alg optional and most identity providers omitting it; a JWK of
// another alg, or whose kty or crv does not fit, is ignored. Default none:
// only JWKs that name their alg are taken, each with its own.
func WithRemoteAlgorithm(alg Algorithm) RemoteOption {
	return func(r *remoteConfig) {
		if _, err := lookupAlg(alg); err != nil {
			r.errs = append(r.errs, err)
			return
		}
		r.alg = alg
	}
}
