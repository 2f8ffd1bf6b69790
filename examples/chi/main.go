// Command chi serves gatekeep's HTTP API on a chi router: the same API,
// configuration and behaviour as examples/nethttp.
//
//	go run ./examples/chi
//
// With no variables at all it listens on 127.0.0.1:8080 with the memory
// store and a random per-start secret (and says so on stderr). See
// .env.example for every variable.
package main

import (
	"encoding/json"
	"net/http"

	gochi "github.com/go-chi/chi/v5"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
	"github.com/gatekeep/gatekeep/token"
)

func main() { serve.Main(newHandler) }

// newHandler is the whole API: the auth handlers, the JWKS, one
// application route (GET /app/claims) and JSON errors for unknown routes.
func newHandler(st *config.Stack) http.Handler {
	r := gochi.NewRouter()
	gatekeepchi.Mount(r, st.Auth) // /auth/*, /me, /healthz, and /admin/users* for role admin
	// /auth/oidc/*: sign in with OIDC_PROVIDERS.
	if st.OIDC != nil {
		for _, rt := range st.OIDC.Routes() {
			r.Handle(rt.Pattern, rt.Handler)
		}
	}
	r.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	// An application route: the caller's own claims (auth.WithClaims).
	r.With(st.Auth.Require).Get("/app/claims", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := auth.ClaimsAs[map[string]any](r.Context())
		if claims == nil {
			claims = map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(w).Encode(claims)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound) // JSON, as every error of the API
	})
	return r
}
