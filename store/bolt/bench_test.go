package bolt_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

// benchRevoked writes n random 32-hex revocations into a new file in one
// transaction (Revoke would fsync each), opens a store on it and returns
// the store and the ids.
func benchRevoked(b *testing.B, n int, opts ...bolt.Option) (*bolt.Store, []string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := bolt.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = store.NewID()
	}
	until := make([]byte, 8)
	binary.BigEndian.PutUint64(until, uint64(time.Now().Add(time.Hour).UnixNano()))
	err = db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte("revoked"))
		// In key order: bbolt splits nodes only at commit, so random
		// inserts into one node would cost n² copies.
		for _, id := range slices.Sorted(slices.Values(ids)) {
			if err := bk.Put([]byte(id), until); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	s, err = bolt.Open(path, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s, ids
}

// BenchmarkIsRevoked is the per-request check, with 100 000 revocations in
// the file (as memory's BenchmarkIsRevoked has in memory): a live token (a
// valid-after mark present for its user) and a revoked one. It reads the
// store's in-memory index.
func BenchmarkIsRevoked(b *testing.B) { benchIsRevoked(b) }

// BenchmarkIsRevokedOnDisk is BenchmarkIsRevoked on the path before the
// index: one read transaction, three lookups in the file.
func BenchmarkIsRevokedOnDisk(b *testing.B) { benchIsRevoked(b, bolt.WithDiskRevocations()) }

func benchIsRevoked(b *testing.B, opts ...bolt.Option) {
	s, ids := benchRevoked(b, 100_000, opts...)
	ctx := context.Background()
	now := time.Now()
	if err := s.RevokeUserBefore(ctx, "user-1", now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	live := store.Check{TokenID: store.NewID(), SessionID: store.NewID(), UserID: "user-1", IssuedAt: now}
	revoked := store.Check{TokenID: ids[len(ids)/2], SessionID: store.NewID(), UserID: "user-1", IssuedAt: now}
	for _, bc := range []struct {
		name string
		c    store.Check
		want bool
	}{{"live", live, false}, {"revoked", revoked, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := s.IsRevoked(ctx, bc.c); r != bc.want || err != nil {
					b.Fatalf("IsRevoked = %v, %v", r, err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if r, err := s.IsRevoked(ctx, bc.c); r != bc.want || err != nil {
						b.Errorf("IsRevoked = %v, %v", r, err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRotateSession is one refresh: a compare-and-swap in a write
// transaction, fsynced.
func BenchmarkRotateSession(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", CreatedAt: now,
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour), RefreshID: "r0"}); err != nil {
		b.Fatal(err)
	}
	prev := "r0"
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		next := fmt.Sprintf("r%d", i)
		if _, err := s.RotateSession(ctx, "s", store.Rotation{Expected: prev, Next: next, At: now, IdleExpiresAt: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		prev = next
	}
}

// BenchmarkPasswordWrite is a password change's write, side by side: the
// unconditional UpdateUser and the compare-and-swap SetPasswordHash that
// password changes, resets and rehashes use (each a write transaction,
// fsynced).
func BenchmarkPasswordWrite(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	must(b, s.CreateUser(ctx, &store.User{ID: "u1", Username: "alice", PasswordHash: "h0", Roles: []string{"user"}}))
	b.Run("UpdateUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			h := fmt.Sprintf("u%d", i)
			if _, err := s.UpdateUser(ctx, "u1", store.UserUpdate{PasswordHash: &h}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SetPasswordHash", func(b *testing.B) {
		cur, err := s.User(ctx, "u1")
		must(b, err)
		prev := cur.PasswordHash
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			next := fmt.Sprintf("s%d", i)
			if _, err := s.SetPasswordHash(ctx, "u1", prev, next); err != nil {
				b.Fatal(err)
			}
			prev = next
		}
	})
}
