package gin

import (
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
