package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// The account-wide ceiling (see slowAccount): past accountCeilingMultiplier
// times the per-(account, IP) limit of failures from all addresses within
// the window, every attempt on the account waits, from
// firstLoginDelay doubling with each further failure up to maxLoginDelay.
const (
	accountCeilingMultiplier = 3
	firstLoginDelay          = 250 * time.Millisecond
	maxLoginDelay            = 5 * time.Second
)

// lockKey is the key that locks an account against one client: failures
// on the account from that IP (an IPv6 client by its /64). It is what a
// wrong password from one client charges and what refuses with 429, so
// that failures from elsewhere never lock the owner out.
func lockKey(canonical string, ip netip.Addr) string {
	sum := sha256.Sum256([]byte(canonical + "\x00" + ipPart(ip)))
	return "auth:login:lock:" + hex.EncodeToString(sum[:16])
}

// loginDelay is the wait of an attempt on an account that has failed n
// times from all clients within the window, past a ceiling of ceiling.
func loginDelay(n, ceiling int64) time.Duration {
	if n < ceiling {
		return 0
	}
	d := firstLoginDelay
	for i := ceiling; i < n && d < maxLoginDelay; i++ {
		d *= 2
	}
	return min(d, maxLoginDelay)
}

// slowAccount waits before an attempt on the account whose failures (from
// every client) key acct counts, once they pass the account-wide ceiling:
// guesses spread over many addresses are slowed, and never refused, so
// that nobody can lock the owner out of an account. The wait is logged.
func (a *Authenticator) slowAccount(ctx context.Context, acct string, ip slog.Attr) error {
	n, _, err := a.st.Count(ctx, acct)
	if err != nil {
		return storeErr("login throttle", err)
	}
	d := loginDelay(n, int64(a.cfg.maxFailures)*accountCeilingMultiplier)
	if d <= 0 {
		return nil
	}
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_slowed", ip, slog.Duration("delay", d))
	if err := a.cfg.sleep(ctx, d); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// countFailure records a failed password check: on the client IP, the
// account's lock for that IP (charged already, before the check) and the
// account-wide count that slows it.
func (a *Authenticator) countFailure(ctx context.Context, ipk, acct string) error {
	if _, _, err := a.st.Incr(ctx, ipk, a.cfg.loginWindow); err != nil {
		return storeErr("login throttle", err)
	}
	if _, _, err := a.st.Incr(ctx, acct, a.cfg.loginWindow); err != nil {
		return storeErr("login throttle", err)
	}
	return nil
}
