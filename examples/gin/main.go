// Command gin serves gatekeep's HTTP API on a gin engine: the same API,
// configuration and behaviour as examples/nethttp.
//
//	go run ./examples/gin
//
// With no variables at all it listens on 127.0.0.1:8080 with the memory
// store and a random per-start secret (and says so on stderr). See
// .env.example for every variable.
package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
	"github.com/gatekeep/gatekeep/token"
)

func init() {
	// Without it gin prints every route and a debug warning at start.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
}

func main() { serve.Main(newHandler) }

// errPanic answers a recovered panic: 503 unavailable, with no internals.
var errPanic = errors.New("handler panicked")

// newHandler is the whole API: the auth handlers, the JWKS, one
// application route (GET /app/claims) and JSON errors for unknown routes.
func newHandler(st *config.Stack) http.Handler {
	r := gin.New()
	// gin.Recovery would dump the request's headers (the Cookie header
	// carries tokens in cookie mode) on a broken pipe; log the panic
	// without them and answer in the API's JSON.
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		slog.Error("gin: panic recovered", "route", c.FullPath(), "panic", rec, "stack", string(debug.Stack()))
		auth.WriteError(c.Writer, c.Request, errPanic)
		c.Abort()
	}))
	// /me/ is not /me: answer 404 as net/http and chi do, not a redirect.
	r.RedirectTrailingSlash = false
	gatekeepgin.Mount(r, st.Auth) // /auth/*, /me, /healthz, and /admin/users* for role admin
	// /auth/oidc/*: sign in with OIDC_PROVIDERS.
	if st.OIDC != nil {
		for _, rt := range st.OIDC.Routes() {
			r.Any(strings.NewReplacer("{provider}", ":provider", "{id}", ":id").Replace(rt.Pattern), gatekeepgin.Handler(rt.Handler))
		}
	}
	r.Any("/.well-known/jwks.json", gatekeepgin.Handler(token.JWKSHandler(st.Keys)))
	// An application route: the caller's own claims (auth.WithClaims).
	r.GET("/app/claims", gatekeepgin.Require(st.Auth), func(c *gin.Context) {
		claims, _ := auth.ClaimsAs[map[string]any](c.Request.Context())
		if claims == nil {
			claims = map[string]any{}
		}
		c.Header("Content-Type", "application/json")
		c.Header("Cache-Control", "no-store")
		c.Header("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(c.Writer).Encode(claims)
	})
	// JSON 404s, as every error of the API; methods gin does not know get
	// the API's JSON 405 on its paths.
	r.NoRoute(gatekeepgin.NoRoute(st.Auth, func(c *gin.Context) {
		auth.WriteError(c.Writer, c.Request, auth.ErrNotFound)
	}))
	return r
}
