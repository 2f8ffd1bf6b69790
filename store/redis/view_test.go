package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// namedClient returns a client of its own on the test Redis whose
// connections carry a unique name, so a test can find and kill them.
func namedClient(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	needRedis(t)
	opt := redisOptions(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	opt.ClientName = "gktest-" + hex.EncodeToString(b[:])
	c := goredis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c, opt.ClientName
}

// viewStore returns a Store on its own client, sharing prefix. The lag is
// long so a loaded machine does not make the view untrusted mid-test.
func viewStore(t *testing.T, c *goredis.Client, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithViewMaxLag(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitTrusted(t *testing.T, s *redisstore.Store) {
	t.Helper()
	eventually(t, 3*time.Second, s.ViewTrusted, "the local view never became trusted")
}

// killPubSub kills the pub/sub connections of the client named name.
func killPubSub(t *testing.T, admin *goredis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, "flags=P") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d pub/sub connections named %s, want 1", killed, name)
	}
}

func TestViewSeesOtherInstanceWithin100ms(t *testing.T) {
	admin := needRedis(t)
	prefix := newPrefix(t, admin)
	ca, _ := namedClient(t)
	cb, _ := namedClient(t)
	a, b := viewStore(t, ca, prefix), viewStore(t, cb, prefix)
	waitTrusted(t, b)

	rows := []struct {
		name   string
		revoke func(context.Context) error
		check  store.Check
	}{
		{"token id", func(ctx context.Context) error { return a.Revoke(ctx, "jti-x", time.Now().Add(time.Hour)) },
			store.Check{TokenID: "jti-x", UserID: "u1", IssuedAt: time.Now()}},
		{"session id", func(ctx context.Context) error { return a.Revoke(ctx, "sid-x", time.Now().Add(time.Hour)) },
			store.Check{TokenID: "other", SessionID: "sid-x", UserID: "u1", IssuedAt: time.Now()}},
		{"user valid-after", func(ctx context.Context) error {
			return a.RevokeUserBefore(ctx, "u2", time.Now().Add(time.Minute), time.Now().Add(time.Hour))
		}, store.Check{TokenID: "t", UserID: "u2", IssuedAt: time.Now()}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			ctx := t.Context()
			before := b.Fallbacks()
			if isRevoked(t, b, r.check) {
				t.Fatal("revoked before the revocation")
			}
			start := time.Now()
			if err := r.revoke(ctx); err != nil {
				t.Fatal(err)
			}
			revoked := false
			for !revoked && time.Since(start) < time.Second {
				if revoked = isRevoked(t, b, r.check); !revoked {
					time.Sleep(time.Millisecond)
				}
			}
			took := time.Since(start)
			if !revoked {
				t.Fatal("never enforced by the other instance")
			}
			if took >= 100*time.Millisecond {
				t.Errorf("the other instance enforced it after %v, want under 100ms", took)
			}
			if n := b.Fallbacks(); n != before {
				t.Errorf("%d answers came from Redis, want all from the view", n-before)
			}
		})
	}
}

func TestViewRebuildsFromKeys(t *testing.T) {
	admin := needRedis(t)
	prefix := newPrefix(t, admin)
	ca, _ := namedClient(t)
	a := viewStore(t, ca, prefix)
	ctx := t.Context()
	// Written before the second instance exists: only the rebuild can know.
	must(t, a.Revoke(ctx, "early", time.Now().Add(time.Hour)))
	must(t, a.RevokeUserBefore(ctx, "u1", time.Now(), time.Now().Add(time.Hour)))

	cb, _ := namedClient(t)
	b := viewStore(t, cb, prefix)
	waitTrusted(t, b)
	before := b.Fallbacks()
	for _, c := range []store.Check{
		{TokenID: "early"},
		{TokenID: "t", UserID: "u1", IssuedAt: time.Now().Add(-time.Minute)},
	} {
		if !isRevoked(t, b, c) {
			t.Errorf("%+v: not revoked", c)
		}
	}
	if b.Fallbacks() != before {
		t.Errorf("answered by Redis, not by the rebuilt view")
	}
}

func TestViewFallsBackWhenSubscriptionDies(t *testing.T) {
	admin := needRedis(t)
	prefix := newPrefix(t, admin)
	ca, _ := namedClient(t)
	cb, nameB := namedClient(t)
	a, b := viewStore(t, ca, prefix), viewStore(t, cb, prefix)
	waitTrusted(t, b)
	ctx := t.Context()
	syncs := b.ViewSyncs()

	killPubSub(t, admin, nameB)
	// Redis closed the connection: the view stops trusting itself at once.
	eventually(t, time.Second, func() bool { return !b.ViewTrusted() },
		"view still trusted after its subscription was killed")

	// Whatever happens meanwhile, answers stay right.
	must(t, a.Revoke(ctx, "while-down", time.Now().Add(time.Hour)))
	falls, trusted := b.Fallbacks(), b.ViewTrusted()
	if !isRevoked(t, b, store.Check{TokenID: "while-down"}) {
		t.Errorf("revocation made while the subscription was down not enforced")
	}
	if !trusted && b.Fallbacks() == falls {
		t.Errorf("an untrusted view answered without asking Redis")
	}

	// And it recovers: resubscribed, rebuilt, trusted, local again.
	eventually(t, 3*time.Second, func() bool { return b.ViewSyncs() > syncs && b.ViewTrusted() },
		"view did not resubscribe, rebuild and become trusted again")
	falls = b.Fallbacks()
	if !isRevoked(t, b, store.Check{TokenID: "while-down"}) {
		t.Errorf("recovered view lost the revocation")
	}
	if b.Fallbacks() != falls {
		t.Errorf("recovered view still asks Redis")
	}
}

func TestViewDropsExpiredEntries(t *testing.T) {
	c := needRedis(t)
	s := newStore(t, c)
	ctx := t.Context()
	// Lifetimes long enough that a loaded CI machine still counts all three
	// before they end.
	must(t, s.Revoke(ctx, "short", time.Now().Add(500*time.Millisecond)))
	must(t, s.RevokeUserBefore(ctx, "u", time.Now(), time.Now().Add(500*time.Millisecond)))
	must(t, s.Revoke(ctx, "long", time.Now().Add(time.Hour)))
	if n := s.ViewSize(); n != 3 {
		t.Fatalf("view holds %d entries, want 3", n)
	}
	time.Sleep(600 * time.Millisecond) // Redis's own clock expires the keys too
	s.Sweep()
	if n := s.ViewSize(); n != 1 {
		t.Errorf("view holds %d entries after sweep, want 1: memory must hold live revocations only", n)
	}
}

// TestViewDistrustsItselfWhenPingsStall: the subscription stays connected
// but nothing published comes back (CLIENT PAUSE WRITE holds every PUBLISH
// and script). The view must stop answering within its max lag and ask
// Redis, whose reads still work, then trust itself again. A Redis of its
// own, so the pause stalls nobody else.
func TestViewDistrustsItselfWhenPingsStall(t *testing.T) {
	srv := startServer(t, "")
	c := goredis.NewClient(&goredis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	const lag = 150 * time.Millisecond
	s, err := redisstore.New(c, redisstore.WithViewPingInterval(20*time.Millisecond), redisstore.WithViewMaxLag(lag),
		redisstore.WithTimeout(time.Second))
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	eventually(t, 3*time.Second, s.ViewTrusted, "view never trusted")
	must(t, s.Revoke(t.Context(), "jti-p", time.Now().Add(time.Hour)))

	admin := goredis.NewClient(&goredis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = admin.Close() })
	paused := time.Now()
	must(t, admin.Do(t.Context(), "CLIENT", "PAUSE", "1000", "WRITE").Err())
	eventually(t, time.Second, func() bool { return !s.ViewTrusted() }, "view still trusted with its pings stalled")
	// The pause lasts 1 s: untrusted well before it ends shows the max lag
	// at work, with room for a loaded machine's scheduling.
	if took := time.Since(paused); took > lag+400*time.Millisecond {
		t.Errorf("view trusted for %v after its pings stalled, max lag is %v", took, lag)
	}
	falls := s.Fallbacks()
	if !isRevoked(t, s, store.Check{TokenID: "jti-p"}) || isRevoked(t, s, store.Check{TokenID: "other"}) {
		t.Errorf("answers from Redis wrong while the view is untrusted")
	}
	if s.Fallbacks() == falls {
		t.Errorf("an untrusted view answered without asking Redis")
	}
	must(t, admin.Do(t.Context(), "CLIENT", "UNPAUSE").Err())
	eventually(t, 2*time.Second, s.ViewTrusted, "view not trusted again after the pause")
}
