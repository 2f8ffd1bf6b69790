package adaptertest

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
)

// A Router is one router under test: New returns a fresh router holding
// the application's own routes when app is true — GET /healthz, GET /me
// and GET /auth/sessions/{sid} (in the router's syntax, with a wildcard
// name of its own), each answering 200 "app <path>" — and a function that
// mounts a on it: Mount when opts is nil, MountWith otherwise.
type Router struct {
	Name string
	New  func(app bool) (http.Handler, func(a *auth.Authenticator, opts *auth.MountOptions) error)
}

// AppRoutes are the paths a Router's application holds, as [auth.Routes]
// names the API's.
var AppRoutes = []string{"/auth/sessions/{id}", "/me", "/healthz"}

// AppBody is what the application's own route at path answers.
func AppBody(path string) string { return "app " + path }

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// CheckMount runs the mounting contract on r: a conflict with the
// application's routes never panics nor replaces them (Mount logs it,
// MountWith returns it and mounts the rest), Except avoids it, and
// Prefix and Only mount a subset under a prefix; a bad MountOptions is
// refused with nothing registered.
func CheckMount(t *testing.T, r Router) {
	t.Run("Mount_conflict", func(t *testing.T) {
		var logs logBuffer
		f := New(t, auth.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		h, mount := r.New(true)
		if err := mount(f.A, nil); err != nil {
			t.Fatalf("Mount returned %v", err)
		}
		checkApp(t, h)
		checkAPI(t, h, "")
		if l := logs.String(); !strings.Contains(l, "level=ERROR msg=auth.route_conflict") || !strings.Contains(l, "paths=\"[/auth/sessions/{id} /me /healthz]\"") {
			t.Errorf("log %q lacks auth.route_conflict naming the three paths", l)
		}
	})
	t.Run("MountWith_conflict", func(t *testing.T) {
		f := New(t)
		h, mount := r.New(true)
		err := mount(f.A, &auth.MountOptions{})
		var rc *auth.RouteConflictError
		if !errors.Is(err, auth.ErrRouteConflict) || !errors.As(err, &rc) || !slices.Equal(rc.Paths, AppRoutes) {
			t.Fatalf("MountWith = %v, want a RouteConflictError for %v", err, AppRoutes)
		}
		checkApp(t, h)
		checkAPI(t, h, "")
	})
	t.Run("Except", func(t *testing.T) {
		f := New(t)
		h, mount := r.New(true)
		if err := mount(f.A, &auth.MountOptions{Except: AppRoutes}); err != nil {
			t.Fatalf("MountWith(Except) = %v", err)
		}
		checkApp(t, h)
		checkAPI(t, h, "")
	})
	t.Run("Prefix_Only", func(t *testing.T) {
		f := New(t)
		h, mount := r.New(true)
		opts := &auth.MountOptions{Prefix: "/api", Only: []string{"/auth/register", "/me", "/healthz"}}
		if err := mount(f.A, opts); err != nil {
			t.Fatalf("MountWith(%+v) = %v", opts, err)
		}
		checkApp(t, h)
		tok := checkAPI(t, h, "/api")
		if res := Serve(h, NewRequest(http.MethodGet, "/api/me", "", "Authorization: Bearer "+tok)); res.Status != http.StatusOK || !strings.Contains(res.Body, `"username":"alice"`) {
			t.Errorf("GET /api/me = %d %s", res.Status, res.Body)
		}
		if res := Serve(h, NewRequest(http.MethodGet, "/api/healthz", "")); res.Status != http.StatusOK || !strings.Contains(res.Body, `"ok"`) {
			t.Errorf("GET /api/healthz = %d %s", res.Status, res.Body)
		}
		for _, p := range []string{"/api/auth/login", "/auth/login", "/auth/register"} {
			if res := Serve(h, NewRequest(http.MethodPost, p, `{"username":"alice","password":"correct horse"}`)); res.Status != http.StatusNotFound {
				t.Errorf("POST %s = %d, want 404: not mounted", p, res.Status)
			}
		}
	})
	t.Run("bad_options", func(t *testing.T) {
		f := New(t)
		for _, opts := range []auth.MountOptions{
			{Only: []string{"/auth/logon"}}, // a typo must not mount everything
			{Except: []string{"/me/"}},
			{Prefix: "api"}, {Prefix: "/api/"}, {Prefix: "/{tenant}"}, {Prefix: "/a b"},
		} {
			h, mount := r.New(false)
			if err := mount(f.A, &opts); !errors.Is(err, auth.ErrInvalidConfig) {
				t.Errorf("MountWith(%+v) = %v, want ErrInvalidConfig", opts, err)
			}
			if res := Serve(h, NewRequest(http.MethodGet, "/healthz", "")); res.Status != http.StatusNotFound {
				t.Errorf("MountWith(%+v) registered /healthz: %d", opts, res.Status)
			}
		}
	})
}

// checkApp: the application's own routes still answer.
func checkApp(t *testing.T, h http.Handler) {
	t.Helper()
	for _, p := range []string{"/healthz", "/me", "/auth/sessions/42"} {
		if res := Serve(h, NewRequest(http.MethodGet, p, "")); res.Status != http.StatusOK || res.Body != AppBody(p) {
			t.Errorf("GET %s = %d %q, want the application's %q", p, res.Status, res.Body, AppBody(p))
		}
	}
}

// checkAPI: register works under prefix; it returns the access token.
func checkAPI(t *testing.T, h http.Handler, prefix string) string {
	t.Helper()
	res := Serve(h, NewRequest(http.MethodPost, prefix+"/auth/register", `{"username":"alice","password":"correct horse"}`))
	if res.Status != http.StatusCreated {
		t.Fatalf("POST %s/auth/register = %d %s", prefix, res.Status, res.Body)
	}
	_, rest, _ := strings.Cut(res.Body, `"access_token":"`)
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}
