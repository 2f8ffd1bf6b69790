package perfbench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/token"
)

// TestMiddlewaresAgree keeps the benchmarks honest: every middleware they
// compare lets a valid token through, refuses a tampered one and one whose
// id was revoked, so a faster row is never one that checks less.
func TestMiddlewaresAgree(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			s := newSetup(t, alg)
			st := newStore(t)
			rows := map[string]http.Handler{
				"floor":         floorMiddleware(alg, verifyKey(t, alg), st, final),
				"token nocache": tokenMiddleware(s.verifier(t, nil), st, final),
				"token cached":  tokenMiddleware(s.verifier(t, newCache(t, 0)), st, final),
				"auth":          authMiddleware(t, s, s.verifier(t, nil), st),
			}
			good := s.sign(t, 1)
			parts := strings.Split(good, ".")
			tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
			revokedTok := s.sign(t, 2)
			c, err := s.verifier(t, nil).Verify(t.Context(), token.Access, revokedTok)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Revoke(t.Context(), c.ID, c.ExpiresAt); err != nil {
				t.Fatal(err)
			}
			for name, h := range rows {
				for _, tc := range []struct {
					what string
					tok  string
					ok   bool
				}{{"valid", good, true}, {"valid again (cache hit)", good, true}, {"tampered", tampered, false}, {"revoked", revokedTok, false}} {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, request(tc.tok))
					if got := w.Code == http.StatusNoContent; got != tc.ok {
						t.Errorf("%s: %s token: status %d", name, tc.what, w.Code)
					}
				}
			}
		})
	}
}
