package auth

import (
	"context"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// healthWriteEvery is how often GET /healthz writes to the store: between
// probes, health checks reuse the last probe's answer, so that a load
// balancer checking every few hundred milliseconds does not turn health
// into write load.
const healthWriteEvery = 5 * time.Second

// writeProbe rate-limits the store's write check ([store.WriteChecker]).
type writeProbe struct {
	mu  sync.Mutex
	at  time.Time // when the last probe ran; zero before the first
	err error     // its answer
}

// check returns the answer of a probe run at most healthWriteEvery ago,
// running a new one (with ctx) when the last is older. A probe that fails
// is retried at the next health check, not after the interval, so
// recovery shows at once.
func (p *writeProbe) check(ctx context.Context, w store.WriteChecker, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && p.err == nil && now.Sub(p.at) < healthWriteEvery && now.Sub(p.at) >= 0 {
		return nil
	}
	p.err = w.CheckWrite(ctx)
	p.at = now
	return p.err
}

// healthy reports whether the store answers reads ([store.Pinger]) and,
// at most every healthWriteEvery, accepts a write ([store.WriteChecker]).
func (a *Authenticator) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if p, ok := a.st.(store.Pinger); ok {
		if p.Ping(ctx) != nil {
			return false
		}
	}
	if w, ok := a.st.(store.WriteChecker); ok {
		if a.health.check(ctx, w, a.cfg.now()) != nil {
			return false
		}
	}
	return true
}
