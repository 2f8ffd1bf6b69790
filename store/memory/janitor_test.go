package memory

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// size counts the entries the store holds, expired or not.
func (s *Store) size() (n int) {
	s.sessions.mu.RLock()
	n += len(s.sessions.byID) + len(s.sessions.byUser)
	s.sessions.mu.RUnlock()
	s.counters.mu.Lock()
	n += len(s.counters.m)
	s.counters.mu.Unlock()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.revoked) + len(sh.once) + len(sh.marks)
		sh.mu.RUnlock()
	}
	return n
}

func TestJanitorSweepsExpiredEntries(t *testing.T) {
	var ns atomic.Int64
	ns.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, ns.Load()) }
	s := New(WithClock(now), WithSweepInterval(5*time.Millisecond))
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	t0 := now()
	exp := t0.Add(time.Minute)
	_, err1 := s.UseOnce(ctx, "once", exp)
	_, _, err2 := s.Incr(ctx, "k", time.Minute)
	if err := errors.Join(
		s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", ExpiresAt: exp}),
		s.Revoke(ctx, "jti", exp), s.RevokeUserBefore(ctx, "u", t0, exp), err1, err2,
	); err != nil {
		t.Fatal(err)
	}
	if n := s.size(); n != 6 {
		t.Fatalf("size = %d, want 6", n)
	}

	time.Sleep(20 * time.Millisecond) // several sweeps: nothing is due yet
	if n := s.size(); n != 6 {
		t.Fatalf("janitor removed live entries: size %d, want 6", n)
	}

	ns.Add(int64(time.Minute))
	deadline := time.Now().Add(2 * time.Second)
	for s.size() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.size(); n != 0 {
		t.Errorf("janitor left %d expired entries", n)
	}
}
