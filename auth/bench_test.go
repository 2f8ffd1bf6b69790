package auth

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// BenchmarkMiddleware measures one authenticated request through Require
// on the memory store: Bearer parsing, signature and claims (HS256),
// revocation check, principal and context. "jwt" is a *token.JWTVerifier
// without the token cache; "verify-only" is another Verifier wrapping it;
// "jwt-cached" is config's default, with the verified-token cache (the
// revocation check still runs each time).
func BenchmarkMiddleware(b *testing.B) {
	f := newFixture(b, nil)
	tr := f.register("alice")
	cache, err := token.NewCache(0)
	if err != nil {
		b.Fatal(err)
	}
	cached, err := f.verifier.Cached(cache)
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		v    token.Verifier
		opts []Option
	}{
		{"jwt", f.verifier, nil},
		{"verify-only", plainVerifier{f.verifier}, nil},
		{"jwt-cached", cached, nil},
	} {
		b.Run(v.name, func(b *testing.B) {
			a, err := New(f.signer, v.v, f.st, append([]Option{WithHasher(fastHasher()), WithClock(f.clk.Now),
				WithIssuer(testIssuer), WithAudience(testAudience)}, v.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, ok := FromContext(r.Context()); !ok {
					b.Fatal("no principal")
				}
			}))
			r := httptest.NewRequest("GET", "/private", nil)
			r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
}

// BenchmarkMiddlewareStores is BenchmarkMiddleware's default (cached) case on each
// store: memory, bolt, and Redis with its local revocation view (skipped
// without a Redis).
func BenchmarkMiddlewareStores(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store {
			m := memory.New()
			b.Cleanup(func() { _ = m.Close() })
			return m
		}},
		{"bolt", func(b *testing.B) store.Store { return boltStore(b) }},
		{"redis", func(b *testing.B) store.Store { return redisStore(b, needRedis(b)) }},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			f := newFixture(b, s.open(b))
			tr := f.register("bench")
			h := f.a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			r := httptest.NewRequest("GET", "/private", nil)
			r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := httptest.NewRecorder()
			// Warm up for 200ms: Redis's local revocation view answers
			// without a round trip only once its first ping has returned.
			for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
				h.ServeHTTP(w, r)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
}

// BenchmarkLogin measures a successful POST /auth/login with each hasher
// at its production parameters: argon2id m=19456 KiB t=2 p=1, bcrypt cost 12.
func BenchmarkLogin(b *testing.B) {
	argon, _ := NewArgon2id(Argon2idParams{})
	bc, _ := NewBcrypt(12)
	for _, h := range []struct {
		name string
		h    Hasher
	}{{"argon2id", argon}, {"bcrypt12", bc}} {
		b.Run(h.name, func(b *testing.B) {
			f := newFixture(b, nil, WithHasher(h.h), WithLoginThrottle(1<<30, 1<<40))
			f.register("alice")
			body := creds("alice", testPassword)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				w := f.do(req{method: "POST", path: "/auth/login", body: body, remote: "192.0.2.1:" + strconv.Itoa(i%60000+1)})
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
