package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// TestRowsAgree keeps the comparison honest: every row lets the valid
// token through and refuses a tampered one, one for another audience,
// one from another issuer and an expired one, so a faster row is never
// one that checks less of the token. Rows with a store (gatekeep's and
// the floor) must also refuse a token revoked after its first use; the
// peers have no revocation.
func TestRowsAgree(t *testing.T) {
	for _, alg := range algs {
		k := keysFor(t, alg)
		good := k.sign(t, 1)
		parts := strings.Split(good, ".")
		now := time.Now()
		claims := func(mod func(*token.Claims)) string {
			c := &token.Claims{Subject: subjectPrefix + "000000000002", SessionID: sessionID, Roles: roles,
				NotBefore: now, ExpiresAt: now.Add(time.Hour)}
			mod(c)
			return k.signClaims(t, c)
		}
		bad := map[string]string{
			// a signature of another token's shape: must not verify
			"tampered": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
			"audience": claims(func(c *token.Claims) { c.Audience = []string{"another-api"} }),
			"issuer":   claims(func(c *token.Claims) { c.Issuer = "https://evil.example.test/" }),
			"expired": claims(func(c *token.Claims) {
				c.IssuedAt, c.NotBefore, c.ExpiresAt = now.Add(-2*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour)
			}),
		}
		for _, rw := range rows() {
			if rw.name == "bare" {
				continue
			}
			t.Run(string(alg)+"/"+rw.name, func(t *testing.T) {
				h, st := rw.handler(t, k)
				for _, tok := range []string{good, good} { // a miss, then a hit
					if w := serve(h, tok); w.Code != http.StatusNoContent {
						t.Fatalf("valid token: status %d: %s", w.Code, w.Body)
					}
				}
				if st != nil {
					// revoked after a first use, so a cached verification
					// must not let it through
					tok := k.sign(t, 3)
					if w := serve(h, tok); w.Code != http.StatusNoContent {
						t.Fatalf("valid token: status %d: %s", w.Code, w.Body)
					}
					c, err := newVerifier(t, k, off).Verify(t.Context(), token.Access, tok)
					if err != nil {
						t.Fatal(err)
					}
					if err := st.Revoke(t.Context(), c.ID, c.ExpiresAt); err != nil {
						t.Fatal(err)
					}
					if w := serve(h, tok); w.Code != http.StatusUnauthorized {
						t.Errorf("revoked token: status %d, want 401", w.Code)
					}
				}
				for what, tok := range bad {
					if w := serve(h, tok); w.Code < 400 || w.Code >= 500 {
						t.Errorf("%s token: status %d, want a 4xx refusal", what, w.Code)
					}
				}
			})
		}
	}
}

func serve(h http.Handler, tok string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request(tok))
	return w
}
