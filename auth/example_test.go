package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// Protecting a ServeMux route: mount the API's handlers, wrap the route in
// Require (any valid access token) or Authorize (a role), and read the
// principal from the request context.
func Example() {
	key, _ := token.NewHMACKey(token.HS256, "main", bytes.Repeat([]byte("s"), 32)) // use a real secret
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	st := memory.New()
	defer st.Close()

	a, err := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /notes", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "notes of %s", p.Username)
	})))
	mux.Handle("DELETE /notes", a.Authorize("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, _ := http.Post(srv.URL+"/auth/register", "application/json",
		strings.NewReader(`{"username":"Alice","password":"correct horse battery staple"}`))
	var tokens auth.TokenResponse
	_ = json.NewDecoder(res.Body).Decode(&tokens)
	res.Body.Close()
	fmt.Println("register:", res.StatusCode, tokens.User.Username, tokens.User.Roles)

	call := func(method, bearer string) {
		req, _ := http.NewRequest(method, srv.URL+"/notes", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		fmt.Println(method, res.StatusCode, strings.TrimSpace(body.String()))
	}
	call("GET", "")
	call("GET", tokens.AccessToken)
	call("DELETE", tokens.AccessToken)
	// Output:
	// register: 201 alice [user]
	// GET 401 {"error":"invalid_token","error_description":"authentication required"}
	// GET 200 notes of alice
	// DELETE 403 {"error":"insufficient_scope","error_description":"the principal lacks the required role"}
}
