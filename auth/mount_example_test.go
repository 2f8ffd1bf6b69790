package auth_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

func ExampleAuthenticator_MountWith() {
	key, _ := token.GenerateKey(token.HS256, "")
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks)
	verifier, _ := token.NewVerifier(ks)
	st := memory.New()
	defer st.Close()
	a, err := auth.New(signer, verifier, st, auth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer a.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }) // the application's own
	err = a.MountWith(mux, auth.MountOptions{})
	var rc *auth.RouteConflictError
	fmt.Println(errors.Is(err, auth.ErrRouteConflict), errors.As(err, &rc) && rc.Paths[0] == "/healthz")

	// Under a prefix, and only the routes named: no conflict.
	err = a.MountWith(mux, auth.MountOptions{Prefix: "/api", Only: []string{"/auth/login", "/auth/refresh", "/me"}})
	fmt.Println(err)
	// Output:
	// true true
	// <nil>
}
