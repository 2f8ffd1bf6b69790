package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRoundTrip serves each row's prebuilt request through
// ServeHTTP with a fresh recorder, for HS256, RS256 and EdDSA. Names are
// alg=<alg>/row=<row>, so benchstat can put algorithms in columns
// (-col /alg).
func BenchmarkRoundTrip(b *testing.B) {
	for _, alg := range algs {
		k := keysFor(b, alg)
		for _, rw := range rows() {
			b.Run("alg="+string(alg)+"/row="+rw.name, func(b *testing.B) {
				h, _ := rw.handler(b, k)
				run(b, h, requests(b, k, rw.cold))
			})
		}
	}
}

// run serves reqs round robin, a fresh recorder each time, after one
// pass to warm caches and header tables.
func run(b *testing.B, h http.Handler, reqs []*http.Request) {
	for _, r := range reqs {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
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
