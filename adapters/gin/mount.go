package gin

import (
	"net/http"
	"net/url"
	"strings"

	ginpkg "github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/auth"
)

// Mount registers the handlers of [auth.Authenticator] on r at the paths of
// gatekeep's HTTP API, relative to r (pass a group to mount them under a
// prefix):
//
//	every path of [auth.Authenticator.Routes] (/auth/..., /admin/users...,
//	/me, /healthz), with {id} written as gin's :id
//
// Each path is registered for every method (gin's Any): the handlers check
// the method themselves and answer any other with the API's JSON 405 and
// its Allow header, as the contract asks of every 4xx.
func Mount(r ginpkg.IRouter, a *auth.Authenticator) {
	for _, rt := range a.Routes() {
		r.Any(ginPattern(rt.Pattern), Handler(rt.Handler))
	}
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
	api := http.NewServeMux()
	for _, rt := range a.Routes() {
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
