package token_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// FuzzVerify: Verify never panics, and never accepts a token whose signed
// part (header.payload) was not signed by one of the configured keys.
func FuzzVerify(f *testing.F) {
	hs := keyFor(f, token.HS256, "hs")
	es := keyFor(f, token.ES256, "es")
	ks, err := token.NewKeySet(hs, es)
	must(f, err)
	v, err := token.NewVerifier(ks, token.WithClock(clock), token.WithIssuer("gatekeep"))
	must(f, err)

	signed := map[string]bool{}
	for _, k := range []*token.Key{hs, es} {
		one, err := token.NewKeySet(k)
		must(f, err)
		s, err := token.NewSigner(one, token.WithClock(clock), token.WithIssuer("gatekeep"))
		must(f, err)
		for _, typ := range []token.Type{token.Access, token.Refresh} {
			tok, err := s.Sign(typ, &token.Claims{Subject: "u", Roles: []string{"admin"}, ExpiresAt: now.Add(time.Hour)})
			must(f, err)
			signed[tok[:strings.LastIndexByte(tok, '.')]] = true
			f.Add(tok)
			f.Add(tok[:len(tok)-2])
			f.Add(tok + ".x")
			f.Add(strings.Replace(tok, ".", "..", 1))
		}
	}
	for _, s := range []string{"", ".", "..", "...", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.", "x.y.z.w.v"} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		for _, typ := range []token.Type{token.Access, token.Refresh} {
			c, err := v.Verify(ctx, typ, tok)
			if err != nil {
				if c != nil {
					t.Fatal("claims returned with an error")
				}
				continue
			}
			i := strings.LastIndexByte(tok, '.')
			if i < 0 || !signed[tok[:i]] {
				t.Fatalf("accepted a token no key signed: %q", tok)
			}
		}
	})
}
