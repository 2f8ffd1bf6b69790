package token_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatekeep/gatekeep/token"
)

// Benchmarks compare Sign and Verify per family with golang-jwt's own
// ParseWithClaims on the same claims as the floor. Run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./token/

// floorClaims is what a careful golang-jwt user would write: typed claims,
// no MapClaims.
type floorClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid,omitempty"`
	Roles     []string `json:"roles,omitempty"`
}

func benchClaims() *token.Claims {
	return &token.Claims{
		Subject: "3f2b9c1e-8d4a-4b7e-9a1f-2c6d8e0b5a71", SessionID: "s-9d1c2b7a",
		Roles: []string{"user", "admin"}, ExpiresAt: now.Add(15 * time.Minute),
	}
}

func benchSetup(b *testing.B, alg token.Algorithm) (*token.JWTSigner, *token.JWTVerifier, string) {
	b.Helper()
	ks, err := token.NewKeySet(keyFor(b, alg, "k1"))
	must(b, err)
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock)}
	s, err := token.NewSigner(ks, opts...)
	must(b, err)
	v, err := token.NewVerifier(ks, opts...)
	must(b, err)
	tok, err := s.Sign(token.Access, benchClaims())
	must(b, err)
	return s, v, tok
}

var benchAlgs = []token.Algorithm{token.HS256, token.RS256, token.PS256, token.ES256, token.EdDSA}

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			s, _, _ := benchSetup(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(token.Access, benchClaims()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			_, v, tok := benchSetup(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token.Access, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFloorGolangJWT is golang-jwt's ParseWithClaims on the HS256 token
// our Signer produced: typed claims, WithValidMethods, issuer, audience,
// exp required. It checks less than Verify (no typ, no kid lookup).
func BenchmarkFloorGolangJWT(b *testing.B) {
	_, _, tok := benchSetup(b, token.HS256)
	secret := rawKey(b, token.HS256)
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("gatekeep"),
		jwt.WithAudience("gatekeep"), jwt.WithExpirationRequired(), jwt.WithTimeFunc(clock),
		jwt.WithLeeway(30*time.Second))
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	b.Run("HS256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c floorClaims
			if _, err := p.ParseWithClaims(tok, &c, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyPaths splits Verify by path, HS256: a cache hit, a miss
// on the fast path (no cache), and the general path alone.
func BenchmarkVerifyPaths(b *testing.B) {
	ctx := context.Background()
	_, _, tok := benchSetup(b, token.HS256)
	ks, err := token.NewKeySet(keyFor(b, token.HS256, "k1"))
	must(b, err)
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock)}
	c, err := token.NewCache(0)
	must(b, err)
	cached, err := token.NewVerifier(ks, append(opts, token.WithCache(c))...)
	must(b, err)
	fast, err := token.NewVerifier(ks, opts...)
	must(b, err)
	general, err := token.NewVerifier(ks, append(opts, token.WithoutFastPath())...)
	must(b, err)
	for _, r := range []struct {
		name string
		v    *token.JWTVerifier
	}{{"hit", cached}, {"fast", fast}, {"general", general}} {
		b.Run(r.name, func(b *testing.B) {
			if _, err := r.v.Verify(ctx, token.Access, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.v.Verify(ctx, token.Access, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
