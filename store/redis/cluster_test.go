package redis_test

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/store/storetest"
)

// TestCluster runs the conformance suite and the local view's cross-
// instance check on a three-node Redis Cluster of its own.
func TestCluster(t *testing.T) {
	addrs := startCluster(t)
	newClient := func(t *testing.T) *goredis.ClusterClient {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	shared := newClient(t)

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, shared) })
	})

	t.Run("LocalViewAcrossInstances", func(t *testing.T) {
		prefix := newPrefix(t, shared)
		open := func() *redisstore.Store {
			s, err := redisstore.New(newClient(t), redisstore.WithPrefix(prefix), redisstore.WithViewMaxLag(3*time.Second))
			must(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
		a, b := open(), open()
		eventually(t, 5*time.Second, b.ViewTrusted, "the view on a Cluster never became trusted")
		falls := b.Fallbacks()
		start := time.Now()
		must(t, a.Revoke(t.Context(), "jti-c", time.Now().Add(time.Hour)))
		eventually(t, time.Second, func() bool { return isRevoked(t, b, store.Check{TokenID: "jti-c"}) },
			"revocation never reached the other instance")
		if took := time.Since(start); took >= 100*time.Millisecond {
			t.Errorf("the other instance enforced it after %v, want under 100ms", took)
		}
		if b.Fallbacks() != falls {
			t.Errorf("answers came from Redis, not from the view fed by sharded pub/sub")
		}
	})
}
