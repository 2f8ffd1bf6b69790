package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestIdentityConformance(t *testing.T) {
	needRedis(t)
	c := goredis.NewClient(redisOptions(t))
	t.Cleanup(func() { _ = c.Close() })
	storetest.RunIdentityStore(t, func(t *testing.T) store.IdentityStore { return newStore(t, c) })
}
