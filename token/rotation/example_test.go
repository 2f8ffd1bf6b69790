package rotation_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

func Example() {
	ctx := context.Background()
	st := memory.New() // or bolt, Redis, PostgreSQL: every instance on one store
	defer st.Close()

	// 32 bytes from a secrets manager, as JWT_KEY_ENCRYPTION_KEY holds them.
	kek, err := token.ParseKEK("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		panic(err)
	}
	r, err := rotation.New(ctx, st, kek, token.ES256, 30*24*time.Hour,
		rotation.WithRetain(7*24*time.Hour+30*time.Second), // refresh TTL + leeway
		rotation.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer r.Close()

	signer, _ := token.NewSigner(r.KeySet())
	verifier, _ := token.NewVerifier(r) // a kid it lacks reloads the ring, once per interval

	tok, _ := signer.Sign(token.Access, &token.Claims{Subject: "alice", ExpiresAt: time.Now().Add(time.Minute)})
	c, err := verifier.Verify(ctx, token.Access, tok)
	fmt.Println(c.Subject, err, len(r.KeySet().JWKS().Keys))
	// Output: alice <nil> 1
}
