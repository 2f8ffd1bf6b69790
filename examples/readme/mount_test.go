package readme

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
)

var (
	appHealth  = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "app health") }
	appProfile = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "app profile") }
)

func existingApp(st *config.Stack) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", appHealth) // the application's own
	mux.HandleFunc("GET /me", appProfile)
	// The API under /api, without its /healthz: /api/auth/login, /api/me, ...
	err := st.Auth.MountWith(mux, auth.MountOptions{Prefix: "/api", Except: []string{"/healthz"}})
	if errors.Is(err, auth.ErrRouteConflict) {
		return nil, err // a path the application already serves; see below
	}
	return mux, err
}

// TestExistingApp runs the block: the application keeps its routes, the
// API is under /api without /healthz.
func TestExistingApp(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = "readme-secret-0123456789abcdef-0123456789"
	st, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, err := existingApp(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/healthz", "", 200, "app health"},
		{"GET", "/me", "", 200, "app profile"},
		{"GET", "/api/healthz", "", 404, ""},
		{"POST", "/api/auth/register", `{"username":"alice","password":"correct horse"}`, 201, "access_token"},
		{"GET", "/api/me", "", 401, "invalid_token"},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
			t.Errorf("%s %s = %d %q, want %d with %q", c.method, c.path, w.Code, w.Body.String(), c.status, c.contains)
		}
	}
}
