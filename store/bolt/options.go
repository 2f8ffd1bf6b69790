package bolt

import "time"

// Option configures a [Store]; pass options to [New] or [Open].
type Option func(*config)

type config struct {
	now           func() time.Time
	sweepInterval time.Duration
	openTimeout   time.Duration
}

func defaultConfig() config {
	return config{now: time.Now, sweepInterval: time.Minute, openTimeout: time.Second}
}

// WithClock makes the store read the time from now instead of time.Now.
// Tests use it to expire records without sleeping. A nil now keeps
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithSweepInterval sets how often the janitor deletes expired records
// (default one minute). Expired records are treated as missing on every
// read whatever the interval; it only bounds how long they take space in
// the file. Each sweep is one write transaction. It must be positive.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) { c.sweepInterval = d }
}

// WithOpenTimeout sets how long [Open] waits for the file lock that another
// process may hold (default one second): past it, Open fails with
// [ErrLocked] instead of hanging. It must be positive; [New] ignores it.
func WithOpenTimeout(d time.Duration) Option {
	return func(c *config) { c.openTimeout = d }
}
