package oidc

import (
	"bytes"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// fuzzService is a Service whose one provider, "op", is on a closed
// loopback port: nothing a test sends reaches a provider.
func fuzzService(t testing.TB) *Service {
	t.Helper()
	key, _ := token.NewHMACKey(token.HS256, "k", bytes.Repeat([]byte("k"), 32))
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(a, st, "/welcome", []Provider{{Name: "op", Issuer: "http://127.0.0.1:1", ClientID: "c",
		RedirectURL: "http://127.0.0.1:1/auth/oidc/op/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
