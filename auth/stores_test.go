package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

func TestRotationBolt(t *testing.T) {
	RunRotationSuite(t, func(t *testing.T) store.Store { return boltStore(t) })
}

// TestRotationRedis runs the suite on a real Redis (REDIS_URL, or
// 127.0.0.1:6379), each subtest under a prefix of its own. Without a Redis
// it skips, except when CI is set, where it fails.
func TestRotationRedis(t *testing.T) {
	opt := needRedis(t)
	RunRotationSuite(t, func(t *testing.T) store.Store { return redisStore(t, opt) })
}

func boltStore(tb testing.TB) store.Store {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "gatekeep.db"))
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// needRedis returns the options of the test Redis, skipping (or failing
// under CI) when none answers.
func needRedis(tb testing.TB) *goredis.Options {
	tb.Helper()
	redistest.Client(tb) // skips or fails without a Redis
	return redistest.Options(tb)
}

// redisStore returns a Redis store under a fresh prefix whose keys are
// deleted when tb ends.
func redisStore(tb testing.TB, opt *goredis.Options) store.Store {
	tb.Helper()
	c := goredis.NewClient(opt)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "gkauth-" + hex.EncodeToString(b[:])
	st, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		tb.Fatalf("redis.New: %v", err)
	}
	tb.Cleanup(func() {
		_ = st.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		it := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			c.Del(ctx, it.Val())
		}
		_ = c.Close()
	})
	return st
}
