package config_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
)

// captureStderr returns what was written to file descriptor 2 while f
// ran: go-redis's default logger holds os.Stderr's file, so only the
// descriptor itself shows what it prints.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer tmp.Close()
	saved, err := syscall.Dup(2)
	require.NoError(t, err)
	require.NoError(t, syscall.Dup3(int(tmp.Fd()), 2, 0))
	func() {
		defer func() {
			_ = syscall.Dup3(saved, 2, 0)
			_ = syscall.Close(saved)
		}()
		f()
	}()
	b, err := os.ReadFile(tmp.Name())
	require.NoError(t, err)
	return string(b)
}

// goRedisLine is a line of go-redis's own logger: "redis: 2026/01/02
// 15:04:05 pool.go:762: ...".
var goRedisLine = regexp.MustCompile(`(?m)^redis: [0-9]{4}/`)

// An unreachable Redis stops the start with gatekeep's one line naming
// REDIS_URL and the cause ("connection refused", "no such host"); go-redis
// prints nothing of its own.
func TestRedisUnreachableCause(t *testing.T) {
	for _, row := range []struct{ url, cause string }{
		{"redis://:pw-Zq9s3@127.0.0.1:1/0", "dial tcp 127.0.0.1:1: connect: connection refused"},
		// Not a domain name: the resolver says so without asking DNS.
		{"redis://:pw-Zq9s3@no-such-host..invalid:6379/0", "lookup no-such-host..invalid: no such host"},
		{"127.0.0.1:1,127.0.0.1:2", "connect: connection refused"},
		{"redis+sentinel://:pw-Zq9s3@127.0.0.1:1,127.0.0.1:2/mymaster?sentinel_password=sp-Zq9s3", "connect: connection refused"},
	} {
		t.Run(row.url, func(t *testing.T) {
			cfg := config.Default()
			cfg.JWTSecret = secret32
			cfg.Store, cfg.RedisURL = config.StoreRedis, config.Secret(row.url)
			var logs bytes.Buffer
			var err error
			stderr := captureStderr(t, func() {
				var st *config.Stack
				st, err = config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				assert.Nil(t, st)
				time.Sleep(200 * time.Millisecond) // a straggling dial's line would land here
			})
			require.Error(t, err)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "config: REDIS_URL: want a Redis that answers at start: "), msg)
			assert.Contains(t, msg, row.cause)
			assert.NotContains(t, msg, "\n")
			assert.NotContains(t, msg, "Zq9s3")
			assert.ErrorIs(t, err, config.ErrInvalid)
			assert.ErrorIs(t, err, store.ErrUnavailable)
			assert.NotRegexp(t, goRedisLine, stderr, "go-redis printed lines of its own")
			assert.NotContains(t, logs.String(), "go-redis", "go-redis's start-up lines belong in the error, not the log")
		})
	}
}

// After a start, go-redis's lines (a Redis gone away) reach the Build's
// logger, one line each at Warn, not stderr.
func TestRedisLinesAfterStartGoToLogger(t *testing.T) {
	_ = redistest.Client(t) // skips without Redis, fails under CI
	target := redistest.Options(t).Addr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() { // a proxy to the test Redis, closed below to make it vanish
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, r)
			mu.Unlock()
			go func() { _, _ = io.Copy(r, c); r.Close() }()
			go func() { _, _ = io.Copy(c, r); c.Close() }()
		}
	}()
	cfg, err := config.FromLookup(lookup(map[string]string{
		"JWT_SECRET": secret32, "AUTH_STORE": "redis", "REDIS_URL": "redis://" + ln.Addr().String() + "/0",
		"REVOCATION_MAX_LAG": "0",
	}))
	require.NoError(t, err)
	var logs syncBuffer
	st, err := config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	stderr := captureStderr(t, func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		_, err = st.Store.UserByUsername(t.Context(), "nobody")
		for range 2 {
			_, _ = st.Store.UserByUsername(t.Context(), "nobody")
		}
		time.Sleep(200 * time.Millisecond)
	})
	assert.NotRegexp(t, goRedisLine, stderr)
	require.ErrorIs(t, err, store.ErrUnavailable)
	assert.Contains(t, logs.String(), `level=WARN msg="config: go-redis: `)
	assert.Contains(t, logs.String(), "connection refused")
}
