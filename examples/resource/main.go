// Command resource is a verify-only service: it accepts the access tokens
// another gatekeep service (any of the other examples) issues, with no
// signing key and no user store of its own. It reads the issuer's public
// keys from JWKS_URL and shares the issuer's Redis or PostgreSQL for
// revocations, so a logout, a session end or a role change on the issuer
// stops a token here too (within REVOCATION_MAX_LAG).
//
//	JWT_ALG=EdDSA JWKS_URL=http://127.0.0.1:8080/.well-known/jwks.json \
//	AUTH_STORE=redis REDIS_URL=redis://127.0.0.1:6379/0 ADDR=127.0.0.1:8081 \
//	go run ./examples/resource
//
// It serves GET /me (the principal as JSON) and GET /admin/ping (role
// admin), and JSON errors for everything else.
package main

import (
	"encoding/json"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
)

func main() { serve.MainGate(newHandler) }

// principal is the body of GET /me.
type principal struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
}

// newHandler is the whole service: two guarded routes and a JSON 404.
func newHandler(st *config.GateStack) http.Handler {
	g := st.Gate
	mux := http.NewServeMux()
	mux.Handle("GET /me", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		roles := p.Roles
		if roles == nil {
			roles = []string{}
		}
		writeJSON(w, principal{ID: p.UserID, Username: p.Username, Roles: roles})
	})))
	mux.Handle("GET /admin/ping", g.Authorize("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound)
	}))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}
