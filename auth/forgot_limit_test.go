package auth

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 22 finding 3: forgot-password requests with ever new names from
// one client were all 202 and each made a counter. The per-IP limit
// answers 429 before a per-name counter exists.
func TestForgotPasswordLimitedPerIPBeforeTheNameCounter(t *testing.T) {
	f := newFixture(t, nil)
	forgot := func(name, remote string) *http.Response {
		w := f.do(req{method: "POST", path: "/auth/password/forgot", body: jsonBody(map[string]string{"username": name}), remote: remote})
		return w.Result()
	}
	for i := range DefaultForgotPasswordLimit.PerIP {
		require.Equal(t, http.StatusAccepted, forgot(fmt.Sprint("made-up-", i), "203.0.113.9:1").StatusCode)
	}
	r := forgot("made-up-over", "203.0.113.9:2")
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	n, _, err := f.st.Count(context.Background(), forgotKey("made-up-over"))
	require.NoError(t, err)
	require.Zero(t, n, "a refused request made a per-name counter")
	// Another client is not refused.
	require.Equal(t, http.StatusAccepted, forgot("made-up-over", "198.51.100.3:1").StatusCode)
}

func TestForgotPasswordLimitedInTotal(t *testing.T) {
	f := newFixture(t, nil, WithForgotPasswordLimit(RateLimit{PerIP: 10, Total: 3, Window: time.Minute}))
	for i := range 3 {
		w := f.do(req{method: "POST", path: "/auth/password/forgot", body: jsonBody(map[string]string{"username": fmt.Sprint("n", i)}), remote: fmt.Sprintf("203.0.113.%d:1", i+1)})
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	}
	w := f.do(req{method: "POST", path: "/auth/password/forgot", body: jsonBody(map[string]string{"username": "n9"}), remote: "203.0.113.99:1"})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	_, err := New(f.signer, f.verifier, f.st, WithForgotPasswordLimit(RateLimit{PerIP: 1, Total: 1}))
	require.ErrorIs(t, err, ErrInvalidConfig)
}
