package memory_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
)

// populate revokes n random 32-hex ids (the shape of a jti) and returns them.
func populate(b *testing.B, s *memory.Store, n int) []string {
	b.Helper()
	ids := make([]string, n)
	until := time.Now().Add(time.Hour)
	for i := range ids {
		ids[i] = store.NewID()
		if err := s.Revoke(context.Background(), ids[i], until); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkIsRevoked is the per-request check: a live token (nothing
// revoked, a valid-after mark present for its user) and a revoked one, with
// 100 000 revocations in the store.
func BenchmarkIsRevoked(b *testing.B) {
	s := memory.New()
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	ids := populate(b, s, 100_000)
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

// BenchmarkRevokedEntryMemory reports the heap held per revocation with one
// million 32-hex token ids revoked (metric bytes/entry), the id strings
// included since the store keeps them. Run it with -benchtime=1x: each
// iteration builds a fresh store.
func BenchmarkRevokedEntryMemory(b *testing.B) {
	const n = 1_000_000
	until := time.Now().Add(time.Hour)
	ctx := context.Background()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := memory.New()
		for range n {
			if err := s.Revoke(ctx, store.NewID(), until); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(s)
		_ = s.Close()
	}
}
