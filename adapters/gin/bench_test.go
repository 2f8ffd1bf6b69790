package gin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ginpkg "github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/token"
)

// BenchmarkRequire compares a route behind Require and Authorize on
// net/http and on gin, so the adapter's cost is measured, not guessed.
func BenchmarkRequire(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.Sign(token.Access, time.Hour, "admin")
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })

	mux := http.NewServeMux()
	mux.Handle("GET /x", f.A.Require(f.A.Authorize("admin")(ok)))
	g := ginpkg.New()
	g.GET("/x", gatekeepgin.Require(f.A), gatekeepgin.Authorize(f.A, "admin"), gatekeepgin.Handler(ok))

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"nethttp", mux}, {"gin", g}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
