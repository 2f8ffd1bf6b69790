package auth

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Denial-of-service bounds (issue 22, "make trust checkable"): each
// oversized or pathological input is refused with work bounded by
// allocations, measured per request, independent of the input's size.
// The bounds are about four times what was measured, far below the size
// of the input, so a change that copies, decodes or hashes it fails.

// allocsAndBytes runs fn n times and returns the allocations and the
// bytes allocated per run (after one warm-up run).
func allocsAndBytes(n int, fn func()) (allocs, bytesPer float64) {
	fn()
	allocs = testing.AllocsPerRun(n, fn)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		fn()
	}
	runtime.ReadMemStats(&after)
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

func TestDoSBoundsAtTheHTTPBoundary(t *testing.T) {
	f := newFixture(t, nil)
	f.register("alice")
	const mib = 1 << 20
	tests := []struct {
		name     string
		method   string
		path     string
		header   string // Authorization
		body     []byte
		status   int
		maxAlloc float64 // allocations per request
		maxBytes float64 // bytes allocated per request
	}{
		// A 1 MiB token is refused before it is decoded or hashed for the cache.
		{"1 MiB token", "GET", "/private", "Bearer " + strings.Repeat("a", mib), nil, http.StatusUnauthorized, 200, 64 << 10},
		// 900 000 dots: never split into 900 001 segments.
		{"900 000-dot header", "GET", "/private", "Bearer " + strings.Repeat(".", 900_000), nil, http.StatusUnauthorized, 200, 64 << 10},
		// JSON nested far deeper than encoding/json's 10 000 levels, within 64 KiB.
		{"deeply nested JSON", "POST", "/auth/login", "", []byte(`{"username":` + strings.Repeat("[", 60_000)), http.StatusBadRequest, 2000, 1 << 20},
		// 1 MiB of nesting: refused at the decoder's depth limit, long
		// before the 64 KiB body limit, so never read whole.
		{"1 MiB nested body", "POST", "/auth/register", "", []byte(strings.Repeat("[", mib)), http.StatusBadRequest, 2000, 1 << 20},
		// A 1 MiB password over HTTP: 413, nothing hashed.
		{"1 MiB password", "POST", "/auth/login", "", []byte(creds("alice", strings.Repeat("p", mib))), http.StatusRequestEntityTooLarge, 2000, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func() {
				var body *bytes.Reader
				if tt.body != nil {
					body = bytes.NewReader(tt.body)
				}
				var r *http.Request
				if body != nil {
					r = httptest.NewRequest(tt.method, tt.path, body)
					r.Header.Set("Content-Type", "application/json")
				} else {
					r = httptest.NewRequest(tt.method, tt.path, nil)
				}
				if tt.header != "" {
					r.Header.Set("Authorization", tt.header)
				}
				w := httptest.NewRecorder()
				f.mux.ServeHTTP(w, r)
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
			}
			allocs, b := allocsAndBytes(20, run)
			t.Logf("%s: %.0f allocations, %.0f bytes per request", tt.name, allocs, b)
			require.LessOrEqual(t, allocs, tt.maxAlloc, "allocations per request")
			require.LessOrEqual(t, b, tt.maxBytes, "bytes allocated per request")
		})
	}
}

// The Go API refuses a 1 MiB password without hashing it and without
// allocating in proportion to it.
func TestDoSBoundsLongPasswordFromGo(t *testing.T) {
	h := &probeHasher{Hasher: fastHasher()}
	f := newFixture(t, nil, WithHasher(h), WithLoginThrottle(1000, time.Minute))
	f.register("alice")
	long := strings.Repeat("p", 1<<20)
	ctx := context.Background()
	hashes, verifies := h.hashes.Load(), h.verifies.Load()
	calls := map[string]func(){
		"Login": func() {
			_, err := f.a.Login(ctx, "alice", long, Client{})
			require.ErrorIs(t, err, ErrInvalidCredentials)
		},
		"Register": func() {
			_, err := f.a.Register(ctx, Registration{Username: "bob", Password: long}, Client{})
			require.ErrorIs(t, err, ErrPasswordTooLong)
		},
	}
	for name, call := range calls {
		allocs, b := allocsAndBytes(10, call)
		t.Logf("%s: %.0f allocations, %.0f bytes per call", name, allocs, b)
		require.LessOrEqual(t, b, float64(64<<10), "%s allocates in proportion to the password", name)
	}
	require.Equal(t, hashes, h.hashes.Load(), "a 1 MiB password was hashed")
	require.Equal(t, verifies, h.verifies.Load(), "a 1 MiB password was verified")
}
