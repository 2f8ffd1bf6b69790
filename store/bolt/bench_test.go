package bolt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// BenchmarkIsRevoked is the per-request check on a file holding 100
// revocations: a live token (a valid-after mark present for its user) and
// a revoked one.
func BenchmarkIsRevoked(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	now := time.Now()
	var revokedID string
	for range 100 { // one fsync each: keep the setup short
		revokedID = store.NewID()
		if err := s.Revoke(ctx, revokedID, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.RevokeUserBefore(ctx, "user-1", now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		c    store.Check
		want bool
	}{
		{"live", store.Check{TokenID: store.NewID(), SessionID: store.NewID(), UserID: "user-1", IssuedAt: now}, false},
		{"revoked", store.Check{TokenID: revokedID, SessionID: store.NewID(), UserID: "user-1", IssuedAt: now}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := s.IsRevoked(ctx, bc.c); r != bc.want || err != nil {
					b.Fatalf("IsRevoked = %v, %v", r, err)
				}
			}
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
