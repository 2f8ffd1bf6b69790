package gin_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	ginpkg "github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/token"
)

func init() { ginpkg.SetMode(ginpkg.TestMode) }

// guardedRoutes builds the same guarded routes on a net/http mux and on a
// gin engine.
func guardedRoutes(t *testing.T, f *fixture) (std http.Handler, g *ginpkg.Engine) {
	return guardedRoutesOf(t, f, f.A)
}

// guardedRoutesOf builds them with a, an Authenticator or a verify-only
// Gate.
func guardedRoutesOf(t *testing.T, f *fixture, a auth.RequestGuard) (std http.Handler, g *ginpkg.Engine) {
	t.Helper()
	reports, err := rbac.NewRequirement(f.Policy, rbac.AnyPermission, "reports:read")
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle("GET /private", a.Require(principalJSON))
	mux.Handle("GET /optional", a.Optional(principalJSON))
	mux.Handle("GET /admin", a.Authorize("admin")(principalJSON))
	mux.Handle("GET /reports", a.Guard(reports)(principalJSON))
	mux.Handle("GET /api/admin", a.Require(a.Authorize("admin")(principalJSON)))

	g = ginpkg.New()
	g.GET("/private", gatekeepgin.Require(a), gatekeepgin.Handler(principalJSON))
	g.GET("/optional", gatekeepgin.Optional(a), gatekeepgin.Handler(principalJSON))
	g.GET("/admin", gatekeepgin.Authorize(a, "admin"), gatekeepgin.Handler(principalJSON))
	g.GET("/reports", gatekeepgin.Guard(a, reports), gatekeepgin.Handler(principalJSON))
	api := g.Group("/api", gatekeepgin.Require(a))
	api.GET("/admin", gatekeepgin.Authorize(a, "admin"), gatekeepgin.Handler(principalJSON))
	return mux, g
}

// TestParity sends the same requests to net/http and gin routes guarded
// alike and requires the same status, headers and body, byte for byte.
func TestParity(t *testing.T) {
	f := newFixture(t)
	t.Run("authenticator", func(t *testing.T) { testParity(t, f, f.A) })
	// A verify-only service guards its gin routes alike.
	t.Run("gate", func(t *testing.T) { testParity(t, f, f.Gate) })
}

func testParity(t *testing.T, f *fixture, a auth.RequestGuard) {
	std, g := guardedRoutesOf(t, f, a)

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
		{"lower-case scheme", []string{"Authorization: bearer " + userTok}, false, [5]int{200, 200, 403, 403, 403}},
		{"admin", []string{"Authorization: Bearer " + adminTok}, false, all(200)},
	}
	for _, row := range rows {
		for i, path := range paths {
			t.Run(row.name+path, func(t *testing.T) {
				f.Store.Down.Store(row.down)
				defer f.Store.Down.Store(false)
				want := serve(std, newRequest(http.MethodGet, path, "", row.header...))
				got := serve(g, newRequest(http.MethodGet, path, "", row.header...))
				require.Equal(t, row.want[i], want.Status, "net/http status; body %s", want.Body)
				assert.Equal(t, want, got)
				if want.Status >= 400 {
					assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
				}
				if want.Status == 401 || want.Status == 403 {
					assert.Contains(t, got.Header.Get("WWW-Authenticate"), `Bearer realm="gatekeep"`)
				}
			})
		}
	}
}

// TestParityCustomErrorHandler: the adapter goes through the
// Authenticator's one error hook, not around it.
func TestParityCustomErrorHandler(t *testing.T) {
	f := newFixture(t, auth.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("X-Custom", "yes")
		auth.WriteError(w, r, err)
	}))
	std, g := guardedRoutes(t, f)
	userTok, _ := f.Sign(token.Access, time.Hour, "user")
	for _, path := range []string{"/private", "/admin"} {
		want := serve(std, newRequest(http.MethodGet, path, "", "Authorization: Bearer x"+userTok))
		got := serve(g, newRequest(http.MethodGet, path, "", "Authorization: Bearer x"+userTok))
		assert.Equal(t, want, got)
		assert.Equal(t, "yes", got.Header.Get("X-Custom"))
	}
}

// TestAbortAndPrincipal checks the gin side: a refusal stops the chain;
// a pass leaves the principal on c.Request's context for gin handlers.
func TestAbortAndPrincipal(t *testing.T) {
	f := newFixture(t)
	userTok, _ := f.Sign(token.Access, time.Hour, "user")
	var ran []string
	g := ginpkg.New()
	after := func(c *ginpkg.Context) {
		// Middleware that runs after the gin chain returns.
		c.Next()
		ran = append(ran, "after:"+c.Request.URL.Path)
	}
	g.Use(after)
	g.GET("/me", gatekeepgin.Require(f.A), func(c *ginpkg.Context) {
		p, ok := gatekeepgin.Principal(c)
		require.True(t, ok)
		q, ok := auth.FromContext(c.Request.Context())
		require.True(t, ok)
		require.Same(t, p, q)
		ran = append(ran, "handler")
		c.JSON(http.StatusOK, ginpkg.H{"user_id": p.UserID, "username": p.Username, "roles": p.Roles})
	})
	g.GET("/anon", gatekeepgin.Optional(f.A), func(c *ginpkg.Context) {
		_, ok := gatekeepgin.Principal(c)
		c.JSON(http.StatusOK, ginpkg.H{"authenticated": ok})
	})
	g.GET("/admin", gatekeepgin.Authorize(f.A, "admin"), func(c *ginpkg.Context) {
		t.Error("the handler ran after a refused guard")
	})

	res := serve(g, newRequest(http.MethodGet, "/me", "", "Authorization: Bearer "+userTok))
	assert.Equal(t, http.StatusOK, res.Status)
	assert.JSONEq(t, `{"user_id":"u1","username":"alice","roles":["user"]}`, res.Body)
	assert.Equal(t, []string{"handler", "after:/me"}, ran)

	ran = nil
	res = serve(g, newRequest(http.MethodGet, "/me", ""))
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, []string{"after:/me"}, ran, "the handler must not run")

	res = serve(g, newRequest(http.MethodGet, "/admin", "", "Authorization: Bearer "+userTok))
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, `Bearer realm="gatekeep", error="insufficient_scope", scope="admin"`, res.Header.Get("WWW-Authenticate"))
	assert.JSONEq(t, `{"error":"insufficient_scope","error_description":"the principal lacks the required role"}`, res.Body)

	res = serve(g, newRequest(http.MethodGet, "/anon", ""))
	assert.JSONEq(t, `{"authenticated":false}`, res.Body)
	res = serve(g, newRequest(http.MethodGet, "/anon", "", "Authorization: Bearer "+userTok))
	assert.JSONEq(t, `{"authenticated":true}`, res.Body)

	_, ok := gatekeepgin.Principal(&ginpkg.Context{})
	assert.False(t, ok, "a context without a request has no principal")
}

// TestInvalidGuardDenies: a guard that cannot be built (a role the policy
// does not define, or a nil requirement) denies every request, as on
// net/http.
func TestInvalidGuardDenies(t *testing.T) {
	f := newFixture(t)
	adminTok, _ := f.Sign(token.Access, time.Hour, "admin")
	g := ginpkg.New()
	g.GET("/typo", gatekeepgin.Authorize(f.A, "admn"), gatekeepgin.Handler(principalJSON))
	g.GET("/nil", gatekeepgin.Guard(f.A, nil), gatekeepgin.Handler(principalJSON))
	mux := http.NewServeMux()
	mux.Handle("/typo", f.A.Authorize("admn")(principalJSON))
	mux.Handle("/nil", f.A.Guard(nil)(principalJSON))
	for _, path := range []string{"/typo", "/nil"} {
		want := serve(mux, newRequest(http.MethodGet, path, "", "Authorization: Bearer "+adminTok))
		got := serve(g, newRequest(http.MethodGet, path, "", "Authorization: Bearer "+adminTok))
		assert.Equal(t, http.StatusForbidden, got.Status, path)
		assert.Equal(t, want, got, path)
	}
}

func TestHandlerPathValues(t *testing.T) {
	g := ginpkg.New()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.PathValue("id") + "|" + r.PathValue("role")))
	})
	g.GET("/admin/users/:id/roles/:role", gatekeepgin.Handler(h))
	res := serve(g, newRequest(http.MethodGet, "/admin/users/u1/roles/editor", ""))
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "u1|editor", res.Body)
}
