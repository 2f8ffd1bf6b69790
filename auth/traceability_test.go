package auth

import (
	"net/http"
	"testing"
	"time"
)

// RFC 6750 §2.2 allows a bearer token in a form-encoded body; gatekeep
// accepts one only in the Authorization header (and, in cookie mode, its
// cookie), so a token in a body is never read: every body the API reads
// is JSON, and a body parameter would be one more place a token is
// logged or cached.
func TestBearerNotReadFromAFormBody(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	w := f.do(req{method: "POST", path: "/auth/logout", body: "access_token=" + tr.AccessToken,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
	requireError(t, w, http.StatusUnauthorized, CodeInvalidToken)
	if got := f.status(tr.AccessToken); got != http.StatusOK {
		t.Fatalf("the session ended on a request without a header token: %d", got)
	}
}

// ASVS 5.0 V7.4.5: an administrator can end every session of a user
// (RevokeUser, which logout-all also uses): every access and refresh token
// of every session stops now; a later login works.
func TestAdminRevokeUserEndsEverySession(t *testing.T) {
	f := newFixture(t, nil)
	a := f.register("alice")
	b := f.login("alice")
	other := f.register("bob")
	if err := f.a.RevokeUser(t.Context(), a.User.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{a.AccessToken, b.AccessToken} {
		if got := f.status(tok); got != http.StatusUnauthorized {
			t.Errorf("an access token of the revoked user answers %d", got)
		}
	}
	for _, tok := range []string{a.RefreshToken, b.RefreshToken} {
		requireError(t, f.refresh(tok), http.StatusUnauthorized, CodeInvalidToken)
	}
	if got := f.status(other.AccessToken); got != http.StatusOK {
		t.Errorf("another user's token answers %d", got)
	}
	f.clk.Advance(time.Second) // tokens of the revoking second are refused
	f.login("alice")
}
