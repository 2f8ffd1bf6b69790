package gin

import (
	"net/http"

	ginpkg "github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/rbac"
)

// Require returns gin middleware that lets a request through only with a
// valid access token, as [auth.Gate.Require] does (g is an *auth.Gate, or
// an *auth.Authenticator, which is built on one): the principal
// goes on c.Request's context (read it with [Principal]); otherwise the
// response is 401 (503 when the store cannot answer) and the chain is
// aborted.
func Require(g auth.RequestGuard) ginpkg.HandlerFunc {
	return Middleware(g.Require)
}

// Optional returns gin middleware that lets requests without credentials
// through anonymously and treats requests with credentials as [Require]
// does, as [auth.Gate.Optional] does: a presented token that
// fails is refused, never ignored.
func Optional(g auth.RequestGuard) ginpkg.HandlerFunc {
	return Middleware(g.Optional)
}

// Authorize returns gin middleware that lets a request through when its
// principal has any one of roles, as [auth.Gate.Authorize] does:
// 401 without a valid access token, 403 insufficient_scope otherwise. It
// authenticates the request itself when no [Require] ran before it. The
// guard is built once, here, so a guard that cannot be built is logged
// once and denies every request.
func Authorize(g auth.RequestGuard, roles ...string) ginpkg.HandlerFunc {
	return Middleware(g.Authorize(roles...))
}

// Guard returns gin middleware that lets a request through only when its
// principal meets req (roles or permissions), as [auth.Gate.Guard]
// does. A nil req denies every request.
func Guard(g auth.RequestGuard, req *rbac.Requirement) ginpkg.HandlerFunc {
	return Middleware(g.Guard(req))
}

// Middleware translates net/http middleware into gin middleware. When mw
// calls its next handler, the request it passes (with whatever mw put on
// its context) becomes c.Request and the rest of the gin chain runs there,
// inside mw; when mw answers by itself, the chain is aborted. mw must write
// through the ResponseWriter it is given (c.Writer) and pass it on
// unchanged, as every middleware of package auth does.
func Middleware(mw func(http.Handler) http.Handler) ginpkg.HandlerFunc {
	return func(c *ginpkg.Context) {
		passed := false
		// One small closure per request: the net/http middleware needs a
		// next handler bound to this gin context.
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// Handler translates a net/http handler into a gin handler (an endpoint,
// the last of its chain). gin's path parameters are copied to the
// request's path values first, so a handler reading r.PathValue("id")
// works on a gin route "/things/:id". (gin gives a catch-all parameter
// "*rest" its leading slash; the value is passed on as gin gives it.)
func Handler(h http.Handler) ginpkg.HandlerFunc {
	return func(c *ginpkg.Context) {
		for _, p := range c.Params {
			c.Request.SetPathValue(p.Key, p.Value)
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// Principal returns the principal that [Require], [Optional], [Authorize]
// or [Guard] put on c.Request's context, if any. It is
// auth.FromContext(c.Request.Context()).
func Principal(c *ginpkg.Context) (*auth.Principal, bool) {
	if c == nil || c.Request == nil {
		return nil, false
	}
	return auth.FromContext(c.Request.Context())
}
