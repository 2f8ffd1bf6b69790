package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// atomicObserver is what a metrics Observer costs at least: an atomic
// add per outcome and per store call, the latency summed.
type atomicObserver struct {
	outcomes [5]atomic.Int64
	calls    atomic.Int64
	nanos    atomic.Int64
}

func (o *atomicObserver) Authentication(_ context.Context, out AuthOutcome) {
	o.outcomes[out].Add(1)
}
func (o *atomicObserver) Event(context.Context, Event) {}
func (o *atomicObserver) StoreCall(_ context.Context, c StoreCall) {
	o.calls.Add(1)
	o.nanos.Add(int64(c.Duration))
}

// BenchmarkRequireObserver is BenchmarkMiddleware's default case (the
// verified-token cache, the memory store) warm, without an Observer
// ("none"), with NopObserver ("nop") and with one that counts atomically
// and sums store latency ("atomic", two time.Now per store call).
func BenchmarkRequireObserver(b *testing.B) {
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
	for _, c := range []struct {
		name string
		obs  Observer
	}{{"none", nil}, {"nop", NopObserver{}}, {"atomic", &atomicObserver{}}} {
		b.Run(c.name, func(b *testing.B) {
			opts := []Option{WithHasher(fastHasher()), WithClock(f.clk.Now),
				WithIssuer(testIssuer), WithAudience(testAudience)}
			if c.obs != nil {
				opts = append(opts, WithObserver(c.obs))
			}
			a, err := New(f.signer, cached, f.st, opts...)
			if err != nil {
				b.Fatal(err)
			}
			h := a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			r := httptest.NewRequest("GET", "/private", nil)
			r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := httptest.NewRecorder()
			for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
				h.ServeHTTP(w, r) // warm: the token is in the cache
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			if o, ok := c.obs.(*atomicObserver); ok && o.outcomes[AuthOK].Load() == 0 {
				b.Fatal("the observer saw nothing")
			}
		})
	}
}

// BenchmarkStoreWatch isolates what the hook adds to the revocation
// check of every request on the memory store: the store called directly
// as the Gate's check does ("direct"), the Gate's check without an Observer ("gate", the default:
// the outage watch only) and with the atomic one ("gate-observed", which
// also reads the clock twice).
func BenchmarkStoreWatch(b *testing.B) {
	f := newFixture(b, nil)
	tr := f.register("alice")
	p, err := f.a.AuthenticateToken(b.Context(), tr.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	c := p.Claims
	plain, err := NewGate(f.verifier, f.st)
	if err != nil {
		b.Fatal(err)
	}
	observed, err := NewGate(f.verifier, f.st, WithObserver(&atomicObserver{}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			// What checkRevoked does, without the hook.
			revoked, err := f.st.IsRevoked(ctx, store.Check{
				TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: c.IssuedAt,
			})
			if revoked || err != nil {
				b.Fatal(revoked, err)
			}
		}
	})
	for _, g := range []struct {
		name string
		g    *Gate
	}{{"gate", plain}, {"gate-observed", observed}} {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := g.g.checkRevoked(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
