package memory_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newClocked(t *testing.T) (*memory.Store, *fakeClock) {
	clk := newFakeClock()
	s := memory.New(memory.WithClock(clk.Now))
	t.Cleanup(func() { _ = s.Close() })
	return s, clk
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExpiryFollowsInjectedClock(t *testing.T) {
	ctx := context.Background()
	s, clk := newClocked(t)
	t0 := clk.Now()
	until := t0.Add(15 * time.Minute)

	must(t, s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", IdleExpiresAt: t0.Add(time.Hour), ExpiresAt: t0.Add(24 * time.Hour), RefreshID: "r0"}))
	must(t, s.Revoke(ctx, "jti", until))
	must(t, s.RevokeUserBefore(ctx, "u", t0, until))
	_, _, err := s.Incr(ctx, "k", 15*time.Minute)
	must(t, err)
	if first, err := s.UseOnce(ctx, "once", until); err != nil || !first {
		t.Fatalf("UseOnce = %v, %v", first, err)
	}

	clk.Advance(15*time.Minute - time.Nanosecond)
	old := store.Check{TokenID: "x", UserID: "u", IssuedAt: t0.Add(-time.Second)}
	if r, err := s.IsRevoked(ctx, store.Check{TokenID: "jti"}); err != nil || !r {
		t.Errorf("revocation just before until: %v, %v; want revoked", r, err)
	}
	if r, _ := s.IsRevoked(ctx, old); !r {
		t.Errorf("mark just before until: not revoked")
	}

	clk.Advance(time.Nanosecond) // exactly at until: gone
	if r, _ := s.IsRevoked(ctx, store.Check{TokenID: "jti"}); r {
		t.Errorf("revocation present at until")
	}
	if r, _ := s.IsRevoked(ctx, old); r {
		t.Errorf("mark present at until")
	}
	if n, _, _ := s.Count(ctx, "k"); n != 0 {
		t.Errorf("window open at its end: %d", n)
	}
	if first, _ := s.UseOnce(ctx, "once", t0.Add(time.Hour)); !first {
		t.Errorf("one-time id remembered at until")
	}

	if _, err := s.Session(ctx, "s"); err != nil {
		t.Fatalf("session gone early: %v", err)
	}
	clk.Advance(45 * time.Minute) // an hour idle
	if _, err := s.Session(ctx, "s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle session: %v, want ErrNotFound", err)
	}
}

func TestRotationCannotPassAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	s, clk := newClocked(t)
	t0 := clk.Now()
	end := t0.Add(90 * time.Minute)
	must(t, s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", IdleExpiresAt: t0.Add(time.Hour), ExpiresAt: end, RefreshID: "r0"}))

	clk.Advance(50 * time.Minute)
	se, err := s.RotateSession(ctx, "s", store.Rotation{Expected: "r0", Next: "r1", At: clk.Now(), IdleExpiresAt: clk.Now().Add(time.Hour)})
	must(t, err)
	if !se.IdleExpiresAt.Equal(end) {
		t.Errorf("IdleExpiresAt = %v, want clamped to %v", se.IdleExpiresAt, end)
	}
	clk.Advance(50 * time.Minute)
	_, err = s.RotateSession(ctx, "s", store.Rotation{Expected: "r1", Next: "r2", At: clk.Now(), IdleExpiresAt: clk.Now().Add(time.Hour)})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rotation past the absolute expiry: %v, want ErrNotFound", err)
	}
}

func TestCloseStopsJanitorAndFailsClosed(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		s := memory.New(memory.WithSweepInterval(time.Millisecond))
		must(t, s.Close())
		must(t, s.Close()) // closing twice is not an error
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before: janitor leaked", n, before)
	}

	s := memory.New()
	must(t, s.Close())
	ctx := context.Background()
	revoked, err := s.IsRevoked(ctx, store.Check{TokenID: "t"})
	if !revoked || !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, memory.ErrClosed) {
		t.Errorf("IsRevoked on a closed store = %v, %v; want true, ErrClosed and ErrUnavailable", revoked, err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping on a closed store = %v", err)
	}
	if _, err := s.User(ctx, "u"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("User on a closed store = %v", err)
	}
}

// An until beyond what Unix nanoseconds hold must not wrap into the past
// and drop the revocation (fail open).
func TestFarFutureUntilDoesNotWrap(t *testing.T) {
	ctx := context.Background()
	s, _ := newClocked(t)
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	must(t, s.Revoke(ctx, "jti", far))
	must(t, s.RevokeUserBefore(ctx, "u", time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), far))
	if r, _ := s.IsRevoked(ctx, store.Check{TokenID: "jti"}); !r {
		t.Errorf("revocation until the year 3000 was dropped")
	}
	if r, _ := s.IsRevoked(ctx, store.Check{TokenID: "x", UserID: "u", IssuedAt: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)}); !r {
		t.Errorf("mark until the year 3000 was dropped")
	}
	if first, _ := s.UseOnce(ctx, "once", far); !first {
		t.Fatalf("first use refused")
	}
	if first, _ := s.UseOnce(ctx, "once", far); first {
		t.Errorf("one-time id until the year 3000 was forgotten")
	}
}
