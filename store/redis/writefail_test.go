package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/redis"
)

// A Redis that answers reads but refuses writes (maxmemory reached under
// noeviction, found by fault injection): CheckWrite fails while Ping
// passes, /healthz answers 503 instead of 200, a script's refusal names the
// cause without the script's SHA, and the start-up bootstrap fails with
// one line naming its variable.
func TestWritesRefused(t *testing.T) {
	srv := startServer(t, "", "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
	url := "redis://" + srv.addr() + "/0"
	ctx := context.Background()

	env := map[string]string{"JWT_SECRET": "0123456789abcdef0123456789abcdef", "AUTH_STORE": "redis", "REDIS_URL": url}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	var skew atomic.Int64 // the clock moves past the probe's rate limit without sleeping
	clock := config.WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	st, err := config.Build(ctx, cfg, quiet, clock, config.WithRedisOptions(redis.WithPrefix("wf")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	health := func() int {
		rec := httptest.NewRecorder()
		st.Auth.HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	if code := health(); code != http.StatusOK {
		t.Fatalf("/healthz before the fill = %d, want 200", code)
	}

	// Fill Redis to its maxmemory with a client of the test's own.
	c := goredis.NewClient(&goredis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = c.Close() })
	big := strings.Repeat("x", 64<<10)
	for i := 0; ; i++ {
		if err := c.Set(ctx, fmt.Sprintf("fill:%d", i), big, 0).Err(); err != nil {
			if !strings.Contains(err.Error(), "OOM") {
				t.Fatalf("filling Redis: %v", err)
			}
			break
		}
		if i > 1000 {
			t.Fatal("Redis never refused a write")
		}
	}
	// Well past the limit, so that no small write slips under it (the
	// test's own server, never the shared one).
	if err := c.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}

	s := st.Store
	if err := s.(store.Pinger).Ping(ctx); err != nil {
		t.Fatalf("Ping of a full Redis = %v; reads still work", err)
	}
	err = s.(store.WriteChecker).CheckWrite(ctx)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CheckWrite of a full Redis = %v; want ErrUnavailable", err)
	}
	// Within the rate limit (5s) the last good probe stands; past it the
	// failure shows, and a failed probe is retried at every check.
	if code := health(); code != http.StatusOK {
		t.Fatalf("/healthz within the probe interval = %d, want the last answer, 200", code)
	}
	skew.Add(int64(6 * time.Second))
	for range 3 {
		if code := health(); code != http.StatusServiceUnavailable {
			t.Fatalf("/healthz of a Redis refusing writes = %d, want 503", code)
		}
	}
	err = s.CreateUser(ctx, &store.User{ID: "u1", Username: "alice", PasswordHash: "h"})
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "OOM") || strings.Contains(err.Error(), "script:") {
		t.Fatalf("CreateUser on a full Redis = %v; want ErrUnavailable naming OOM, without the script SHA", err)
	}

	// A start whose admin bootstrap is refused: one line, the cause, no SHA.
	env["ADMIN_USERNAME"], env["ADMIN_PASSWORD"] = "root", "root-password-Zq9"
	cfg, err = config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Build(ctx, cfg, quiet, config.WithRedisOptions(redis.WithPrefix("wf2")))
	if err == nil || !strings.Contains(err.Error(), "OOM") || strings.Contains(err.Error(), "script:") || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "config: ") {
		t.Fatalf("Build on a full Redis = %v; want one config line naming OOM, without the script SHA", err)
	}
	t.Log(err)

	// Room again: health recovers at the next check.
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil { // the test's own server
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for health() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not recover after Redis had room again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
