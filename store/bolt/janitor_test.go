package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// records counts the keys in the expiring buckets and the session index.
func (s *Store) records(t *testing.T) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, name := range append([][]byte{bUserSessions}, expiring...) {
			n += tx.Bucket(name).Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestJanitorSweepsExpiredRecords(t *testing.T) {
	var ns atomic.Int64
	ns.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, ns.Load()) }
	s, err := Open(filepath.Join(t.TempDir(), "j.db"), WithClock(now), WithSweepInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	t0 := now()
	exp := t0.Add(time.Minute)
	_, err1 := s.UseOnce(ctx, "once", exp)
	_, _, err2 := s.Incr(ctx, "k", time.Minute)
	if err := errors.Join(
		s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", ExpiresAt: exp}),
		s.CreateSession(ctx, &store.Session{ID: "keep", UserID: "u", ExpiresAt: t0.Add(time.Hour)}),
		s.Revoke(ctx, "jti", exp), s.RevokeUserBefore(ctx, "u", t0, exp), err1, err2,
	); err != nil {
		t.Fatal(err)
	}
	const all = 8 // 2 sessions + 2 index entries + revoked, mark, once, counter
	if n := s.records(t); n != all {
		t.Fatalf("records = %d, want %d", n, all)
	}
	time.Sleep(30 * time.Millisecond) // several sweeps: nothing is due yet
	if n := s.records(t); n != all {
		t.Fatalf("janitor deleted live records: %d left, want %d", n, all)
	}
	ns.Add(int64(time.Minute))
	deadline := time.Now().Add(3 * time.Second)
	for s.records(t) != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.records(t); n != 2 {
		t.Errorf("after expiry %d records left, want 2 (the live session and its index entry)", n)
	}
	if list, err := s.UserSessions(ctx, "u"); err != nil || len(list) != 1 || list[0].ID != "keep" {
		t.Errorf("UserSessions after the sweep = %v, %v", list, err)
	}
}
