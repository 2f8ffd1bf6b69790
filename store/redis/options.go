package redis

import (
	"fmt"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// Option configures a [Store]; pass options to [New] or [Open].
type Option func(*config)

type config struct {
	prefix       string
	timeout      time.Duration
	localView    bool
	pingInterval time.Duration
	maxLag       time.Duration
	clock        func() time.Time
	customClock  bool
}

// Defaults of the local revocation view ([WithViewPingInterval],
// [WithViewMaxLag]).
const (
	DefaultViewPingInterval = 50 * time.Millisecond
	DefaultViewMaxLag       = 250 * time.Millisecond
)

func defaultConfig() config {
	return config{
		prefix:       "gatekeep",
		timeout:      500 * time.Millisecond,
		localView:    true,
		pingInterval: DefaultViewPingInterval,
		maxLag:       DefaultViewMaxLag,
	}
}

// WithPrefix sets the prefix of every key and channel the store uses.
// Default "gatekeep". Change it to run several independent gatekeep
// deployments (or test runs) on one Redis. A prefix is 1 to 64 characters
// from A-Z, a-z, 0-9, '.', '_' and '-', so it can never reach into another
// prefix's keys or break a hash tag.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithTimeout bounds every operation. Default 500ms: an operation on an
// unreachable Redis returns an error wrapping [store.ErrUnavailable] within
// about this time instead of hanging. Raise it for a Redis far away; the
// context passed to each call can only shorten it.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithoutLocalView turns the in-process view of revocations off, so every
// [Store.IsRevoked] is a Redis round trip. Default: the view is on. Turning
// it off is only useful to measure it, or to save the one pub/sub connection
// per Store; answers are equally correct either way.
func WithoutLocalView() Option {
	return func(c *config) { c.localView = false }
}

// WithViewPingInterval sets how often the local view publishes its own ping
// on the revocation channel. Default 50ms. Each Store receives every Store's
// pings, so many instances may want a longer interval (and a larger
// [WithViewMaxLag]).
func WithViewPingInterval(d time.Duration) Option {
	return func(c *config) { c.pingInterval = d }
}

// WithViewMaxLag sets how long after sending a ping that came back the local
// view is trusted. Default 250ms. It bounds how late another instance's
// revocation can be seen here when pub/sub silently stalls; past it the view
// is not trusted and IsRevoked asks Redis. It must exceed twice the ping
// interval.
func WithViewMaxLag(d time.Duration) Option {
	return func(c *config) { c.maxLag = d }
}

// WithClock sets the clock that decides whether a record has expired and
// stamps CreatedAt/UpdatedAt. Default time.Now. Redis removes expired keys by
// its own clock, so this clock must agree with the Redis server's; tests use
// it to pin time, not to travel far from it.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock, c.customClock = now, now != nil }
}

func (c *config) validate() error {
	if n := len(c.prefix); n == 0 || n > 64 {
		return fmt.Errorf("%w: redis: prefix must be 1 to 64 characters", store.ErrInvalid)
	}
	for _, r := range c.prefix {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("%w: redis: prefix may only hold A-Z, a-z, 0-9, '.', '_' and '-'", store.ErrInvalid)
		}
	}
	if c.timeout <= 0 {
		return fmt.Errorf("%w: redis: timeout must be positive", store.ErrInvalid)
	}
	if c.localView {
		if c.pingInterval <= 0 {
			return fmt.Errorf("%w: redis: view ping interval must be positive", store.ErrInvalid)
		}
		if c.maxLag <= 2*c.pingInterval {
			return fmt.Errorf("%w: redis: view max lag must exceed twice the ping interval", store.ErrInvalid)
		}
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	return nil
}
