package auth

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// probeHasher is a real Hasher that counts its calls, records the
// kind and parameters of every hash it verifies against, and can hold
// Hash calls until released.
type probeHasher struct {
	Hasher
	hashes, verifies atomic.Int64
	entered          atomic.Int64
	mu               sync.Mutex
	verified         []string // paramSetOf of each encoded hash verified against
	hold             atomic.Pointer[chan struct{}]
}

func (h *probeHasher) Hash(pw string) (string, error) {
	h.hashes.Add(1)
	if c := h.hold.Load(); c != nil {
		h.entered.Add(1)
		<-*c
	}
	return h.Hasher.Hash(pw)
}

func (h *probeHasher) Verify(pw, encoded string) (bool, bool, error) {
	h.verifies.Add(1)
	h.mu.Lock()
	h.verified = append(h.verified, paramSetOf(encoded))
	h.mu.Unlock()
	return h.Hasher.Verify(pw, encoded)
}

func (h *probeHasher) takeVerified() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.verified
	h.verified = nil
	return out
}

// Issue 22 finding 2: a registration flood from one client was never
// answered 429 and hashed every request. The default limit answers the
// 21st registration from one IP with 429 and Retry-After, before hashing.
func TestRegisterThrottledPerIPBeforeHashing(t *testing.T) {
	h := &probeHasher{Hasher: fastHasher()}
	f := newFixture(t, nil, WithHasher(h))
	for i := range DefaultRegisterLimit.PerIP {
		w := f.do(req{method: "POST", path: "/auth/register", body: creds(fmt.Sprintf("flood%d", i), testPassword), remote: "203.0.113.9:1000"})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	}
	before := h.hashes.Load()
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("flood-over", testPassword), remote: "203.0.113.9:1001"})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	require.NotEmpty(t, w.Header().Get("Retry-After"))
	require.Equal(t, before, h.hashes.Load(), "a throttled registration must not hash")
	require.Contains(t, f.logs.events(), "auth.request_throttled")

	// Another client is not affected; the window's end lifts the limit.
	w = f.do(req{method: "POST", path: "/auth/register", body: creds("other-client", testPassword), remote: "198.51.100.7:1000"})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	f.clk.Advance(DefaultRegisterLimit.Window)
	w = f.do(req{method: "POST", path: "/auth/register", body: creds("flood-later", testPassword), remote: "203.0.113.9:1002"})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

func TestRegisterThrottledInTotal(t *testing.T) {
	f := newFixture(t, nil, WithRegisterLimit(RateLimit{PerIP: 100, Total: 2, Window: time.Minute}))
	for i := range 2 {
		w := f.do(req{method: "POST", path: "/auth/register", body: creds(fmt.Sprintf("u%d", i), testPassword), remote: fmt.Sprintf("203.0.113.%d:1", i+1)})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	}
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("u3", testPassword), remote: "203.0.113.50:1"})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	for _, bad := range []RateLimit{{0, 1, time.Minute}, {1, 0, time.Minute}, {1, 1, 0}} {
		_, err := New(f.signer, f.verifier, f.st, WithRegisterLimit(bad))
		require.ErrorIs(t, err, ErrInvalidConfig)
	}
}

// Issue 22 finding 2: registrations held every hash slot and a correct
// login waited for 503. Registrations now hold at most half the slots, so
// a login finds one while they are stuck in the hasher.
func TestRegistrationsLeaveHashSlotsForLogins(t *testing.T) {
	h := &probeHasher{Hasher: fastHasher()}
	f := newFixture(t, nil, WithHasher(h), WithMaxConcurrentHashes(2, 2*time.Second))
	f.register("victim")

	release := make(chan struct{})
	h.hold.Store(&release)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			f.do(req{method: "POST", path: "/auth/register", body: creds(fmt.Sprintf("flood%d", i), testPassword), remote: fmt.Sprintf("203.0.113.%d:1", i+1)})
		})
	}
	defer func() { close(release); wg.Wait() }()
	// Give the flood the time to take every slot it can (bounded wait
	// for the failing case: without a share, two registrations enter).
	require.Eventually(t, func() bool { return h.entered.Load() >= 1 }, 5*time.Second, time.Millisecond)
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) && h.entered.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	require.EqualValues(t, 1, h.entered.Load(), "registrations hold more than their share of the hash slots")

	start := time.Now()
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("victim", testPassword), remote: "198.51.100.1:1"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Less(t, time.Since(start), 2*time.Second, "the login waited for a hash slot")
}
