package chi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	gochi "github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/token"
)

// TestParity sends the same requests to net/http and chi routes guarded
// alike (r.Use in groups and sub-routers, r.With) and requires the same
// status, headers and body, byte for byte.
func TestParity(t *testing.T) {
	f := newFixture(t)
	a := f.A
	reports, err := rbac.NewRequirement(f.Policy, rbac.AnyPermission, "reports:read")
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle("GET /private", a.Require(principalJSON))
	mux.Handle("GET /optional", a.Optional(principalJSON))
	mux.Handle("GET /admin", a.Authorize("admin")(principalJSON))
	mux.Handle("GET /reports", a.Guard(reports)(principalJSON))
	mux.Handle("GET /api/admin", a.Require(a.Authorize("admin")(principalJSON)))

	r := gochi.NewRouter()
	r.Group(func(r gochi.Router) {
		r.Use(a.Require)
		r.Get("/private", principalJSON)
	})
	r.With(a.Optional).Get("/optional", principalJSON)
	r.With(a.Authorize("admin")).Get("/admin", principalJSON)
	r.With(a.Guard(reports)).Get("/reports", principalJSON)
	r.Route("/api", func(r gochi.Router) {
		r.Use(a.Require)
		r.With(a.Authorize("admin")).Get("/admin", principalJSON)
	})

	userTok, _ := f.Sign(token.Access, time.Hour, "user")
	adminTok, _ := f.Sign(token.Access, time.Hour, "admin")
	refreshTok, _ := f.Sign(token.Refresh, time.Hour, "admin")
	expiredTok, _ := f.Sign(token.Access, -time.Hour, "admin")
	revokedTok, revoked := f.Sign(token.Access, time.Hour, "admin")
	require.NoError(t, f.Store.Revoke(context.Background(), revoked.ID, f.Clock.Now().Add(time.Hour)))

	paths := []string{"/private", "/optional", "/admin", "/reports", "/api/admin"}
	all := func(s int) [5]int { return [5]int{s, s, s, s, s} }
	rows := []struct {
		name   string
		header []string
		down   bool
		want   [5]int // status per path
	}{
		// RFC 6750 §3.1: no credentials, a challenge without an error code.
		{"no token", nil, false, [5]int{401, 200, 401, 401, 401}},
		{"garbage token", []string{"Authorization: Bearer not-a-jwt"}, false, all(401)},
		{"basic scheme", []string{"Authorization: Basic dXNlcjpwYXNz"}, false, all(401)},
		// RFC 6750 §2.1: exactly one Authorization header.
		{"two headers", []string{"Authorization: Bearer " + adminTok, "Authorization: Bearer " + adminTok}, false, all(401)},
		// A refresh token is never accepted as an access token.
		{"refresh token", []string{"Authorization: Bearer " + refreshTok}, false, all(401)},
		{"expired", []string{"Authorization: Bearer " + expiredTok}, false, all(401)},
		{"revoked", []string{"Authorization: Bearer " + revokedTok}, false, all(401)},
		// Fail closed: a store that cannot answer is 503, never a pass.
		{"store down", []string{"Authorization: Bearer " + adminTok}, true, all(503)},
		{"missing role", []string{"Authorization: Bearer " + userTok}, false, [5]int{200, 200, 403, 403, 403}},
		{"admin", []string{"Authorization: Bearer " + adminTok}, false, all(200)},
	}
	for _, row := range rows {
		for i, path := range paths {
			t.Run(row.name+path, func(t *testing.T) {
				f.Store.Down.Store(row.down)
				defer f.Store.Down.Store(false)
				want := serve(mux, newRequest(http.MethodGet, path, "", row.header...))
				got := serve(r, newRequest(http.MethodGet, path, "", row.header...))
				require.Equal(t, row.want[i], want.Status, "net/http status; body %s", want.Body)
				assert.Equal(t, want, got)
			})
		}
	}
}

// TestPathValues: chi's URL parameters reach r.PathValue through the
// auth middleware, as the auth handlers of /auth/sessions/{id} and
// /admin/users/{id}/roles expect.
func TestPathValues(t *testing.T) {
	f := newFixture(t)
	adminTok, _ := f.Sign(token.Access, time.Hour, "admin")
	r := gochi.NewRouter()
	r.With(f.A.Require, f.A.Authorize("admin")).Put("/admin/users/{id}/roles", func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		_, _ = w.Write([]byte(p.UserID + " sets roles of " + r.PathValue("id")))
	})
	res := serve(r, newRequest(http.MethodPut, "/admin/users/u42/roles", "", "Authorization: Bearer "+adminTok))
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "u1 sets roles of u42", res.Body)
}
