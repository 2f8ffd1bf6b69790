package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
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

// newStack is the examples' issuing side: an HS256 key, a signer and a
// cached verifier, a memory store.
func newStack() (*token.JWTSigner, *token.JWTVerifier, *memory.Store) {
	key, _ := token.NewHMACKey(token.HS256, "main", bytes.Repeat([]byte("s"), 32)) // use a real secret
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"))
	cache, _ := token.NewCache(0)
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithCache(cache))
	return signer, verifier, memory.New()
}

// A verify-only service: a Gate holds a Verifier and a Revoker, no signing
// key and no user store. Here it shares the issuer's store; across
// processes both would use the same Redis or PostgreSQL, and the Verifier
// would read the issuer's public keys (token.NewRemoteKeySource on its
// /.well-known/jwks.json).
func ExampleNewGate() {
	signer, verifier, st := newStack()
	defer st.Close()
	issuer, _ := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"))
	tokens, _ := issuer.Register(context.Background(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})

	gate, err := auth.NewGate(verifier, st)
	if err != nil {
		fmt.Println(err)
		return
	}
	me := gate.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Username)
	}))
	for _, tok := range []string{tokens.AccessToken, tokens.RefreshToken} {
		r := httptest.NewRequest("GET", "/me", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		me.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello alice
	// 401 {"error":"invalid_token","error_description":"the token is invalid or expired"}
}

// The lifecycle from Go: log in with a username and password, branching on
// the error's sentinel.
func ExampleAuthenticator_Login() {
	signer, verifier, st := newStack()
	defer st.Close()
	a, _ := auth.New(signer, verifier, st)
	ctx := context.Background()
	client := auth.Client{IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "example"}
	_, _ = a.Register(ctx, auth.Registration{Username: "alice", Password: "correct horse battery staple"}, client)

	_, err := a.Login(ctx, "alice", "wrong password", client)
	fmt.Println(errors.Is(err, auth.ErrInvalidCredentials))

	tokens, err := a.Login(ctx, "Alice", "correct horse battery staple", client)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tokens.User.Username, tokens.TokenType, tokens.ExpiresIn)
	// Output:
	// true
	// alice Bearer 900
}

// An application that already knows its user (its own session cookie, an
// SSO callback) hands out a gatekeep pair with IssueTokens: here, its own
// GET /auth/token behind its own session middleware.
func ExampleAuthenticator_IssueTokens() {
	signer, verifier, st := newStack()
	defer st.Close()
	a, _ := auth.New(signer, verifier, st)
	u, _ := a.Register(context.Background(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})

	// appSession stands in for the application's own session middleware:
	// it puts the user id it knows into the context.
	type userKey struct{}
	appSession := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u.User.ID)))
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /auth/token", appSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userID, _ := r.Context().Value(userKey{}).(string)
		tokens, err := a.IssueTokens(r.Context(), userID, a.ClientOf(r))
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(tokens)
	})))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/auth/token", nil))
	var tokens auth.TokenResponse
	_ = json.NewDecoder(w.Body).Decode(&tokens)
	p, err := a.AuthenticateToken(context.Background(), tokens.AccessToken)
	fmt.Println(w.Code, p.Username, err)
	// Output:
	// 200 alice <nil>
}

// Application claims: every access token carries what the ClaimsFunc
// returns for its user, refreshed with the token.
func ExampleWithClaims() {
	signer, verifier, st := newStack()
	defer st.Close()
	a, err := auth.New(signer, verifier, st, auth.WithClaims(func(ctx context.Context, u store.User) (map[string]any, error) {
		return map[string]any{"tenant": "acme", "email": u.Email}, nil
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	tokens, _ := a.Register(context.Background(), auth.Registration{
		Username: "alice", Password: "correct horse battery staple", Email: "alice@example.com",
	}, auth.Client{})
	p, _ := a.AuthenticateToken(context.Background(), tokens.AccessToken)
	var claims map[string]any
	_ = p.DecodeClaims(&claims)
	fmt.Println(claims["tenant"], claims["email"])

	// A name gatekeep owns is refused.
	fmt.Println(auth.CheckClaims(map[string]any{"roles": "admin"}))
	// Output:
	// acme alice@example.com
	// auth: the claim "roles" is reserved by gatekeep
}

// Reading application claims behind the middleware, into the
// application's own struct.
func ExampleClaimsAs() {
	signer, verifier, st := newStack()
	defer st.Close()
	a, _ := auth.New(signer, verifier, st, auth.WithClaims(func(context.Context, store.User) (map[string]any, error) {
		return map[string]any{"tenant": "acme", "plan": "pro"}, nil
	}))
	tokens, _ := a.Register(context.Background(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})

	type Account struct {
		Tenant string `json:"tenant"`
		Plan   string `json:"plan"`
	}
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, ok := auth.ClaimsAs[Account](r.Context())
		fmt.Fprintln(w, acct.Tenant, acct.Plan, ok)
	}))
	r := httptest.NewRequest("GET", "/billing", nil)
	r.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body.String())
	// Output:
	// acme pro true
}

// Two-factor login through the Go API: enrol, confirm with a code from the
// app, then a login asks for the second factor before any session exists.
func ExampleAuthenticator_VerifyMFA() {
	signer, verifier, st := newStack()
	defer st.Close()
	kek := bytes.Repeat([]byte{7}, auth.KeyEncryptionKeySize) // use JWT_KEY_ENCRYPTION_KEY's 32 random bytes
	a, _ := auth.New(signer, verifier, st, auth.WithKeyEncryptionKey(kek))
	ctx := context.Background()
	client := auth.Client{IP: netip.MustParseAddr("192.0.2.1")}
	reg, _ := a.Register(ctx, auth.Registration{Username: "alice", Password: "correct horse battery staple"}, client)
	p, _ := a.AuthenticateToken(ctx, reg.AccessToken)

	setup, _ := a.EnrolTOTP(ctx, p) // show setup.QRCode to the user
	code, _ := totp.GenerateCode(setup.Secret, time.Now())
	recovery, _ := a.ConfirmTOTP(ctx, p, code) // show these once
	fmt.Println(len(recovery), "recovery codes")

	_, err := a.Login(ctx, "alice", "correct horse battery staple", client)
	var mfa *auth.MFARequiredError
	if !errors.As(err, &mfa) {
		fmt.Println("no challenge:", err)
		return
	}
	fmt.Println(mfa.Methods)
	tokens, err := a.VerifyMFA(ctx, mfa.Token, auth.SecondFactor{RecoveryCode: recovery[0]}, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tokens.User.Username, tokens.TokenType)
	// Output:
	// 10 recovery codes
	// [totp recovery]
	// alice Bearer
}
