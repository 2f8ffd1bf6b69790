package bolt

import (
	"log/slog"
	"time"
)

// Option configures a [Store]; pass options to [New] or [Open].
type Option func(*config)

type config struct {
	now           func() time.Time
	sweepInterval time.Duration
	openTimeout   time.Duration
	checkLimit    int64
	logger        *slog.Logger
	// diskRevocations makes IsRevoked read the file instead of the
	// in-memory index: the path before the index, kept for benchmarks.
	diskRevocations bool
}

// DefaultOpenCheckLimit is the largest file [Open] checks whole by default.
const DefaultOpenCheckLimit = 256 << 20

func defaultConfig() config {
	return config{now: time.Now, sweepInterval: time.Minute, openTimeout: time.Second, checkLimit: DefaultOpenCheckLimit, logger: slog.Default()}
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

// WithOpenCheckLimit sets the largest file [Open] runs bbolt's full
// consistency check over (default [DefaultOpenCheckLimit], 256 MiB, which
// reads every page once at start; a larger file gets only the meta-page
// and length checks). 0 skips the full check, for a large file whose start
// time matters more; the length check always runs, and so does the read
// of every revocation and valid-after mark into memory. Other damage then
// shows as [ErrCorrupt] on the first call that touches it, and on every
// call after that one.
func WithOpenCheckLimit(bytes int64) Option {
	return func(c *config) { c.checkLimit = bytes }
}

// WithLogger sets where the janitor reports a failed sweep (default
// slog.Default()). A nil logger keeps the default.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}
