package rbac

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rolesHeader is a test RolesFunc: X-Test-Roles holds comma-separated roles;
// without the header there is no principal.
func rolesHeader(r *http.Request) ([]string, bool) {
	v, ok := r.Header["X-Test-Roles"]
	if !ok {
		return nil, false
	}
	if v[0] == "" {
		return nil, true
	}
	return strings.Split(v[0], ","), true
}

const handlerBody = "handler ran"

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(handlerBody))
	})
}

func TestGuards(t *testing.T) {
	g, err := NewGuards(blog(t), rolesHeader)
	if err != nil {
		t.Fatal(err)
	}
	guards := map[string]func(http.Handler) http.Handler{
		"Authorize":            g.MustAuthorize("editor", "billing"),
		"RequireAll":           g.MustRequireAll("viewer", "billing"),
		"RequirePermission":    g.MustRequirePermission("articles:write", "articles:read"),
		"RequireAnyPermission": g.MustRequireAnyPermission("invoices:pay", "comments:write"),
	}
	const noPrincipal = "\x00none"
	tests := []struct {
		name      string
		guard     string
		roles     string // comma-separated; noPrincipal for no header
		want      int
		wantScope string
	}{
		{"Authorize: no principal", "Authorize", noPrincipal, 401, ""},
		{"Authorize: no roles", "Authorize", "", 403, "editor billing"},
		{"Authorize: inherited", "Authorize", "admin", 200, ""},
		{"Authorize: second role", "Authorize", "billing", 200, ""},
		{"Authorize: too low", "Authorize", "viewer", 403, "editor billing"},
		// A role spelt differently is another role.
		{"Authorize: wrong case", "Authorize", "Admin,EDITOR", 403, "editor billing"},
		{"RequireAll: no principal", "RequireAll", noPrincipal, 401, ""},
		{"RequireAll: both", "RequireAll", "admin,billing", 200, ""},
		{"RequireAll: one", "RequireAll", "admin", 403, "viewer billing"},
		{"RequirePermission: no principal", "RequirePermission", noPrincipal, 401, ""},
		{"RequirePermission: via wildcard", "RequirePermission", "editor", 200, ""},
		{"RequirePermission: read only", "RequirePermission", "viewer", 403, "articles:write articles:read"},
		{"RequireAnyPermission: no principal", "RequireAnyPermission", noPrincipal, 401, ""},
		{"RequireAnyPermission: one", "RequireAnyPermission", "moderator", 200, ""},
		{"RequireAnyPermission: star", "RequireAnyPermission", "admin", 200, ""},
		{"RequireAnyPermission: none", "RequireAnyPermission", "editor,viewer", 403, "invoices:pay comments:write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tt.roles != noPrincipal {
				req.Header.Set("X-Test-Roles", tt.roles)
			}
			rec := httptest.NewRecorder()
			guards[tt.guard](okHandler()).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == 200 {
				if rec.Body.String() != handlerBody {
					t.Errorf("body = %q, want the handler's", rec.Body)
				}
				return
			}
			checkDenial(t, rec, tt.want, tt.wantScope)
		})
	}
}

func checkDenial(t *testing.T, rec *httptest.ResponseRecorder, status int, scope string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if len(body) != 2 || body["error_description"] == "" {
		t.Errorf("body = %q, want exactly error and error_description", body)
	}
	if strings.Contains(rec.Body.String(), handlerBody) {
		t.Errorf("the guarded handler ran: body %q", rec.Body)
	}
	wa := rec.Header().Get("WWW-Authenticate")
	switch status {
	case 401:
		if wa != `Bearer realm="gatekeep"` || body["error"] != "invalid_token" {
			t.Errorf("401: WWW-Authenticate = %q, error = %q", wa, body["error"])
		}
	case 403:
		want := `Bearer realm="gatekeep", error="insufficient_scope", scope="` + scope + `"`
		if wa != want || body["error"] != "insufficient_scope" {
			t.Errorf("403: WWW-Authenticate = %q, error = %q; want %q", wa, body["error"], want)
		}
	}
}

func TestGuardsSetupErrors(t *testing.T) {
	p := blog(t)
	g, err := NewGuards(p, rolesHeader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		build   func() (func(http.Handler) http.Handler, error)
		wantErr error
	}{
		{"Authorize unknown role", func() (func(http.Handler) http.Handler, error) { return g.Authorize("root") }, ErrUnknownRole},
		// An empty guard must fail at setup, not allow everyone.
		{"Authorize nothing", func() (func(http.Handler) http.Handler, error) { return g.Authorize() }, ErrInvalidRequirement},
		{"RequireAll unknown role", func() (func(http.Handler) http.Handler, error) { return g.RequireAll("viewer", "Admin") }, ErrUnknownRole},
		{"RequirePermission wildcard", func() (func(http.Handler) http.Handler, error) { return g.RequirePermission("articles:*") }, ErrInvalidPermission},
		{"RequireAnyPermission unknown", func() (func(http.Handler) http.Handler, error) { return g.RequireAnyPermission("users:delete") }, ErrUnknownPermission},
		{"Require nil", func() (func(http.Handler) http.Handler, error) { return g.Require(nil) }, ErrInvalidRequirement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := tt.build()
			if !errors.Is(err, tt.wantErr) || mw != nil {
				t.Fatalf("got %v, %v; want nil, %v", mw != nil, err, tt.wantErr)
			}
		})
	}

	if _, err := NewGuards(nil, rolesHeader); !errors.Is(err, ErrInvalidRequirement) {
		t.Errorf("NewGuards(nil policy) = %v", err)
	}
	if _, err := NewGuards(p, nil); !errors.Is(err, ErrInvalidRequirement) {
		t.Errorf("NewGuards(nil RolesFunc) = %v", err)
	}
	if _, err := NewGuards(p, rolesHeader, WithRenderer(nil)); !errors.Is(err, ErrInvalidRequirement) {
		t.Errorf("NewGuards(nil Renderer) = %v", err)
	}

	defer func() {
		if recover() == nil {
			t.Error("MustAuthorize did not panic on an unknown role")
		}
	}()
	g.MustAuthorize("root")
}

func TestWithRenderer(t *testing.T) {
	var got []Decision
	g, err := NewGuards(blog(t), rolesHeader, WithRenderer(func(w http.ResponseWriter, _ *http.Request, d Decision) {
		got = append(got, d)
		w.WriteHeader(d.Status() + 1)
	}))
	if err != nil {
		t.Fatal(err)
	}
	h := g.MustAuthorize("admin")(okHandler())
	for _, roles := range []string{"\x00none", "viewer", "admin"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if roles != "\x00none" {
			req.Header.Set("X-Test-Roles", roles)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(got) != 2 || got[0].Authenticated || !got[1].Authenticated {
		t.Fatalf("renderer saw %+v, want a 401 then a 403 decision", got)
	}
	if got[0].Status() != 401 || got[1].Status() != 403 || got[1].Requirement.Scope() != "admin" {
		t.Errorf("decisions = %+v", got)
	}
}

// TestGuardsConcurrent runs one guard from many goroutines; under -race it
// proves the precomputed policy is only read.
func TestGuardsConcurrent(t *testing.T) {
	g, err := NewGuards(blog(t), rolesHeader)
	if err != nil {
		t.Fatal(err)
	}
	h := g.MustRequirePermission("articles:write")(okHandler())
	done := make(chan int)
	for i := range 8 {
		go func() {
			roles := []string{"viewer", "editor"}[i%2]
			want := []int{403, 200}[i%2]
			bad := 0
			for range 200 {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("X-Test-Roles", roles)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != want {
					bad++
				}
			}
			done <- bad
		}()
	}
	for range 8 {
		if bad := <-done; bad != 0 {
			t.Errorf("%d wrong decisions", bad)
		}
	}
}
