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
