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

// BenchmarkStoreWatch isolates what the watch adds to one revocation check
// on the memory store: the store itself ("direct"), through the wrapper
// without an Observer ("watched", the default) and with the atomic one
// ("observed", which also reads the clock twice).
func BenchmarkStoreWatch(b *testing.B) {
	f := newFixture(b, nil)
	tr := f.register("alice")
	p, err := f.a.AuthenticateToken(b.Context(), tr.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	c := store.Check{TokenID: p.TokenID, SessionID: p.SessionID, UserID: p.UserID, IssuedAt: p.Claims.IssuedAt}
	for _, r := range []struct {
		name string
		rev  store.Revoker
	}{
		{"direct", f.st},
		{"watched", observeStore(f.st, nil, f.a.log, f.clk.Now)},
		{"observed", observeStore(f.st, &atomicObserver{}, f.a.log, f.clk.Now)},
	} {
		b.Run(r.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if revoked, err := r.rev.IsRevoked(ctx, c); revoked || err != nil {
					b.Fatal(revoked, err)
				}
			}
		})
	}
}
