package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ClientIP returns the IP of the client that sent r: the connection's peer,
// unless the peer is a trusted proxy ([WithTrustedProxies]), in which case
// it is the rightmost X-Forwarded-For entry that is not a trusted proxy.
// Entries left of that one were written by the client and are never
// believed. The zero Addr means the address could not be read.
func (a *Authenticator) ClientIP(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !a.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseAddr(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			// Garbage is never believed: the last trusted hop stands.
			return client
		}
		client = hop
		if !a.trusted(hop) {
			return hop
		}
	}
	return client
}

func (a *Authenticator) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port", unmapping IPv4-in-IPv6.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

// ipKey is the throttling key of a client IP: IPv6 clients usually hold a
// whole /64, so they are counted by it.
func ipKey(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "auth:login:ip:unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return "auth:login:ip:" + p.String()
	}
	return "auth:login:ip:" + ip.String()
}

// accountKey is the throttling key of a login name: its canonical form
// when it has one (so "Alice" and "ALICE" share it), hashed to keep keys
// short and free of user-chosen bytes. Names that do not exist are counted
// exactly like names that do.
func accountKey(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return "auth:login:acct:" + hex.EncodeToString(sum[:16])
}

func retryAfter(resetAt, now time.Time) time.Duration {
	d := resetAt.Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}

// throttleIP refuses a client IP that has failed ten times the account
// limit within the window. The store's count holds failures only, so a
// shared IP (NAT, office) is not charged for its successful logins; the
// attempts from the IP being checked right now on this instance count too,
// so that a burst of concurrent guesses cannot all pass before the first
// failure is recorded. The caller calls release once the attempt's failure,
// if any, is counted.
func (a *Authenticator) throttleIP(ctx context.Context, key string, now time.Time) (release func(), err error) {
	n, resetAt, err := a.st.Count(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%w: login throttle: %w", ErrUnavailable, err)
	}
	inflight := a.ipInflight.add(key, 1)
	release = func() { a.ipInflight.add(key, -1) }
	if n+inflight > int64(a.cfg.maxFailures)*ipFailuresMultiplier {
		release()
		if resetAt.IsZero() {
			resetAt = now.Add(time.Second)
		}
		return nil, &ThrottledError{RetryAfter: retryAfter(resetAt, now)}
	}
	return release, nil
}

// inflight counts attempts per key in progress on this instance.
type inflight struct {
	mu sync.Mutex
	n  map[string]int64
}

// add changes key's count by d and returns the new count; a count of zero
// is removed, so the map holds only keys in progress.
func (f *inflight) add(key string, d int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = make(map[string]int64)
	}
	v := f.n[key] + d
	if v <= 0 {
		delete(f.n, key)
		return 0
	}
	f.n[key] = v
	return v
}

// chargeAccount counts an attempt on the account before the password is
// checked (a success resets the count), so that concurrent guesses cannot
// all slip under the limit.
func (a *Authenticator) chargeAccount(ctx context.Context, key string, now time.Time) error {
	n, resetAt, err := a.st.Incr(ctx, key, a.cfg.loginWindow)
	if err != nil {
		return fmt.Errorf("%w: login throttle: %w", ErrUnavailable, err)
	}
	if n > int64(a.cfg.maxFailures) {
		return &ThrottledError{RetryAfter: retryAfter(resetAt, now)}
	}
	return nil
}
