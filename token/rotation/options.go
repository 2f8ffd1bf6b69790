package rotation

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// Defaults.
const (
	// DefaultPrepublish is how long a new key is published before it
	// signs: longer than relying parties cache a JWK Set (gatekeep's
	// handler allows five minutes) and far longer than the reload interval.
	DefaultPrepublish = time.Hour
	// DefaultReloadInterval bounds how long an instance takes to see a
	// change another instance made.
	DefaultReloadInterval = 30 * time.Second
	// DefaultRetain is how long a retired key keeps verifying after it
	// stops signing: set it to the longest token lifetime (the refresh
	// TTL) plus the leeway with [WithRetain].
	DefaultRetain = 31 * 24 * time.Hour
	// syncTimeout bounds one background reload.
	syncTimeout = 10 * time.Second
	// maxSteps bounds the steps of one Sync (each a store write).
	maxSteps = 8
)

// Option configures [New].
type Option func(*config)

type config struct {
	prepublish time.Duration
	reload     time.Duration
	retain     time.Duration
	clock      func() time.Time
	log        *slog.Logger
	static     []*token.Key
	errs       []error
}

func defaultConfig() config {
	return config{prepublish: DefaultPrepublish, reload: DefaultReloadInterval, retain: DefaultRetain,
		clock: time.Now, log: slog.Default()}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
}

// WithPrepublish sets how long a new key is published (state next)
// before it signs. Default [DefaultPrepublish]. It must be at least the
// reload interval, so that every instance knows a key before any signs
// with it; make it longer than relying parties cache your JWK Set.
func WithPrepublish(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("pre-publication must be positive")
		}
		c.prepublish = d
	}
}

// WithReloadInterval sets how often the ring is read again, which bounds
// how long an instance takes to see another's change; a token with an
// unknown kid prompts at most one extra reload per interval. Default
// [DefaultReloadInterval].
func WithReloadInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("reload interval must be positive")
		}
		c.reload = d
	}
}

// WithRetain sets how long a key keeps verifying after it stops signing:
// the longest lifetime of a token it signed (the refresh TTL) plus the
// leeway. The reload interval is added to it, since other instances sign
// with the old key until they reload. Default [DefaultRetain].
func WithRetain(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("retention must be positive")
		}
		c.retain = d
	}
}

// WithClock sets the clock every decision is taken by. Default time.Now;
// tests inject one and call [Rotator.Sync]. Clocks of instances sharing a
// ring should agree to well within the pre-publication time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.fail("nil clock")
		}
		c.clock = now
	}
}

// WithLogger sets where audit events (key created, activated, retired,
// deleted) and reload failures go: kids and algorithms only, never key
// material. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.fail("nil logger")
		}
		c.log = l
	}
}

// WithVerifyOnly adds keys that verify but never sign, besides the ring's:
// the keys of a manual rotation, or the static key used before automatic
// rotation was turned on, so that turning it on logs nobody out.
func WithVerifyOnly(keys ...*token.Key) Option {
	return func(c *config) {
		for _, k := range keys {
			if k == nil {
				c.fail("nil verify-only key")
				continue
			}
			c.static = append(c.static, k)
		}
	}
}
