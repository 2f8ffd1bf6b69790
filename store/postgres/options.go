package postgres

import (
	"time"
)

// Option configures a [Store]; pass options to [New], [Open] or [Migrate].
type Option func(*config)

type config struct {
	schema        string
	timeout       time.Duration
	autoMigrate   bool
	localView     bool
	pingInterval  time.Duration
	maxLag        time.Duration
	sweepInterval time.Duration
	clock         func() time.Time
	customClock   bool
}

func defaultConfig() config {
	return config{
		schema:        "gatekeep",
		timeout:       500 * time.Millisecond,
		autoMigrate:   true,
		localView:     true,
		pingInterval:  50 * time.Millisecond,
		maxLag:        250 * time.Millisecond,
		sweepInterval: time.Minute,
	}
}

// WithSchema sets the PostgreSQL schema that holds every table and names
// the notification channel. Default "gatekeep". A schema name is 1 to 48
// characters from a-z, 0-9 and '_', not starting with a digit, so it is
// the same identifier quoted or not and never reaches into another schema.
func WithSchema(schema string) Option {
	return func(c *config) { c.schema = schema }
}

// WithTimeout bounds every operation. Default 500ms: an operation on an
// unreachable database returns an error wrapping [store.ErrUnavailable]
// within about this time instead of hanging. The context passed to each
// call can only shorten it. The migration [New] runs is bounded by the
// larger of 30s and ten times this (it may wait for another instance's).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithoutAutoMigrate makes [New] and [Open] check the schema's version
// instead of migrating it: a database that is not at this code's version
// gives an error wrapping [ErrSchemaVersion]. Default: the schema is
// migrated on start. Use it with [Migrate] when migrations are a
// deployment step of their own, or when the application's role may not
// create tables.
func WithoutAutoMigrate() Option {
	return func(c *config) { c.autoMigrate = false }
}

// WithoutLocalView turns the in-process view of revocations off, so every
// [Store.IsRevoked] is a database round trip. Default: the view is on.
// Turning it off saves the one listening connection per Store; answers are
// equally correct either way.
func WithoutLocalView() Option {
	return func(c *config) { c.localView = false }
}

// WithViewPingInterval sets how often the local view sends its own
// notification on the revocation channel. Default 50ms. Each Store
// receives every Store's pings, so many instances may want a longer
// interval (and a larger [WithViewMaxLag]).
func WithViewPingInterval(d time.Duration) Option {
	return func(c *config) { c.pingInterval = d }
}

// WithViewMaxLag sets how long after sending a ping that came back the
// local view is trusted. Default 250ms. It bounds how late another
// instance's revocation can be seen here when notifications silently
// stall; past it the view is not trusted and IsRevoked asks the database.
// It must exceed twice the ping interval.
func WithViewMaxLag(d time.Duration) Option {
	return func(c *config) { c.maxLag = d }
}

// WithSweepInterval sets how often the janitor deletes expired rows
// (revocations, valid-after marks, one-time ids, counter windows and
// sessions), at most 1000 of each per statement. Default one minute.
// Expired rows are never read as live in between: every read compares
// expiry with the store's clock.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) { c.sweepInterval = d }
}

// WithClock sets the clock that decides whether a record has expired and
// stamps CreatedAt/UpdatedAt. Default time.Now. Every instance on one
// database should agree on the time; tests use it to pin time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock, c.customClock = now, now != nil }
}

func (c *config) validate() error {
	if n := len(c.schema); n == 0 || n > 48 {
		return invalid("new", "schema must be 1 to 48 characters")
	}
	for i, r := range c.schema {
		ok := r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return invalid("new", "schema may only hold a-z, 0-9 and '_', and not start with a digit")
		}
	}
	if c.timeout <= 0 {
		return invalid("new", "timeout must be positive")
	}
	if c.sweepInterval <= 0 {
		return invalid("new", "sweep interval must be positive")
	}
	if c.localView {
		if c.pingInterval <= 0 {
			return invalid("new", "view ping interval must be positive")
		}
		if c.maxLag <= 2*c.pingInterval {
			return invalid("new", "view max lag must exceed twice the ping interval")
		}
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	return nil
}
