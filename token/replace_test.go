package token_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

func TestKeySetReplace(t *testing.T) {
	a, b := keyFor(t, token.ES256, "a"), keyFor(t, token.EdDSA, "b")
	ks, err := token.NewKeySet(a)
	must(t, err)
	s, err := token.NewSigner(ks)
	must(t, err)
	v, err := token.NewVerifier(ks)
	must(t, err)
	sign := func() (string, error) {
		return s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: time.Now().Add(time.Minute)})
	}
	tokA, err := sign()
	must(t, err)

	must(t, ks.Replace(b, a))
	if ks.Active() != b || len(ks.Keys()) != 2 {
		t.Fatalf("after Replace(b, a): active %v, %d keys", ks.Active(), len(ks.Keys()))
	}
	tokB, err := sign()
	must(t, err)
	for _, tok := range []string{tokA, tokB} {
		if _, err := v.Verify(context.Background(), token.Access, tok); err != nil {
			t.Errorf("verify after Replace: %v", err)
		}
	}

	// No active key: the signer refuses rather than use a leftover.
	must(t, ks.Replace(nil, b.Public()))
	if _, err := sign(); !errors.Is(err, token.ErrInvalidKey) {
		t.Errorf("sign with no active key: %v, want ErrInvalidKey", err)
	}
	if _, err := v.Verify(context.Background(), token.Access, tokA); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("a token of a key replaced away: %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(context.Background(), token.Access, tokB); err != nil {
		t.Errorf("a token of a key kept verify-only: %v", err)
	}

	before := ks.Keys()
	if err := ks.Replace(a, a); !errors.Is(err, token.ErrInvalidConfig) {
		t.Errorf("duplicate kid: %v, want ErrInvalidConfig", err)
	}
	if err := ks.Replace(b.Public()); !errors.Is(err, token.ErrInvalidKey) {
		t.Errorf("public active key: %v, want ErrInvalidKey", err)
	}
	if after := ks.Keys(); len(after) != len(before) || after[0] != before[0] {
		t.Errorf("a refused Replace changed the set")
	}
	must(t, ks.Replace(nil))
	if len(ks.Keys()) != 0 {
		t.Errorf("Replace(nil) left %d keys", len(ks.Keys()))
	}
}
