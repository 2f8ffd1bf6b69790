package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/bench/load"
	"github.com/gatekeep/gatekeep/config"
)

// TestScenarios runs every scenario briefly against a real gatekeep
// stack (memory store) on loopback: all of them must complete requests
// without an error, and the flood must only ever be refused.
func TestScenarios(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = config.Secret("a test secret of at least thirty-two bytes")
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	st, err := config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := context.Background()
	u, err := register(ctx, srv.URL, 6)
	if err != nil {
		t.Fatal(err)
	}
	res := load.Run(ctx, 500*time.Millisecond, me(srv.URL, u, 3, "me"), spray(srv.URL, u, 1), refresh(srv.URL, u, 3))
	for _, r := range res {
		if r.Requests() == 0 || r.Errors != 0 {
			t.Errorf("%s", r)
		}
	}
	if n := res[1].Statuses[http.StatusOK]; n != 0 {
		t.Errorf("%d wrong passwords were accepted", n)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:18080", true},
		{"http://127.9.9.9:80", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", false},   // a name: it may resolve anywhere
		{"http://10.0.0.5:8080", false},    // not loopback: never a target
		{"http://example.com:8080", false}, // a name that may resolve anywhere
		{"https://127.0.0.1:8443", false},  // the generator speaks plain http only
		{"127.0.0.1:8080", false},          // no scheme
	} {
		if err := checkLoopback(tc.url); (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}
