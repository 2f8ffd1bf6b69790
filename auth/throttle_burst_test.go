package auth

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type slowHasher struct {
	*Argon2id
	verifies atomic.Int64
}

func (h *slowHasher) Verify(pw, enc string) (bool, bool, error) {
	h.verifies.Add(1)
	time.Sleep(20 * time.Millisecond)
	return h.Argon2id.Verify(pw, enc)
}

// attack: password spraying from one IP in a concurrent burst. The per-IP
// limit (10 x maxFailures) must hold although failures are counted only
// after each password check: attempts in flight count too. Before that,
// 300 concurrent guesses all ran.
func TestIPThrottleHoldsUnderConcurrentGuesses(t *testing.T) {
	h := &slowHasher{Argon2id: fastHasher()}
	f := newFixture(t, nil, WithHasher(h), WithLoginThrottle(1, time.Hour),
		WithMaxConcurrentHashes(4, 5*time.Second))
	f.register("victim") // one hash for the account, not counted below
	h.verifies.Store(0)
	var wg sync.WaitGroup
	var unauth atomic.Int64
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := f.do(req{method: "POST", path: "/auth/login", remote: "203.0.113.7:1234",
				body: creds(fmt.Sprintf("spray%d", i), "wrong-password")})
			if w.Code == http.StatusUnauthorized {
				unauth.Add(1)
			}
		}()
	}
	wg.Wait()
	limit := int64(1 * ipFailuresMultiplier)
	t.Logf("IP limit %d; password checks run: %d; 401s: %d", limit, h.verifies.Load(), unauth.Load())
	if h.verifies.Load() > limit {
		t.Fatalf("one IP got %d password guesses against a limit of %d", h.verifies.Load(), limit)
	}
	// And the limit was reached by guessing, not by refusing everything.
	if h.verifies.Load() == 0 || h.verifies.Load() != unauth.Load() {
		t.Fatalf("%d password checks but %d 401s: the guesses did not run as wrong passwords", h.verifies.Load(), unauth.Load())
	}
}
