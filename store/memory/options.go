package memory

import "time"

// Option configures a [Store]; pass options to [New].
type Option func(*config)

type config struct {
	now           func() time.Time
	sweepInterval time.Duration
	maxCounters   int
}

func defaultConfig() config {
	return config{now: time.Now, sweepInterval: time.Minute, maxCounters: DefaultMaxCounters}
}

// WithClock makes the store read the time from now instead of time.Now.
// Tests use it to expire sessions, revocations and windows without
// sleeping. A nil now keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithSweepInterval sets how often the janitor removes expired entries
// (default one minute). Expired entries are treated as missing on every read
// whatever the interval, so it only bounds how long their memory is held;
// lower it when revocations are many and short-lived. A value of zero or
// below keeps the default.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.sweepInterval = d
		}
	}
}

// DefaultMaxCounters is how many throttling windows a [Store] keeps by
// default (about 20 MiB of them); see [WithMaxCounters].
const DefaultMaxCounters = 100_000

// WithMaxCounters bounds the throttling windows ([store.Counter]) the store
// keeps, so that requests with ever new keys (made-up usernames, many
// client addresses) cannot grow memory without bound. When a new key would
// exceed n, windows that have ended are dropped first; if none has, the
// sixteenth of the windows nearest their end are dropped, which lets those
// keys start again from zero: a flood beyond n keys within a window
// weakens throttling rather than memory. Default [DefaultMaxCounters]; a
// value below 16 keeps the default.
func WithMaxCounters(n int) Option {
	return func(c *config) {
		if n >= 16 {
			c.maxCounters = n
		}
	}
}
