package auth

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/internal/redistest"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// ownRedis is a redis-server process this test started on a free port,
// so that it can stop and restart it: the shared test Redis is never
// stopped.
type ownRedis struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		redistest.Unavailable(t, "redis-server is not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := &ownRedis{t: t, bin: bin, dir: t.TempDir(), port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *ownRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *ownRedis) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log"))
	require.NoError(s.t, s.cmd.Start())
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.stop()
			s.t.Fatalf("redis-server on %s did not answer: %v", s.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the process (by its pid) and reaps it.
func (s *ownRedis) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// A Redis that stops answering logs one warning when the outage starts
// and one when it ends, however many requests fail in between; requests
// fail closed meanwhile (503) and work again after.
func TestStoreOutageRedis(t *testing.T) {
	srv := startOwnRedis(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.addr(), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	// Without the local view every request asks Redis, so the outage is
	// seen by the first request after the stop.
	st, err := redisstore.New(c, redisstore.WithoutLocalView(), redisstore.WithTimeout(time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	obs := newCountingObserver()
	f := newFixture(t, st, WithObserver(obs))
	tr := f.register("alice")
	require.Equal(t, http.StatusOK, f.status(tr.AccessToken))
	outage := func() []string { return filterEvents(f.logs.events(), "auth.store_") }
	require.Empty(t, outage())

	srv.stop()
	for range 5 {
		assert.Equal(t, http.StatusServiceUnavailable, f.status(tr.AccessToken))
	}
	f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	assert.Equal(t, []string{"auth.store_unavailable"}, outage())
	assert.Equal(t, 1, obs.event(EventStoreDown))
	assert.Equal(t, 5, obs.outcome(AuthUnavailable))

	srv.start()
	// Answers again, but within outageSettle of the last failure: still
	// one outage (a flapping store does not log a line per flap).
	require.Eventually(t, func() bool { return f.status(tr.AccessToken) == http.StatusOK },
		5*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"auth.store_unavailable"}, outage())
	f.clk.Advance(outageSettle)
	assert.Equal(t, http.StatusOK, f.status(tr.AccessToken))
	assert.Equal(t, http.StatusOK, f.status(tr.AccessToken))
	assert.Equal(t, []string{"auth.store_unavailable", "auth.store_recovered"}, outage())
	assert.Equal(t, 1, obs.event(EventStoreUp))
	text := f.logs.all()
	assert.Contains(t, text, "op=IsRevoked")
	assert.NotContains(t, text, tr.AccessToken)
	assert.False(t, strings.Contains(text, testPassword))
}
