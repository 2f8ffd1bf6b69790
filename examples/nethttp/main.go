// Command nethttp serves gatekeep's HTTP API on the standard library's
// ServeMux (Go 1.22+ patterns): register, login, refresh, logout, /me,
// /healthz and the JWKS, configured from the environment and a .env file.
//
//	go run ./examples/nethttp
//
// With no variables at all it listens on 127.0.0.1:8080 with the memory
// store and a random per-start secret (and says so on stderr). See
// .env.example for every variable.
package main

import (
	"encoding/json"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
	"github.com/gatekeep/gatekeep/token"
)

func main() { serve.Main(newHandler) }

// newHandler is the whole API: the auth handlers, the JWKS, one application
// route (GET /app/claims) and a JSON 404.
func newHandler(st *config.Stack) http.Handler {
	mux := http.NewServeMux()
	st.Auth.Mount(mux) // /auth/*, /me, /healthz, and /admin/users* for role admin
	if st.OIDC != nil {
		st.OIDC.Mount(mux) // /auth/oidc/*: sign in with OIDC_PROVIDERS
	}
	mux.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	// An application route: the caller's own claims (auth.WithClaims).
	mux.Handle("GET /app/claims", st.Auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := auth.ClaimsAs[map[string]any](r.Context())
		if claims == nil {
			claims = map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(w).Encode(claims)
	})))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound) // JSON, as every error of the API
	}))
	return mux
}
