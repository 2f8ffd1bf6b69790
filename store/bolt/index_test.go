package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// indexed counts the index's entries, corrupt ones included.
func (x *index) size() int {
	n := 0
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.RLock()
		n += len(sh.revoked) + len(sh.marks) + len(sh.badRevoked) + len(sh.badMarks)
		sh.mu.RUnlock()
	}
	return n
}

// Concurrent writes of one id and one user's mark: the index must end
// where the file does (it changes in commit order), and answer as the
// on-disk path does on each side of the final until.
func TestIndexMatchesFileUnderConcurrentWrites(t *testing.T) {
	var ns atomic.Int64
	t0 := time.Unix(1_800_000_000, 0)
	ns.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, ns.Load()) }
	s, err := Open(filepath.Join(t.TempDir(), "i.db"), WithClock(now), WithSweepInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	var wg sync.WaitGroup
	const n = 16
	for i := range n {
		wg.Go(func() {
			until := t0.Add(time.Duration((i*7)%n+1) * time.Minute)
			if err := errors.Join(s.Revoke(ctx, "jti", until),
				s.RevokeUserBefore(ctx, "u", t0.Add(time.Duration(i)*time.Second), until)); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if r, err := s.IsRevoked(ctx, store.Check{TokenID: "other", UserID: "v", IssuedAt: t0}); r || err != nil {
				t.Errorf("IsRevoked of an unrelated token = %v, %v", r, err)
			}
		})
	}
	wg.Wait()
	last := t0.Add(n * time.Minute)
	for _, row := range []struct {
		name string
		at   time.Time
		c    store.Check
		want bool
	}{
		{"token before its until", last.Add(-time.Nanosecond), store.Check{TokenID: "jti"}, true},
		{"token at its until", last, store.Check{TokenID: "jti"}, false},
		{"mark: issued before the latest before", last.Add(-time.Nanosecond), store.Check{UserID: "u", IssuedAt: t0.Add((n-1)*time.Second - 1)}, true},
		{"mark: issued at the latest before", last.Add(-time.Nanosecond), store.Check{UserID: "u", IssuedAt: t0.Add((n - 1) * time.Second)}, false},
		{"mark at its until", last, store.Check{UserID: "u", IssuedAt: t0}, false},
	} {
		ns.Store(row.at.UnixNano())
		got, err := s.IsRevoked(ctx, row.c)
		disk, derr := s.isRevokedDisk(ctx, row.c)
		if err != nil || derr != nil || got != row.want || disk != row.want {
			t.Errorf("%s: index %v, %v; file %v, %v; want %v", row.name, got, err, disk, derr, row.want)
		}
	}
}

// The janitor's sweep drops from the index what it deletes from the file,
// so the index is bounded by the live revocations.
func TestSweepDropsExpiredIndexEntries(t *testing.T) {
	var ns atomic.Int64
	ns.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, ns.Load()) }
	s, err := Open(filepath.Join(t.TempDir(), "i.db"), WithClock(now), WithSweepInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	t0 := now()
	for i := range 10 {
		if err := s.Revoke(ctx, fmt.Sprint("jti-", i), t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeUserBefore(ctx, "u", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := s.idx.size(); n != 11 {
		t.Fatalf("index holds %d entries, want 11", n)
	}
	ns.Store(t0.Add(5 * time.Minute).UnixNano())
	if err := s.sweep(); err != nil {
		t.Fatal(err)
	}
	if n := s.idx.size(); n != 5 {
		t.Errorf("after the sweep the index holds %d entries, want 5 (jti-5 to jti-9)", n)
	}
	if r, err := s.IsRevoked(ctx, store.Check{TokenID: "jti-5"}); !r || err != nil {
		t.Errorf("IsRevoked(jti-5) after the sweep = %v, %v; want true", r, err)
	}
}

// The index is authoritative only for the file's one Store: a second New
// on the same *bbolt.DB is refused while the first is open.
func TestNewRefusesASecondStoreOnOneDB(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "i.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := New(db); !errors.Is(err, ErrInvalidOption) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second New on one db = %v; want ErrInvalidOption", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(db)
	if err != nil {
		t.Fatalf("New after the first store closed = %v", err)
	}
	_ = s2.Close()
}
