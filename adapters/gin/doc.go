// Package gin adapts gatekeep to github.com/gin-gonic/gin engines.
//
// It translates the net/http middleware and handlers of package auth into
// gin handler functions; it decides nothing itself. Authentication,
// authorization and every error response come from the same
// [auth.Authenticator] code a net/http server runs, through its one error
// hook ([auth.WithErrorHandler]), so a gin route answers with exactly the
// status, headers and JSON body a net/http route does, and a failure
// aborts the gin chain.
//
// Inside this package the gin module is imported as ginpkg, since the
// package itself is named gin:
//
//	import (
//		ginpkg "github.com/gin-gonic/gin"
//		gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
//	)
//
// # Usage
//
//	r := ginpkg.New()
//	gatekeepgin.Mount(r, a) // the auth handlers at /auth/..., /me, /healthz
//
//	api := r.Group("/api", gatekeepgin.Require(a)) // any valid access token
//	api.GET("/notes", listNotes)
//	api.DELETE("/notes/:id", gatekeepgin.Authorize(a, "admin"), deleteNote) // 401/403
//
// A handler behind [Require] reads the principal with [Principal], or with
// [auth.FromContext] on c.Request's context, where it is put as well:
//
//	func listNotes(c *ginpkg.Context) {
//		p, _ := gatekeepgin.Principal(c)
//		c.JSON(http.StatusOK, ginpkg.H{"owner": p.UserID})
//	}
//
// [Guard] guards a route by an [rbac.Requirement] (roles or permissions);
// [Middleware] and [Handler] translate any other net/http middleware or
// handler the same way.
package gin
