package redis_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// Ids that could reach other keys or move a key to another hash tag if
// they went into a key unencoded.
var hostileIDs = []struct{ name, id string }{
	{"colon", "a:b"},                 // key separator: must not reach "a" or "b"
	{"glob", "*"},                    // SCAN/KEYS pattern
	{"nul", "a\x00b"},                // C-string truncation
	{"open brace", "{a"},             // would start a hash tag
	{"close brace", "a}"},            // would end the prefix's hash tag early
	{"braces", "}{x}"},               // a whole new hash tag
	{"prefix lookalike", "a:b:u}:i"}, // mimics our own key layout
	{"plain a", "a"},
	{"plain b", "b"},
}

func TestHostileIDsStayIsolated(t *testing.T) {
	c := needRedis(t)
	s := newStore(t, c)
	ctx := t.Context()
	until := time.Now().Add(time.Hour)
	revoked := map[string]bool{}
	for i, r := range hostileIDs {
		if i%2 == 0 {
			must(t, s.Revoke(ctx, r.id, until))
			revoked[r.id] = true
		}
		must(t, s.CreateUser(ctx, &store.User{ID: r.id, Username: "user" + string(rune('a'+i)), Roles: []string{r.id}}))
		n, _, err := s.Incr(ctx, r.id, time.Minute)
		must(t, err)
		if n != 1 {
			t.Errorf("%s: counter of a fresh key is %d, want 1", r.name, n)
		}
	}
	for _, r := range hostileIDs {
		t.Run(r.name, func(t *testing.T) {
			if got := isRevoked(t, s, store.Check{TokenID: r.id}); got != revoked[r.id] {
				t.Errorf("IsRevoked(%q) = %v, want %v", r.id, got, revoked[r.id])
			}
			u, err := s.User(ctx, r.id)
			must(t, err)
			if u.ID != r.id || len(u.Roles) != 1 || u.Roles[0] != r.id {
				t.Errorf("User(%q) returned %+v", r.id, u)
			}
		})
	}
	users, next, err := s.ListUsers(ctx, "", 100)
	must(t, err)
	if len(users) != len(hostileIDs) || next != "" {
		t.Errorf("ListUsers: %d users, next %q; want %d and \"\"", len(users), next, len(hostileIDs))
	}
	for i := 1; i < len(users); i++ {
		if users[i-1].ID >= users[i].ID {
			t.Errorf("ListUsers not ordered by ID: %q before %q", users[i-1].ID, users[i].ID)
		}
	}

	// Every key sits in one of the documented hash tags, whatever the ids.
	prefix := onlyPrefix(t, c, s)
	tag := regexp.MustCompile(`^\{` + regexp.QuoteMeta(prefix) + `:(u|r|(s|us|o|c):[0-9a-f]+)\}`)
	it := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
	n := 0
	for it.Next(ctx) {
		n++
		if k := it.Val(); !tag.MatchString(k) {
			t.Errorf("key %q is outside the documented hash tags", k)
		}
	}
	must(t, it.Err())
	if n == 0 {
		t.Fatal("found no keys under the prefix")
	}
}

// onlyPrefix finds the prefix newStore gave s, from the keys it wrote.
func onlyPrefix(t *testing.T, c *goredis.Client, s *redisstore.Store) string {
	t.Helper()
	must(t, s.Revoke(context.Background(), "probe", time.Now().Add(time.Minute)))
	keys, err := c.Keys(context.Background(), "{gktest-*:r}:i:"+hex.EncodeToString([]byte("probe"))).Result()
	must(t, err)
	for _, k := range keys {
		p := strings.TrimSuffix(strings.TrimPrefix(k, "{"), ":r}:i:"+hex.EncodeToString([]byte("probe")))
		return p
	}
	t.Fatal("probe key not found")
	return ""
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	rows := []struct {
		name   string
		client goredis.UniversalClient
		opts   []redisstore.Option
	}{
		{"nil client", nil, nil},
		{"empty prefix", c, []redisstore.Option{redisstore.WithPrefix("")}},
		{"brace in prefix", c, []redisstore.Option{redisstore.WithPrefix("a}b")}}, // would break the hash tag
		{"colon in prefix", c, []redisstore.Option{redisstore.WithPrefix("a:b")}}, // would reach another prefix's keys
		{"glob in prefix", c, []redisstore.Option{redisstore.WithPrefix("a*")}},   // would widen SCAN patterns
		{"long prefix", c, []redisstore.Option{redisstore.WithPrefix(strings.Repeat("a", 65))}},
		{"zero timeout", c, []redisstore.Option{redisstore.WithTimeout(0)}},
		{"zero ping interval", c, []redisstore.Option{redisstore.WithViewPingInterval(0)}},
		{"lag not above two pings", c, []redisstore.Option{redisstore.WithViewPingInterval(time.Second), redisstore.WithViewMaxLag(2 * time.Second)}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s, err := redisstore.New(r.client, r.opts...)
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("New: got %v, want ErrInvalid", err)
			}
			if s != nil {
				t.Errorf("New returned a store with its error")
				_ = s.Close()
			}
		})
	}
	s, err := redisstore.New(c, redisstore.WithoutLocalView(), redisstore.WithViewPingInterval(0))
	if err != nil {
		t.Errorf("view options must not matter without the view: %v", err)
	} else {
		_ = s.Close()
	}
}

func TestOpen(t *testing.T) {
	rows := []struct {
		name, url string
		ok        bool
	}{
		{"redis URL", "redis://127.0.0.1:1/0", true},
		{"TLS URL", "rediss://user:pw@127.0.0.1:1/0", true},
		{"bare address", "127.0.0.1:1", true},
		{"cluster list", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", true},
		{"cluster list with scheme", "rediss://u:pw@127.0.0.1:1,127.0.0.1:2", true},
		{"empty", "", false},
		{"other scheme", "http://127.0.0.1:1", false},
		{"bad database", "redis://:s3cr3t-pw@127.0.0.1:1/notadb", false},
		{"unparsable with password", "redis://:s3cr3t-pw@[::1", false},
		{"path in cluster list", "127.0.0.1:1,127.0.0.1:2/0", false},
		// A password without a scheme would reach go-redis's dial errors.
		{"bare address with password", "u:s3cr3t@127.0.0.1:1", false},
		{"cluster list with password first", "u:s3cr3t@127.0.0.1:1,127.0.0.1:2", false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s, err := redisstore.Open(r.url, redisstore.WithoutLocalView())
			if r.ok {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				_ = s.Close()
				return
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Open: got %v, want ErrInvalid", err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestCloseLeavesCallersClientOpen(t *testing.T) {
	c := needRedis(t)
	s := newStore(t, c)
	must(t, s.Ping(t.Context()))
	must(t, s.Close())
	must(t, s.Close()) // again: nothing
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Errorf("Close closed the caller's client: %v", err)
	}
	_, err := s.IsRevoked(t.Context(), store.Check{TokenID: "x"})
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, redisstore.ErrClosed) {
		t.Errorf("IsRevoked after Close: got %v, want ErrClosed (ErrUnavailable)", err)
	}
	if err := s.Revoke(t.Context(), "x", time.Now().Add(time.Minute)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Revoke after Close: got %v, want ErrUnavailable", err)
	}
}

// TestUnresponsiveRedis: a server that accepts connections and never
// answers (a hung Redis, a black-holed network). Every operation must give
// up with ErrUnavailable within its timeout, and IsRevoked must never
// answer from a view it could not prove fresh.
func TestUnresponsiveRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; _ = conn.Close() }()
		}
	}()
	const timeout = 150 * time.Millisecond
	rows := []struct {
		name string
		open func() (*redisstore.Store, error)
	}{
		{"Open: a client that honours deadlines", func() (*redisstore.Store, error) {
			return redisstore.Open(ln.Addr().String(), redisstore.WithTimeout(timeout))
		}},
		{"New: a default client, deaf to deadlines", func() (*redisstore.Store, error) {
			// Its own short read timeout only shortens Close, which waits
			// for the view's goroutine; the calls' bound is the store's.
			c := goredis.NewClient(&goredis.Options{Addr: ln.Addr().String(), ReadTimeout: 400 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })
			return redisstore.New(c, redisstore.WithTimeout(timeout))
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s, err := r.open()
			must(t, err)
			t.Cleanup(func() { _ = s.Close() })
			assertBounded(t, s, timeout+250*time.Millisecond)
		})
	}
}

// assertBounded checks that every operation of s fails with ErrUnavailable
// within bound.
func assertBounded(t *testing.T, s *redisstore.Store, bound time.Duration) {
	t.Helper()
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	ops := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"CreateUser", func() error { return s.CreateUser(ctx, &store.User{ID: "u", Username: "u"}) }},
		{"User", func() error { _, err := s.User(ctx, "u"); return err }},
		{"UserByUsername", func() error { _, err := s.UserByUsername(ctx, "u"); return err }},
		{"ListUsers", func() error { _, _, err := s.ListUsers(ctx, "", 10); return err }},
		{"CreateSession", func() error {
			return s.CreateSession(ctx, &store.Session{ID: "s", UserID: "u", IdleExpiresAt: later, ExpiresAt: later})
		}},
		{"RotateSession", func() error { _, err := s.RotateSession(ctx, "s", store.Rotation{At: time.Now()}); return err }},
		{"UserSessions", func() error { _, err := s.UserSessions(ctx, "u"); return err }},
		{"Revoke", func() error { return s.Revoke(ctx, "t", later) }},
		{"IsRevoked", func() error { _, err := s.IsRevoked(ctx, store.Check{TokenID: "t"}); return err }},
		{"UseOnce", func() error { _, err := s.UseOnce(ctx, "o", later); return err }},
		{"Incr", func() error { _, _, err := s.Incr(ctx, "k", time.Minute); return err }},
	}
	for _, op := range ops {
		start := time.Now()
		err := op.call()
		took := time.Since(start)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", op.name, err)
		}
		if took > bound {
			t.Errorf("%s: took %v, want at most %v", op.name, took, bound)
		}
	}
}

func TestExtremeTimes(t *testing.T) {
	c := needRedis(t)
	s := newStore(t, c)
	ctx := t.Context()
	farFuture := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // past int64 nanoseconds
	must(t, s.Revoke(ctx, "forever", farFuture))
	must(t, s.RevokeUserBefore(ctx, "u-zero", time.Time{}, farFuture))
	must(t, s.RevokeUserBefore(ctx, "u-far", farFuture, farFuture))
	rows := []struct {
		name string
		c    store.Check
		want bool
	}{
		{"far-future until keeps a revocation", store.Check{TokenID: "forever"}, true},
		{"zero before revokes nothing issued now", store.Check{TokenID: "t", UserID: "u-zero", IssuedAt: time.Now()}, false},
		{"far-future before revokes what is issued now", store.Check{TokenID: "t", UserID: "u-far", IssuedAt: time.Now()}, true},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if got := isRevoked(t, s, r.c); got != r.want {
				t.Errorf("IsRevoked(%+v) = %v, want %v", r.c, got, r.want)
			}
		})
	}
	must(t, s.CreateSession(ctx, &store.Session{ID: "s-far", UserID: "u", IdleExpiresAt: farFuture, ExpiresAt: farFuture}))
	if _, err := s.Session(ctx, "s-far"); err != nil {
		t.Errorf("a session ending in the year 3000 is gone: %v", err)
	}
}

// TestClockDecidesExpiry: reads judge expiry by the store's clock, not only
// by Redis's TTL, so a clock ahead of Redis never serves an ended record.
func TestClockDecidesExpiry(t *testing.T) {
	c := needRedis(t)
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s := newStore(t, c, redisstore.WithClock(clock), redisstore.WithoutLocalView())
	ctx := t.Context()
	end := time.Now().Add(time.Hour)
	must(t, s.CreateSession(ctx, &store.Session{ID: "s1", UserID: "u1", IdleExpiresAt: end, ExpiresAt: end}))
	must(t, s.Revoke(ctx, "jti", end))
	_, _, err := s.Incr(ctx, "k", time.Hour)
	must(t, err)

	offset.Store(int64(2 * time.Hour))
	if _, err := s.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session past its end by the store's clock: got %v, want ErrNotFound", err)
	}
	if isRevoked(t, s, store.Check{TokenID: "jti"}) {
		t.Errorf("a revocation past its until by the store's clock still counts")
	}
	if n, _, err := s.Count(ctx, "k"); err != nil || n != 0 {
		t.Errorf("Count of a window past its end = %d, %v; want 0", n, err)
	}
	u := &store.User{ID: "u1", Username: "carol"}
	must(t, s.CreateUser(ctx, u))
	if d := time.Until(u.CreatedAt); d < time.Hour {
		t.Errorf("CreatedAt %v does not come from the store's clock", u.CreatedAt)
	}
}
