// Package redistest finds the Redis that gatekeep's tests talk to: REDIS_URL,
// or 127.0.0.1:6379. Without one, a test skips with a message — or fails
// when the CI variable is set, so that CI never passes by skipping the
// Redis tests. Test code only.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// URL returns REDIS_URL, or redis://127.0.0.1:6379/0.
func URL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Options returns the parsed [URL]. An unparsable REDIS_URL fails the test
// without printing it: it may hold a password.
func Options(t testing.TB) *goredis.Options {
	t.Helper()
	opt, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatal("REDIS_URL cannot be parsed")
	}
	return opt
}

// Client returns a client on the test Redis, closed when t ends. Without
// a Redis that answers it calls [Unavailable].
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	opt := Options(t)
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		Unavailable(t, "no Redis answers at "+opt.Addr+" (set REDIS_URL, or start redis-server)")
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Unavailable skips t for a missing dependency, or fails it when CI is set.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so this fails instead of skipping", why)
	}
	t.Skip(why)
}
