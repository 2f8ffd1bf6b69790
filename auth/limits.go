package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// RateLimit bounds how many requests of one kind are accepted within a
// fixed window: PerIP from one client IP (an IPv6 client by its /64), Total
// from everyone. Both must be at least 1 and Window positive.
type RateLimit struct {
	PerIP  int
	Total  int
	Window time.Duration
}

// Defaults of the request limits in front of registration and
// forgot-password requests.
var (
	// DefaultRegisterLimit: 20 registrations per client IP and 1000 in
	// all per 15 minutes.
	DefaultRegisterLimit = RateLimit{PerIP: 20, Total: 1000, Window: 15 * time.Minute}
	// DefaultForgotPasswordLimit: 20 forgot-password requests per client
	// IP and 1000 in all per 15 minutes, in front of the per-account limit
	// of [WithPasswordResetThrottle].
	DefaultForgotPasswordLimit = RateLimit{PerIP: 20, Total: 1000, Window: 15 * time.Minute}
)

func (l RateLimit) valid() bool { return l.PerIP >= 1 && l.Total >= 1 && l.Window > 0 }

// WithRegisterLimit bounds registrations ([Authenticator.Register], POST
// /auth/register): beyond l.PerIP from one client IP, or l.Total from
// everyone, within l.Window, further ones get 429 with Retry-After. They
// are counted before the password is hashed, so a flood costs no hashing.
// Default [DefaultRegisterLimit]. Raise it for sign-up bursts from one
// network (a classroom behind one NAT); [WithTrustedProxies] must be right
// for the per-IP count to mean anything behind a proxy. Calls from Go with
// the zero [Client] share one "unknown IP" count: pass the client's IP, or
// create accounts your code vouches for with [Authenticator.EnsureUser],
// which is not limited.
func WithRegisterLimit(l RateLimit) Option {
	return option(func(c *config) { c.registerLimit = l })
}

// WithForgotPasswordLimit bounds forgot-password requests
// ([Authenticator.ForgotPassword]) per client IP and in total within a
// window, before the per-account count of [WithPasswordResetThrottle] is
// touched: so requests for made-up names cannot create counters without
// bound. Default [DefaultForgotPasswordLimit]. The total is a global
// brake: a flood from many addresses can use it up for everyone until the
// window ends, which costs only the reset messages of that window.
func WithForgotPasswordLimit(l RateLimit) Option {
	return option(func(c *config) { c.forgotLimit = l })
}

// ipPart is the per-IP part of a throttling key (see ipKey).
func ipPart(ip netip.Addr) string {
	return strings.TrimPrefix(ipKey(ip), "auth:login:ip:")
}

// limitRequest counts one request of kind (a key prefix such as
// "auth:register") against l, per client IP first and then in total, and
// returns a [*ThrottledError] beyond either. A request refused per IP is
// not counted in the total, so one noisy client does not use up everyone's
// budget.
func (a *Authenticator) limitRequest(ctx context.Context, kind string, l RateLimit, ip netip.Addr, now time.Time) error {
	n, resetAt, err := a.st.Incr(ctx, kind+":ip:"+ipPart(ip), l.Window)
	if err != nil {
		return storeErr(kind+" throttle", err)
	}
	scope := "ip"
	if n <= int64(l.PerIP) {
		n, resetAt, err = a.st.Incr(ctx, kind+":all", l.Window)
		if err != nil {
			return storeErr(kind+" throttle", err)
		}
		if n <= int64(l.Total) {
			return nil
		}
		scope = "total"
	}
	ra := retryAfter(resetAt, now)
	a.observe(ctx, EventThrottled)
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.request_throttled", slog.String("kind", strings.TrimPrefix(kind, "auth:")),
		slog.String("scope", scope), slog.String("ip", ip.String()), slog.Duration("retry_after", ra))
	return &ThrottledError{RetryAfter: ra}
}

// bulkShare is how many hash slots work that anyone can start without
// credentials, other than a login, may hold at once (registration): half
// of them, at least one. A login then always finds the other half
// (WithMaxConcurrentHashes above 1).
func bulkShare(maxHashes int) int { return max(1, maxHashes/2) }

// hashPasswordBulk hashes a password for unauthenticated work within
// both its share of the slots and a slot, waiting for each at most the
// configured time.
func (a *Authenticator) hashPasswordBulk(ctx context.Context, pw string) (string, error) {
	t := time.NewTimer(a.cfg.hashWait)
	defer t.Stop()
	select {
	case a.bulkSlots <- struct{}{}:
	default:
		select {
		case a.bulkSlots <- struct{}{}:
		case <-t.C:
			return "", fmt.Errorf("%w: %w", ErrUnavailable, ErrHasherBusy)
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
	}
	defer func() { <-a.bulkSlots }()
	return a.hashPassword(ctx, pw)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
