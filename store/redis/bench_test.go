package redis_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// Run side by side, in one run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./store/redis/

const benchRevocations = 10_000

// revokeMany revokes n fresh ids through r, 16 at a time, and returns them.
func revokeMany(b *testing.B, r store.Revoker, n int) []string {
	b.Helper()
	ids := make([]string, n)
	until := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				ids[i] = store.NewID()
				if err := r.Revoke(context.Background(), ids[i], until); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkIsRevoked is the per-request check on a live token (the common
// case: nothing revoked, a valid-after mark present for its user) and on a
// revoked one, with 10 000 revocations stored: store/memory, the Redis store
// with its local view, without it, and a bare go-redis EXISTS round trip.
func BenchmarkIsRevoked(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	now := time.Now()

	mem := memory.New()
	b.Cleanup(func() { _ = mem.Close() })
	prefix := newPrefix(b, c)
	view, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	must(b, err)
	b.Cleanup(func() { _ = view.Close() })
	noView, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithoutLocalView())
	must(b, err)
	b.Cleanup(func() { _ = noView.Close() })

	stores := []struct {
		name string
		s    store.Revoker
	}{{"memory", mem}, {"redis-view", view}, {"redis-noview", noView}}
	revokedIDs := map[string]string{}
	for _, st := range stores[:2] { // noView shares view's keys
		ids := revokeMany(b, st.s, benchRevocations)
		must(b, st.s.RevokeUserBefore(ctx, "user-1", now.Add(-time.Hour), now.Add(time.Hour)))
		revokedIDs[st.name] = ids[len(ids)/2]
	}
	revokedIDs["redis-noview"] = revokedIDs["redis-view"]
	eventually(b, 3*time.Second, view.ViewTrusted, "view never trusted")

	for _, kind := range []string{"live", "revoked"} {
		for _, st := range stores {
			c := store.Check{TokenID: store.NewID(), SessionID: store.NewID(), UserID: "user-1", IssuedAt: now}
			want := kind == "revoked"
			if want {
				c.TokenID = revokedIDs[st.name]
			}
			b.Run(kind+"/"+st.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if r, err := st.s.IsRevoked(ctx, c); r != want || err != nil {
						b.Fatalf("IsRevoked = %v, %v", r, err)
					}
				}
			})
			if st.name == "redis-noview" {
				continue
			}
			b.Run(kind+"/"+st.name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if r, err := st.s.IsRevoked(ctx, c); r != want || err != nil {
							b.Errorf("IsRevoked = %v, %v", r, err)
							return
						}
					}
				})
			})
		}
	}
	if f := view.Fallbacks(); f != 0 {
		b.Errorf("the view asked Redis %d times: the redis-view figures include round trips", f)
	}

	b.Run("live/go-redis-EXISTS", func(b *testing.B) {
		key := "{" + prefix + ":r}:i:nothing"
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Exists(ctx, key).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRotateSession(b *testing.B) {
	c := benchClient(b)
	s := newStore(b, c)
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	must(b, s.CreateSession(ctx, &store.Session{ID: "s1", UserID: "u1", RefreshID: "r0", CreatedAt: time.Now(), IdleExpiresAt: hour, ExpiresAt: hour}))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		next := "r" + strconv.Itoa(i+1)
		if _, err := s.RotateSession(ctx, "s1", store.Rotation{Expected: "r" + strconv.Itoa(i), Next: next, At: time.Now(), IdleExpiresAt: hour}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUserByUsername(b *testing.B) {
	c := benchClient(b)
	s := newStore(b, c)
	ctx := context.Background()
	must(b, s.CreateUser(ctx, &store.User{ID: store.NewID(), Username: "alice", Roles: []string{"user"}}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UserByUsername(ctx, "Alice"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordWrite is a password change's write, side by side: the
// unconditional UpdateUser and the compare-and-swap SetPasswordHash that
// password changes, resets and rehashes use.
func BenchmarkPasswordWrite(b *testing.B) {
	s := newStore(b, benchClient(b))
	ctx := context.Background()
	must(b, s.CreateUser(ctx, &store.User{ID: "u1", Username: "alice", PasswordHash: "h0", Roles: []string{"user"}}))
	b.Run("UpdateUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			h := "u" + strconv.Itoa(i)
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
			next := "s" + strconv.Itoa(i)
			if _, err := s.SetPasswordHash(ctx, "u1", prev, next); err != nil {
				b.Fatal(err)
			}
			prev = next
		}
	})
}

// benchClient is a client as Open makes it: one that applies context
// deadlines itself, so no call needs a goroutine to bound it.
func benchClient(b *testing.B) *goredis.Client {
	needRedis(b)
	opt := redisOptions(b)
	opt.ContextTimeoutEnabled = true
	c := goredis.NewClient(opt)
	b.Cleanup(func() { _ = c.Close() })
	return c
}
