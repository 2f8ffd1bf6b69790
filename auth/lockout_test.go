package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sleepRecorder replaces the progressive delay's wait: tests see each
// delay without waiting for it.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, d)
	return nil
}

func (s *sleepRecorder) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.delays
	s.delays = nil
	return out
}

// Issue 22 finding 6: LOGIN_MAX_FAILURES wrong passwords from anyone made
// the right password fail with 429 too. The lock is per (account, client
// IP): the attacker's client is locked, the owner's is not; past the
// account-wide ceiling attempts are slowed, progressively, never refused.
func TestLockoutIsPerClientAndTheCeilingOnlySlows(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(3, time.Minute))
	rec := &sleepRecorder{}
	f.a.cfg.sleep = rec.sleep
	f.register("alice")
	login := func(pw, remote string) int {
		return f.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw), remote: remote}).Code
	}
	const attacker = "203.0.113.66:1"
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, login("wrong password", attacker))
	}
	// The attacker's client is locked, even with the right password...
	require.Equal(t, http.StatusTooManyRequests, login(testPassword, attacker))
	// ...the owner, from a client with no failures, is not.
	require.Equal(t, http.StatusOK, login(testPassword, "198.51.100.10:1"))
	require.Empty(t, rec.take(), "no delay below the account-wide ceiling")

	// Failures spread over many clients (3 so far; the ceiling is 3×3):
	// each client stays under its lock.
	for i := range 6 {
		require.Equal(t, http.StatusUnauthorized, login("wrong password", fmt.Sprintf("192.0.2.%d:1", i+1)))
	}
	require.Empty(t, rec.take())
	// At the ceiling every attempt waits, the owner's included, and still
	// succeeds; each further failure doubles the wait, up to 5s.
	require.Equal(t, http.StatusOK, login(testPassword, "198.51.100.11:1"))
	require.Equal(t, []time.Duration{250 * time.Millisecond}, rec.take())
	require.Equal(t, http.StatusUnauthorized, login("wrong password", "192.0.2.100:1"))
	require.Equal(t, []time.Duration{250 * time.Millisecond}, rec.take())
	require.Equal(t, http.StatusOK, login(testPassword, "198.51.100.12:1"))
	require.Equal(t, []time.Duration{500 * time.Millisecond}, rec.take())
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, login("wrong password", fmt.Sprintf("192.0.2.%d:1", 110+i)))
	}
	rec.take()
	require.Equal(t, http.StatusOK, login(testPassword, "198.51.100.13:1"))
	require.Equal(t, []time.Duration{maxLoginDelay}, rec.take())
	require.Contains(t, f.logs.events(), "auth.login_slowed")

	// The window's end lifts both.
	f.clk.Advance(time.Minute + time.Second)
	require.Equal(t, http.StatusOK, login(testPassword, attacker))
	require.Empty(t, rec.take())
}

func TestLoginDelaySchedule(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want time.Duration
	}{{0, 0}, {29, 0}, {30, 250 * time.Millisecond}, {31, 500 * time.Millisecond}, {34, 4 * time.Second}, {35, 5 * time.Second}, {1 << 40, 5 * time.Second}} {
		require.Equal(t, tt.want, loginDelay(tt.n, 30), "n=%d", tt.n)
	}
}

func (s *sleepRecorder) discard(context.Context, time.Duration) error { return nil }
