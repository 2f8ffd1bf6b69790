package token_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/token"
)

// FuzzLegacyVerify: the legacy path never panics, never accepts a token
// whose signed part (header.payload) the key did not sign, and what it
// accepts has a user id, iat and a lifetime within the ceiling.
func FuzzLegacyVerify(f *testing.F) {
	key, err := token.NewHMACKey(token.HS256, "default", []byte("a-node-dotenv-JWT_SECRET-of-32+-bytes!!"))
	must(f, err)
	v, err := token.NewLegacyVerifier(key, token.WithClock(clock))
	must(f, err)
	signed := map[string]bool{expressDotenvToken[:strings.LastIndexByte(expressDotenvToken, '.')]: true}
	for _, s := range []string{
		expressDotenvToken, expressDotenvToken[:len(expressDotenvToken)-2], expressDotenvToken + ".x",
		strings.Replace(expressDotenvToken, ".", "..", 1),
		"", ".", "..", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6MSwiaWF0IjoxMDB9.",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(ctx, tok)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		i := strings.LastIndexByte(tok, '.')
		if i < 0 || !signed[tok[:i]] {
			t.Fatalf("accepted a token the key did not sign: %q", tok)
		}
		if c.Subject == "" || c.IssuedAt.IsZero() || c.ExpiresAt.Sub(c.IssuedAt) > token.LegacyMaxLifetime {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
