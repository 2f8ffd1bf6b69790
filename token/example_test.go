package token_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// exampleClock pins time so the examples' output is stable.
func exampleClock() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func ExampleJWTSigner_Sign() {
	// JWT_SECRET from the environment, used as raw bytes like jsonwebtoken.
	key, err := token.NewHMACKey(token.HS256, "2026-01", []byte("example-secret-of-at-least-32-bytes!"))
	if err != nil {
		panic(err)
	}
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(exampleClock))

	claims := &token.Claims{
		Subject:   "user-1",
		SessionID: "session-1",
		Roles:     []string{"user"},
		ExpiresAt: exampleClock().Add(15 * time.Minute),
		ID:        "fixed-for-the-example", // normally left empty: 128 random bits
	}
	tok, err := signer.Sign(token.Access, claims)
	fmt.Println(err, tok)
	// Output:
	// <nil> eyJhbGciOiJIUzI1NiIsImtpZCI6IjIwMjYtMDEiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJnYXRla2VlcCIsInN1YiI6InVzZXItMSIsImF1ZCI6ImdhdGVrZWVwIiwiZXhwIjoxNzY3MzIzOTQ1LCJpYXQiOjE3NjczMjMwNDUsImp0aSI6ImZpeGVkLWZvci10aGUtZXhhbXBsZSIsInNpZCI6InNlc3Npb24tMSIsInJvbGVzIjpbInVzZXIiXX0.9WHuaUlpLaQYvEDwN-42IzvLwyQiAg-dvCd6kL4tlRk
}

func ExampleJWTVerifier_Verify() {
	key, _ := token.GenerateKey(token.EdDSA, "ed-1")
	ks, _ := token.NewKeySet(key)
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(exampleClock)}
	signer, _ := token.NewSigner(ks, opts...)
	refresh, _ := signer.Sign(token.Refresh, &token.Claims{Subject: "user-1", ExpiresAt: exampleClock().Add(time.Hour)})

	// A resource server holds the public half only.
	verifier, _ := token.NewVerifier(ks.Public(), opts...)
	claims, err := verifier.Verify(context.Background(), token.Refresh, refresh)
	fmt.Println(claims.Subject, err)

	// A refresh token is never an access token.
	_, err = verifier.Verify(context.Background(), token.Access, refresh)
	fmt.Println(errors.Is(err, token.ErrWrongType))
	// Output:
	// user-1 <nil>
	// true
}

func ExampleVerifyInto() {
	key, _ := token.GenerateKey(token.ES256, "")
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithClock(exampleClock))
	verifier, _ := token.NewVerifier(ks, token.WithClock(exampleClock))

	type tenantClaims struct {
		Tenant string `json:"tenant"`
	}
	tok, _ := signer.Sign(token.Access, &token.Claims{
		Subject: "user-1", ExpiresAt: exampleClock().Add(time.Minute),
		Extra: tenantClaims{Tenant: "acme"},
	})
	var app tenantClaims
	claims, err := token.VerifyInto(context.Background(), verifier, token.Access, tok, &app)
	fmt.Println(claims.Subject, app.Tenant, err)
	// Output: user-1 acme <nil>
}

func ExampleJWKSHandler() {
	// The issuer serves its public keys...
	key, _ := token.GenerateKey(token.ES256, "es-1")
	ks, _ := token.NewKeySet(key)
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(ks))
	issuer := httptest.NewServer(mux)
	defer issuer.Close()

	// ...and a service that only verifies fetches them by kid.
	src, _ := token.NewRemoteKeySource(issuer.URL + "/.well-known/jwks.json")
	verifier, _ := token.NewVerifier(src, token.WithClock(exampleClock))

	signer, _ := token.NewSigner(ks, token.WithClock(exampleClock))
	tok, _ := signer.Sign(token.Access, &token.Claims{Subject: "user-1", ExpiresAt: exampleClock().Add(time.Minute)})
	claims, err := verifier.Verify(context.Background(), token.Access, tok)
	fmt.Println(claims.Subject, err)
	fmt.Println(len(ks.JWKS().Keys), ks.JWKS().Keys[0].Kid, ks.JWKS().Keys[0].Use)
	// Output:
	// user-1 <nil>
	// 1 es-1 sig
}

func ExampleWithCache() {
	key, _ := token.GenerateKey(token.HS256, "hs-1")
	ks, _ := token.NewKeySet(key)
	cache, _ := token.NewCache(0) // DefaultCacheCapacity
	signer, _ := token.NewSigner(ks, token.WithClock(exampleClock))
	verifier, _ := token.NewVerifier(ks, token.WithClock(exampleClock), token.WithCache(cache))
	tok, _ := signer.Sign(token.Access, &token.Claims{Subject: "user-1", ExpiresAt: exampleClock().Add(time.Minute)})

	ctx := context.Background()
	for i := 0; i < 3; i++ { // verified once, then answered from the cache
		claims, err := verifier.Verify(ctx, token.Access, tok)
		fmt.Println(claims.Subject, err)
	}
	// Type, times and key are still checked on every hit.
	_, err := verifier.Verify(ctx, token.Refresh, tok)
	fmt.Println(errors.Is(err, token.ErrWrongType))
	st := cache.Stats()
	fmt.Println(st.Entries, st.Misses)
	// Output:
	// user-1 <nil>
	// user-1 <nil>
	// user-1 <nil>
	// true
	// 1 2
}
