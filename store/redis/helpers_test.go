package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// The test Redis (internal/redistest): REDIS_URL, or 127.0.0.1:6379;
// without one the tests skip, or fail when CI is set.
var (
	redisOptions = redistest.Options
	needRedis    = redistest.Client
	unavailable  = redistest.Unavailable
)

// newPrefix returns a key prefix of its own for one test, and removes every
// key under it when the test ends.
func newPrefix(t testing.TB, c goredis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "gktest-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deletePrefix(t, c, p) })
	return p
}

func deletePrefix(t testing.TB, c goredis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	del := func(ctx context.Context, n *goredis.Client) error {
		it := n.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			if err := n.Del(ctx, it.Val()).Err(); err != nil {
				return err
			}
		}
		return it.Err()
	}
	var err error
	switch cc := c.(type) {
	case *goredis.ClusterClient:
		err = cc.ForEachMaster(ctx, del)
	case *goredis.Client:
		err = del(ctx, cc)
	}
	if err != nil {
		t.Logf("cleanup of prefix %s: %v", prefix, err)
	}
}

// newStore returns a Store with its own prefix on c, closed at cleanup.
func newStore(t testing.TB, c goredis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	opts = append([]redisstore.Option{redisstore.WithPrefix(newPrefix(t, c))}, opts...)
	s, err := redisstore.New(c, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isRevoked(t testing.TB, s *redisstore.Store, c store.Check) bool {
	t.Helper()
	r, err := s.IsRevoked(context.Background(), c)
	if err != nil {
		t.Fatalf("IsRevoked(%+v): %v", c, err)
	}
	return r
}

// eventually polls cond every millisecond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}
