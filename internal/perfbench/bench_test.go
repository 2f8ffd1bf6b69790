package perfbench

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

const (
	issuer   = "gatekeep"
	audience = "gatekeep"
	// coldTokens distinct tokens cycle through a cache of one entry, so
	// every request misses.
	coldTokens = 256
)

var algs = []token.Algorithm{token.HS256, token.RS256, token.EdDSA}

// keyMaterial is generated once per run and shared by gatekeep and the
// golang-jwt floor.
var (
	keyMu  sync.Mutex
	keyRaw = map[token.Algorithm]any{}
)

func rawKey(b testing.TB, alg token.Algorithm) any {
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyRaw[alg]; ok {
		return k
	}
	var k any
	var err error
	switch alg {
	case token.HS256:
		s := make([]byte, 32)
		_, err = rand.Read(s)
		k = s
	case token.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case token.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("no key for %s", alg)
	}
	if err != nil {
		b.Fatal(err)
	}
	keyRaw[alg] = k
	return k
}

// verifyKey is what golang-jwt verifies with: the secret, or the public key.
func verifyKey(b testing.TB, alg token.Algorithm) any {
	k := rawKey(b, alg)
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return k
}

// setup is one key's signer and key set.
type setup struct {
	ks *token.KeySet
	s  *token.JWTSigner
}

func newSetup(b testing.TB, alg token.Algorithm) *setup {
	b.Helper()
	k, err := token.NewKey(alg, "k1", rawKey(b, alg))
	if err != nil {
		b.Fatal(err)
	}
	ks, err := token.NewKeySet(k)
	if err != nil {
		b.Fatal(err)
	}
	s, err := token.NewSigner(ks, token.WithIssuer(issuer), token.WithAudience(audience))
	if err != nil {
		b.Fatal(err)
	}
	return &setup{ks: ks, s: s}
}

// sign issues an access token with the claims: sub, iat, exp,
// nbf, iss, aud, jti, sid and three roles.
func (s *setup) sign(b testing.TB, i int) string {
	b.Helper()
	now := time.Now()
	tok, err := s.s.Sign(token.Access, &token.Claims{
		Subject: fmt.Sprintf("3f2b9c1e-8d4a-4b7e-9a1f-%012d", i), SessionID: "s-9d1c2b7a5e",
		Roles: []string{"user", "editor", "billing"}, NotBefore: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func (s *setup) verifier(b testing.TB, c *token.Cache) *token.JWTVerifier {
	b.Helper()
	opts := []token.Option{token.WithIssuer(issuer), token.WithAudience(audience)}
	if c != nil {
		opts = append(opts, token.WithCache(c))
	}
	v, err := token.NewVerifier(s.ks, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func newCache(b testing.TB, capacity int) *token.Cache {
	c, err := token.NewCache(capacity)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func newStore(b testing.TB) *memory.Store {
	st := memory.New()
	b.Cleanup(func() { _ = st.Close() })
	return st
}

func request(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/private", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

type claimsKey struct{}

// final is the protected handler: it needs the verified claims.
var final = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Context().Value(claimsKey{}) == nil {
		if _, ok := auth.FromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
})

var bare = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// tokenMiddleware is what auth's middleware does, built from the token
// package alone: Bearer token, Verify (with the verifier's cache, if any),
// revocation check, claims in the context.
func tokenMiddleware(v *token.JWTVerifier, st store.Revoker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		c, err := v.Verify(r.Context(), token.Access, tok)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		revoked, err := st.IsRevoked(r.Context(), store.Check{TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: c.IssuedAt})
		if err != nil || revoked {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// floorClaims is what a careful golang-jwt user writes: typed claims.
type floorClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
}

// floorMiddleware is the thinnest correct golang-jwt middleware:
// ParseWithClaims with the method pinned, iss, aud and exp required, then
// the same revocation check and context value.
func floorMiddleware(alg token.Algorithm, key any, st store.Revoker, next http.Handler) http.Handler {
	p := jwt.NewParser(jwt.WithValidMethods([]string{string(alg)}), jwt.WithIssuer(issuer),
		jwt.WithAudience(audience), jwt.WithExpirationRequired(), jwt.WithLeeway(token.DefaultLeeway))
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		c := new(floorClaims)
		if _, err := p.ParseWithClaims(tok, c, keyFunc); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var iat time.Time
		if c.IssuedAt != nil {
			iat = c.IssuedAt.Time
		}
		revoked, err := st.IsRevoked(r.Context(), store.Check{TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: iat})
		if err != nil || revoked {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

func authMiddleware(b testing.TB, s *setup, v token.Verifier, st store.Store, opts ...auth.Option) http.Handler {
	b.Helper()
	h, err := auth.NewBcrypt(10) // login is not measured; New hashes once
	if err != nil {
		b.Fatal(err)
	}
	a, err := auth.New(s.s, v, st, append([]auth.Option{auth.WithHasher(h), auth.WithIssuer(issuer), auth.WithAudience(audience)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return a.Require(final)
}

// run serves reqs round robin, a fresh recorder each time.
func run(b *testing.B, h http.Handler, reqs ...*http.Request) {
	for _, r := range reqs { // warm: the cache and the header table
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
		if i++; i == len(reqs) {
			i = 0
		}
	}
}

func runParallel(b *testing.B, h http.Handler, r *http.Request) {
	h.ServeHTTP(httptest.NewRecorder(), r)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusNoContent {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}

func coldRequests(b *testing.B, s *setup) []*http.Request {
	reqs := make([]*http.Request, coldTokens)
	for i := range reqs {
		reqs[i] = request(s.sign(b, i))
	}
	return reqs
}

func BenchmarkBare(b *testing.B) {
	run(b, bare, request("x"))
}

func BenchmarkFloor(b *testing.B) {
	for _, alg := range algs {
		b.Run(string(alg), func(b *testing.B) {
			s := newSetup(b, alg)
			run(b, floorMiddleware(alg, verifyKey(b, alg), newStore(b), final), request(s.sign(b, 0)))
		})
	}
}

func BenchmarkToken(b *testing.B) {
	for _, alg := range algs {
		s := newSetup(b, alg)
		b.Run(string(alg)+"/warm", func(b *testing.B) {
			v := s.verifier(b, newCache(b, 0))
			run(b, tokenMiddleware(v, newStore(b), final), request(s.sign(b, 0)))
		})
		b.Run(string(alg)+"/cold", func(b *testing.B) {
			v := s.verifier(b, newCache(b, 1))
			run(b, tokenMiddleware(v, newStore(b), final), coldRequests(b, s)...)
		})
		b.Run(string(alg)+"/admit", func(b *testing.B) {
			v := s.verifier(b, newCache(b, 1))
			var reqs []*http.Request
			for _, r := range coldRequests(b, s) {
				reqs = append(reqs, r, r)
			}
			run(b, tokenMiddleware(v, newStore(b), final), reqs...)
		})
		b.Run(string(alg)+"/nocache", func(b *testing.B) {
			v := s.verifier(b, nil)
			run(b, tokenMiddleware(v, newStore(b), final), coldRequests(b, s)...)
		})
	}
}

// BenchmarkAuth is auth's Require on the memory store: warm and cold with
// the verified-token cache (on by default), and with it turned off.
func BenchmarkAuth(b *testing.B) {
	for _, alg := range []token.Algorithm{token.HS256, token.RS256} {
		s := newSetup(b, alg)
		b.Run(string(alg)+"/warm", func(b *testing.B) {
			h := authMiddleware(b, s, s.verifier(b, newCache(b, 0)), newStore(b))
			run(b, h, request(s.sign(b, 0)))
		})
		b.Run(string(alg)+"/cold", func(b *testing.B) {
			h := authMiddleware(b, s, s.verifier(b, newCache(b, 1)), newStore(b))
			run(b, h, coldRequests(b, s)...)
		})
		b.Run(string(alg)+"/nocache", func(b *testing.B) {
			h := authMiddleware(b, s, s.verifier(b, nil), newStore(b))
			run(b, h, coldRequests(b, s)...) // the cold row's tokens, for a like comparison
		})
	}
}

// BenchmarkParallel runs the warm paths on every P: with -cpu 1,2 it shows
// whether throughput scales (no global lock on a cache hit).
func BenchmarkParallel(b *testing.B) {
	s := newSetup(b, token.HS256)
	tok := s.sign(b, 0)
	b.Run("Bare", func(b *testing.B) { runParallel(b, bare, request(tok)) })
	b.Run("Floor/HS256", func(b *testing.B) {
		runParallel(b, floorMiddleware(token.HS256, verifyKey(b, token.HS256), newStore(b), final), request(tok))
	})
	b.Run("Token/HS256/warm", func(b *testing.B) {
		runParallel(b, tokenMiddleware(s.verifier(b, newCache(b, 0)), newStore(b), final), request(tok))
	})
	b.Run("Auth/HS256/warm", func(b *testing.B) {
		runParallel(b, authMiddleware(b, s, s.verifier(b, newCache(b, 0)), newStore(b)), request(tok))
	})
}

// BenchmarkLimitHMAC is the HMAC-only limit of a cold HS256 request: the
// whole round trip of BenchmarkAuth, but the handler only reads the bearer
// token, decodes its signature and checks the HMAC-SHA256 of its signing
// input — no header, no claims, no revocation. Auth's cold and cache-off
// rows compare against it.
func BenchmarkLimitHMAC(b *testing.B) {
	s := newSetup(b, token.HS256)
	secret := rawKey(b, token.HS256).([]byte)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		dot := strings.LastIndexByte(tok, '.')
		if !ok || dot < 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(tok[:dot]))
		if err != nil || !hmac.Equal(mac.Sum(nil), sig) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		bare.ServeHTTP(w, r) // nothing was decoded to hand on
	})
	run(b, h, coldRequests(b, s)...)
}
