package gin_test

import (
	"net/http"
	"testing"

	ginpkg "github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/adaptertest"
)

// TestMountWith: gin keeps the application's /healthz, /me and
// /auth/sessions/:sid (where it would panic), and mounts a subset under a
// prefix — on the engine, where the conflicts are found before anything
// is registered, and on a group, where gin's refusal is caught.
func TestMountWith(t *testing.T) {
	for _, group := range []bool{false, true} {
		name := "engine"
		if group {
			name = "group"
		}
		t.Run(name, func(t *testing.T) {
			adaptertest.CheckMount(t, adaptertest.Router{Name: "gin " + name, New: func(app bool) (http.Handler, func(*auth.Authenticator, *auth.MountOptions) error) {
				g := ginpkg.New()
				if app {
					own := func(c *ginpkg.Context) { c.String(http.StatusOK, adaptertest.AppBody(c.Request.URL.Path)) }
					g.GET("/healthz", own)
					g.GET("/me", own)
					g.GET("/auth/sessions/:sid", own)
				}
				var r ginpkg.IRouter = g
				if group {
					r = g.Group("")
				}
				return g, func(a *auth.Authenticator, opts *auth.MountOptions) error {
					if opts == nil {
						gatekeepgin.Mount(r, a)
						return nil
					}
					return gatekeepgin.MountWith(r, a, *opts)
				}
			}})
		})
	}
}

// TestNoRouteWith: under a prefix, a method gin's Any does not cover gets
// the API's JSON 405 for the mounted paths, and next for every other.
func TestNoRouteWith(t *testing.T) {
	f := newFixture(t)
	g := ginpkg.New()
	opts := auth.MountOptions{Prefix: "/api", Only: []string{"/me"}}
	if err := gatekeepgin.MountWith(g, f.A, opts); err != nil {
		t.Fatal(err)
	}
	g.NoRoute(gatekeepgin.NoRouteWith(f.A, opts, func(c *ginpkg.Context) { c.String(http.StatusNotFound, "app not found") }))
	res := serve(g, newRequest("FOO", "/api/me", ""))
	if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" && res.Header.Get("Allow") != "GET" {
		t.Errorf("FOO /api/me = %d Allow %q %s, want the API's 405", res.Status, res.Header.Get("Allow"), res.Body)
	}
	for _, p := range []string{"/me", "/api/healthz"} {
		if res := serve(g, newRequest("FOO", p, "")); res.Status != http.StatusNotFound || res.Body != "app not found" {
			t.Errorf("FOO %s = %d %q, want the application's 404", p, res.Status, res.Body)
		}
	}
}
