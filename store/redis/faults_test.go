package redis_test

import (
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// TestRedisKilledAndRestarted: a Redis with fsync-always AOF is SIGKILLed
// under a Store. Calls must fail with ErrUnavailable within the timeout
// bound (not hang, not pass), and after a restart on the same port and
// directory everything acknowledged before the kill is there, served by the
// same Store.
func TestRedisKilledAndRestarted(t *testing.T) {
	srv := startServer(t, "", "--appendonly", "yes", "--appendfsync", "always")
	c := goredis.NewClient(&goredis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	const timeout = 200 * time.Millisecond
	s, err := redisstore.New(c, redisstore.WithTimeout(timeout))
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	hour := time.Now().Add(time.Hour)
	eventually(t, 3*time.Second, s.ViewTrusted, "view never trusted")

	// Acknowledged writes.
	must(t, s.CreateUser(ctx, &store.User{ID: "u1", Username: "Alice", Roles: []string{"admin"}}))
	must(t, s.CreateSession(ctx, &store.Session{ID: "s1", UserID: "u1", RefreshID: "r1",
		CreatedAt: time.Now(), IdleExpiresAt: hour, ExpiresAt: hour}))
	_, err = s.RotateSession(ctx, "s1", store.Rotation{Expected: "r1", Next: "r2", At: time.Now(), IdleExpiresAt: hour})
	must(t, err)
	must(t, s.Revoke(ctx, "jti-1", hour))
	must(t, s.RevokeUserBefore(ctx, "u1", time.Now(), hour))
	first, err := s.UseOnce(ctx, "reset-1", hour)
	must(t, err)
	if !first {
		t.Fatal("first UseOnce reported a reuse")
	}
	_, _, err = s.Incr(ctx, "login:alice", time.Hour)
	must(t, err)

	srv.kill()
	// The subscription's connection is gone: the view distrusts itself.
	eventually(t, time.Second, func() bool { return !s.ViewTrusted() }, "view still trusted with Redis dead")
	assertBounded(t, s, timeout+250*time.Millisecond)
	// A revoked token stays revoked or unanswerable: never valid.
	if r, err := s.IsRevoked(ctx, store.Check{TokenID: "jti-1"}); err == nil && !r {
		t.Errorf("a revoked token passed while Redis was down")
	}

	srv.start()
	eventually(t, 5*time.Second, func() bool { return s.Ping(ctx) == nil }, "the same Store never reached the restarted Redis")

	u, err := s.UserByUsername(ctx, "alice")
	must(t, err)
	if u.ID != "u1" || len(u.Roles) != 1 || u.Roles[0] != "admin" {
		t.Errorf("user after restart: %+v", u)
	}
	sess, err := s.Session(ctx, "s1")
	must(t, err)
	if sess.RefreshID != "r2" || sess.PreviousRefreshID != "r1" {
		t.Errorf("session after restart lost its rotation: %+v", sess)
	}
	checks := []struct {
		name string
		c    store.Check
		want bool
	}{
		{"revoked token", store.Check{TokenID: "jti-1"}, true},
		{"token before the user's mark", store.Check{TokenID: "x", UserID: "u1", IssuedAt: time.Now().Add(-time.Minute)}, true},
		{"token after the user's mark", store.Check{TokenID: "y", UserID: "u1", IssuedAt: time.Now().Add(time.Minute)}, false},
	}
	for _, r := range checks {
		if got := isRevoked(t, s, r.c); got != r.want {
			t.Errorf("%s: IsRevoked = %v, want %v", r.name, got, r.want)
		}
	}
	first, err = s.UseOnce(ctx, "reset-1", hour)
	must(t, err)
	if first {
		t.Errorf("a one-time id used before the kill was usable again")
	}
	n, _, err := s.Count(ctx, "login:alice")
	must(t, err)
	if n != 1 {
		t.Errorf("counter after restart = %d, want 1", n)
	}

	// The view comes back by itself, rebuilt from the keys.
	eventually(t, 5*time.Second, s.ViewTrusted, "view never trusted again after the restart")
	falls := s.Fallbacks()
	if !isRevoked(t, s, store.Check{TokenID: "jti-1"}) {
		t.Errorf("rebuilt view lost a revocation")
	}
	if s.Fallbacks() != falls {
		t.Errorf("recovered view still asks Redis")
	}
	if err := s.CreateUser(ctx, &store.User{ID: "u2", Username: "bob"}); err != nil {
		t.Errorf("writes after restart: %v", err)
	}
	if err := s.CreateUser(ctx, &store.User{ID: "u3", Username: "ALICE"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("username index lost in restart: got %v, want ErrConflict", err)
	}
}
