package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestKeyStoreConformance(t *testing.T) {
	needRedis(t)
	opt := redisOptions(t)
	opt.ContextTimeoutEnabled = true
	c := goredis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	storetest.RunKeyStore(t, func(t *testing.T) store.KeyStore { return newStore(t, c) })
}
