package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

func TestRotationBolt(t *testing.T) {
	RunRotationSuite(t, func(t *testing.T) store.Store {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "gatekeep.db"))
		if err != nil {
			t.Fatalf("bolt.Open: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

// TestRotationRedis runs the suite on a real Redis (REDIS_URL, or
// 127.0.0.1:6379), each subtest under a prefix of its own. Without a Redis
// it skips, except when CI is set, where it fails.
func TestRotationRedis(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal("REDIS_URL cannot be parsed") // it may hold a password: not printed
	}
	probe := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = probe.Ping(ctx).Err()
	cancel()
	_ = probe.Close()
	if err != nil {
		why := "no Redis answers at " + opt.Addr + " (set REDIS_URL, or start redis-server)"
		if os.Getenv("CI") != "" {
			t.Fatal(why + "; CI is set, so this fails instead of skipping")
		}
		t.Skip(why)
	}
	RunRotationSuite(t, func(t *testing.T) store.Store {
		c := goredis.NewClient(opt)
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "gkauth-" + hex.EncodeToString(b[:])
		st, err := redisstore.New(c, redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatalf("redis.New: %v", err)
		}
		t.Cleanup(func() {
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
	})
}
