package chi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	gochi "github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/token"
)

// TestMount walks the HTTP API through chi routes: register, login, me,
// refresh, logout, and the errors on the way, at the root and under a
// prefix.
func TestMount(t *testing.T) {
	for _, prefix := range []string{"", "/v1"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			f := newFixture(t)
			r := gochi.NewRouter()
			if prefix == "" {
				gatekeepchi.Mount(r, f.A)
			} else {
				r.Route(prefix, func(r gochi.Router) { gatekeepchi.Mount(r, f.A) })
			}
			// The application keeps /auth for routes of its own.
			r.Get(prefix+"/auth/providers", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("[]")) })

			res := serve(r, newRequest(http.MethodPost, prefix+"/auth/register", `{"username":"Alice","password":"correct horse"}`))
			require.Equal(t, http.StatusCreated, res.Status, res.Body)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			var tr auth.TokenResponse
			require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))

			res = serve(r, newRequest(http.MethodPost, prefix+"/auth/login", `{"username":"alice","password":"correct horse"}`))
			require.Equal(t, http.StatusOK, res.Status, res.Body)

			res = serve(r, newRequest(http.MethodGet, prefix+"/me", "", "Authorization: Bearer "+tr.AccessToken))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			assert.JSONEq(t, `{"id":"`+tr.User.ID+`","username":"alice","roles":["user"],"mfa":false}`, res.Body)

			res = serve(r, newRequest(http.MethodPost, prefix+"/auth/refresh", `{"refresh_token":"`+tr.RefreshToken+`"}`))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			var tr2 auth.TokenResponse
			require.NoError(t, json.Unmarshal([]byte(res.Body), &tr2))

			res = serve(r, newRequest(http.MethodPost, prefix+"/auth/logout", "", "Authorization: Bearer "+tr2.AccessToken))
			require.Equal(t, http.StatusNoContent, res.Status, res.Body)
			res = serve(r, newRequest(http.MethodGet, prefix+"/me", "", "Authorization: Bearer "+tr2.AccessToken))
			assert.Equal(t, http.StatusUnauthorized, res.Status)

			res = serve(r, newRequest(http.MethodGet, prefix+"/healthz", ""))
			assert.JSONEq(t, `{"status":"ok"}`, res.Body)
			res = serve(r, newRequest(http.MethodGet, prefix+"/auth/providers", ""))
			assert.Equal(t, "[]", res.Body)
		})
	}
}

// TestMountErrorsMatchNetHTTP: every error the mounted handlers give on chi
// is the one auth.Mount's net/http mux gives, 405s included (JSON, with
// Allow), since both leave the method check to the handlers.
func TestMountErrorsMatchNetHTTP(t *testing.T) {
	f := newFixture(t)
	r := gochi.NewRouter()
	gatekeepchi.Mount(r, f.A)
	mux := http.NewServeMux()
	f.A.Mount(mux)
	rows := []struct{ method, path, body string }{
		{http.MethodGet, "/auth/login", ""},
		{http.MethodDelete, "/me", ""},
		{http.MethodPut, "/healthz", ""},
		{http.MethodPost, "/auth/login", `{"username":"nobody","password":"wrong password"}`},
		{http.MethodPost, "/auth/register", `{"username":"x"`},
		{http.MethodPost, "/auth/refresh", `{"refresh_token":"nope"}`},
		{http.MethodPost, "/auth/logout-all", ""},
		{http.MethodGet, "/me", ""},
		// Methods chi does not know: before, chi's own empty 405 without
		// Allow answered these.
		{"FOO", "/auth/login", ""},
		{"post", "/auth/login", `{"username":"a","password":"b"}`},
		{"PROPFIND", "/auth/sessions/abc", ""},
	}
	for _, row := range rows {
		t.Run(row.method+row.path, func(t *testing.T) {
			want := serve(mux, newRequest(row.method, row.path, row.body))
			got := serve(r, newRequest(row.method, row.path, row.body))
			require.GreaterOrEqual(t, want.Status, 400)
			assert.Equal(t, want, got)
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
		})
	}
}

// records is a slog.Handler keeping each record's message and attributes.
type records struct {
	mu     sync.Mutex
	got    []map[string]string
	base   map[string]string
	parent *records
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) WithAttrs(as []slog.Attr) slog.Handler {
	base := map[string]string{}
	for _, a := range as {
		base[a.Key] = a.Value.String()
	}
	return &records{base: base, parent: h}
}
func (h *records) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	for k, v := range h.base {
		m[k] = v
	}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	root := h
	for root.parent != nil {
		root = root.parent
	}
	root.mu.Lock()
	defer root.mu.Unlock()
	root.got = append(root.got, m)
	return nil
}

func (h *records) find(msg string) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.got {
		if m["msg"] == msg {
			return m
		}
	}
	return nil
}

// TestLogHandler: auth's audit events, and the application's own records
// logged with a request's context, name chi's matched route pattern, not
// the path.
func TestLogHandler(t *testing.T) {
	rec := &records{}
	logger := slog.New(gatekeepchi.LogHandler(rec))
	f := newFixture(t, auth.WithLogger(logger))
	tok, _ := f.Sign(token.Access, time.Hour, "user")
	r := gochi.NewRouter()
	r.Route("/v1", func(r gochi.Router) { gatekeepchi.Mount(r, f.A) })
	r.With(f.A.Require).Get("/notes/{id}", func(w http.ResponseWriter, req *http.Request) {
		logger.With("app", "notes").WithGroup("g").InfoContext(req.Context(), "note.read")
	})

	res := serve(r, newRequest(http.MethodPost, "/v1/auth/register", `{"username":"alice","password":"correct horse"}`))
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	res = serve(r, newRequest(http.MethodPost, "/v1/auth/login", `{"username":"alice","password":"wrong horse"}`))
	require.Equal(t, http.StatusUnauthorized, res.Status, res.Body)
	res = serve(r, newRequest(http.MethodGet, "/notes/secret-id-7", "", "Authorization: Bearer "+tok))
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	logger.Info("boot")

	assert.Equal(t, "/v1/auth/register", rec.find("auth.register")[gatekeepchi.RouteKey])
	assert.Equal(t, "/v1/auth/login", rec.find("auth.login_failed")[gatekeepchi.RouteKey])
	note := rec.find("note.read")
	assert.Equal(t, "/notes/{id}", note[gatekeepchi.RouteKey])
	assert.Equal(t, "notes", note["app"])
	boot := rec.find("boot")
	require.NotNil(t, boot)
	assert.NotContains(t, boot, gatekeepchi.RouteKey, "no route outside a request")
	for _, m := range rec.got {
		for _, v := range m {
			assert.NotContains(t, v, "secret-id-7", "the path must not be logged")
		}
	}
}

// The application's own paths keep the 405 handler the router had before
// Mount; the API's paths get the JSON 405 for a method chi does not know.
func TestMountUnknownMethodKeepsAppHandler(t *testing.T) {
	f := newFixture(t)
	r := gochi.NewRouter()
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	r.Get("/notes", func(w http.ResponseWriter, _ *http.Request) {})
	gatekeepchi.Mount(r, f.A)

	got := serve(r, newRequest("FOO", "/auth/login", ""))
	assert.Equal(t, http.StatusMethodNotAllowed, got.Status)
	assert.Equal(t, "POST", got.Header.Get("Allow"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))

	got = serve(r, newRequest("FOO", "/notes", ""))
	assert.Equal(t, http.StatusTeapot, got.Status, "the application's own 405 handler answers its own paths")
}
