package gin

import (
	ginpkg "github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/auth"
)

// Mount registers the handlers of [auth.Authenticator] on r at the paths of
// gatekeep's HTTP API, relative to r (pass a group to mount them under a
// prefix):
//
//	/auth/register  /auth/login  /auth/refresh  /auth/logout  /auth/logout-all
//	/me             /healthz
//
// Each path is registered for every method (gin's Any): the handlers check
// the method themselves and answer any other with the API's JSON 405 and
// its Allow header, as the contract asks of every 4xx.
func Mount(r ginpkg.IRouter, a *auth.Authenticator) {
	r.Any("/auth/register", Handler(a.Register()))
	r.Any("/auth/login", Handler(a.Login()))
	r.Any("/auth/refresh", Handler(a.Refresh()))
	r.Any("/auth/logout", Handler(a.Logout()))
	r.Any("/auth/logout-all", Handler(a.LogoutAll()))
	r.Any("/me", Handler(a.Me()))
	r.Any("/healthz", Handler(a.Health()))
}
