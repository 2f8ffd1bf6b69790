package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestConformance(t *testing.T) {
	needRedis(t)
	rows := []struct {
		name        string
		ctxDeadline bool // the client applies context deadlines itself
		opts        []redisstore.Option
	}{
		{"local view, deadline-aware client", true, nil},
		{"no local view, default client", false, []redisstore.Option{redisstore.WithoutLocalView()}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			opt := redisOptions(t)
			opt.ContextTimeoutEnabled = r.ctxDeadline
			c := goredis.NewClient(opt)
			t.Cleanup(func() { _ = c.Close() })
			storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, c, r.opts...) })
		})
	}
}
