package oidc_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/oidc"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// Sign-in with GitHub beside the API: the start route sends the browser to
// GitHub with a state, a PKCE challenge and a state cookie.
func Example() {
	key, _ := token.NewHMACKey(token.HS256, "main", bytes.Repeat([]byte("s"), 32)) // use a real secret
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	st := memory.New()
	defer st.Close()
	a, _ := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))

	svc, err := oidc.New(a, st, "/signed-in", []oidc.Provider{
		oidc.GitHub("Iv1.client-id", "client-secret", "https://app.example.com/auth/oidc/github/callback"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	svc.Mount(mux)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/oidc/github/start", nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, loc.Host+loc.Path)
	fmt.Println("PKCE:", loc.Query().Get("code_challenge_method"), "state set:", loc.Query().Get("state") != "")
	fmt.Println("cookie:", rec.Result().Cookies()[0].Name)
	// Output:
	// 302 github.com/login/oauth/authorize
	// PKCE: S256 state set: true
	// cookie: gatekeep_oidc
}
