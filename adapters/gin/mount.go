package gin

import (
	"net/http"
	"net/url"
	"strings"

	ginpkg "github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/routepath"
)

// Mount registers the handlers of [auth.Authenticator] on r at the paths of
// gatekeep's HTTP API, relative to r (pass a group, or use [MountWith]'s
// Prefix, to mount them under a prefix):
//
//	every path of [auth.Authenticator.Routes] (/auth/..., /admin/users...,
//	/me, /healthz), with {id} written as gin's :id
//
// Each path is registered for every method (gin's Any): the handlers check
// the method themselves and answer any other with the API's JSON 405 and
// its Allow header, as the contract asks of every 4xx.
//
// A path the application registered first (its own /healthz or /me), which
// would make gin panic, is left out and logged (auth.route_conflict, level
// Error), the application's route kept: Mount never panics. [MountWith]
// returns the conflicts.
func Mount(r ginpkg.IRouter, a *auth.Authenticator) {
	a.LogMountError(MountWith(r, a, auth.MountOptions{}))
}

// MountWith is [Mount] for the routes opts selects, under its prefix (see
// [auth.MountOptions]). A route gin refuses because r already has a route
// there (the same path for a method, or a wildcard of another name at the
// same place) is left out and the application's route kept; the error is
// then an [*auth.RouteConflictError] naming every such path, and the other
// routes are registered all the same. On a *gin.Engine the conflicts are
// found in its Routes before anything is registered; on a group, gin's own
// refusal is caught as it registers the methods one by one, GET first, so
// a path the application holds for GET is left out whole, and one it
// holds only for another method keeps the API's handler for the methods
// before it. A bad opts is an error wrapping auth.ErrInvalidConfig, and
// nothing is registered.
func MountWith(r ginpkg.IRouter, a *auth.Authenticator, opts auth.MountOptions) error {
	routes, err := a.MountRoutes(opts)
	if err != nil {
		return err
	}
	var taken map[string]bool
	if e, ok := r.(*ginpkg.Engine); ok {
		taken = map[string]bool{}
		for _, ri := range e.Routes() {
			taken[routepath.Normalize(ri.Path)] = true
		}
	}
	var conflicts []string
	for _, rt := range routes {
		p := ginPattern(rt.Pattern)
		if taken[routepath.Normalize(p)] || !anyNoPanic(r, p, Handler(rt.Handler)) {
			conflicts = append(conflicts, rt.Pattern)
		}
	}
	if len(conflicts) > 0 {
		return &auth.RouteConflictError{Paths: conflicts}
	}
	return nil
}

// anyNoPanic registers h for every method of path, as gin's Any does,
// stopping with false at the first method gin refuses with a panic.
func anyNoPanic(r ginpkg.IRouter, path string, h ginpkg.HandlerFunc) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for _, m := range routepath.Methods {
		r.Handle(m, path, h)
	}
	return true
}

// ginPattern turns ServeMux wildcards ({id}) into gin's (:id).
func ginPattern(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// NoRoute returns a handler for gin's NoRoute that gives the API's paths
// their JSON 405 for a method gin's Any does not cover ("FOO", or "post"
// in lower case: gin has no route for it and would answer 404), by passing
// such a request to the path's own handler, and hands every other request
// to next (the application's own not-found answer; nil means gin's 404):
//
//	r.NoRoute(gatekeepgin.NoRoute(a, notFound))
//
// Paths are matched as [auth.Authenticator.Routes] names them, from the
// root of the engine.
func NoRoute(a *auth.Authenticator, next ginpkg.HandlerFunc) ginpkg.HandlerFunc {
	return noRoute(a.Routes(), next)
}

// NoRouteWith is [NoRoute] for the routes [MountWith] mounted with opts
// (its prefix included, which is then matched from the root of the
// engine). A bad opts makes it [NoRoute] for no route: every request goes
// to next.
func NoRouteWith(a *auth.Authenticator, opts auth.MountOptions, next ginpkg.HandlerFunc) ginpkg.HandlerFunc {
	routes, _ := a.MountRoutes(opts) // MountWith reported a bad opts
	return noRoute(routes, next)
}

func noRoute(routes []auth.Route, next ginpkg.HandlerFunc) ginpkg.HandlerFunc {
	api := http.NewServeMux()
	for _, rt := range routes {
		api.Handle(rt.Pattern, rt.Handler)
	}
	return func(c *ginpkg.Context) {
		lookup := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: c.Request.URL.Path}, Host: c.Request.Host}
		if h, pattern := api.Handler(lookup); pattern != "" && !knownMethod(c.Request.Method) {
			h.ServeHTTP(c.Writer, c.Request)
			c.Abort()
			return
		}
		if next != nil {
			next(c)
		}
	}
}

// knownMethod reports whether gin's Any registers m, so that a miss for it
// is a real not-found.
func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodHead,
		http.MethodOptions, http.MethodDelete, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}
