package memory

import "time"

// Option configures a [Store]; pass options to [New].
type Option func(*config)

type config struct {
	now           func() time.Time
	sweepInterval time.Duration
}

func defaultConfig() config {
	return config{now: time.Now, sweepInterval: time.Minute}
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
