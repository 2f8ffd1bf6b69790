package readme

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

func main() {
	cfg, err := config.FromEnv() // the environment and ./.env; see Configuration
	if err != nil {
		log.Fatal(err) // one line naming the variable at fault
	}
	st, err := config.Build(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	mux := http.NewServeMux()
	st.Auth.Mount(mux) // /auth/register, /auth/login, ..., /me, /healthz, /admin/users
	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(st.Keys))
	mux.Handle("GET /notes", st.Auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context()) // who is asking
		fmt.Fprintf(w, "notes of %s\n", p.Username)
	})))
	mux.Handle("DELETE /notes/{id}", st.Auth.Authorize("admin")(deleteNote)) // 401, 403 or through
	log.Fatal(http.ListenAndServe(st.Addr, mux))
}
