package redis_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"

	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

func TestConformance(t *testing.T) {
	c := needRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, c) })
}

func TestConformanceWithoutLocalView(t *testing.T) {
	c := needRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, c, redisstore.WithoutLocalView())
	})
}
