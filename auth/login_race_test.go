package auth

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
)

// slowSessions holds CreateSession (when armed) until released: it stands
// for a login whose argon2 verification (tens of ms) straddles the event.
type slowSessions struct {
	store.Store
	armed   chan struct{} // closed by test to arm
	entered chan struct{}
	release chan struct{}
}

func (s *slowSessions) CreateSession(ctx context.Context, sess *store.Session) error {
	select {
	case <-s.armed:
		s.entered <- struct{}{}
		<-s.release
	default:
	}
	return s.Store.CreateSession(ctx, sess)
}

func newSlow(t *testing.T) *slowSessions {
	m := memory.New()
	t.Cleanup(func() { _ = m.Close() })
	return &slowSessions{Store: m, armed: make(chan struct{}), entered: make(chan struct{}, 1), release: make(chan struct{})}
}

// concurrentLogin starts a login of username with pw that verifies the
// password and then waits in CreateSession; finish returns its tokens.
func concurrentLogin(f *fixture, s *slowSessions, username, pw string) (finish func() (int, TokenResponse)) {
	close(s.armed)
	done := make(chan struct{})
	var code int
	var tr TokenResponse
	go func() {
		defer close(done)
		w := f.do(req{method: "POST", path: "/auth/login", body: creds(username, pw)})
		code = w.Code
		if code == http.StatusOK {
			tr = decodeTokens(f.t, w)
		}
	}()
	<-s.entered
	return func() (int, TokenResponse) {
		s.armed = make(chan struct{}) // disarm for later calls
		close(s.release)
		<-done
		return code, tr
	}
}

// A login whose password check straddles a password change, a reset or a
// role change must not come out with a session the change missed. Found in
// review: each of the three rows below got a working session (or the old
// admin role) before startSession read the user again.

func TestLoginRacingPasswordChangeGetsNoSession(t *testing.T) {
	s := newSlow(t)
	f := newFixture(t, s)
	victim := f.register("alice")
	finish := concurrentLogin(f, s, "alice", testPassword) // attacker knows the old password
	w := f.do(req{method: "POST", path: "/auth/password/change", bearer: victim.AccessToken,
		body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "a brand new password"})})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	code, _ := finish()
	assert.Equal(t, http.StatusUnauthorized, code, "a login verified against the old password")
	assertOnlySessions(t, f, victim.User.ID, 1) // the changer's own
}

func TestLoginRacingResetGetsNoSession(t *testing.T) {
	s := newSlow(t)
	mb := newMailbox()
	f := newFixture(t, s, WithPasswordReset(mb, resetLink))
	alice := f.register("alice")
	tok := f.resetToken(mb, "alice")
	f.clk.Advance(2e9)
	finish := concurrentLogin(f, s, "alice", testPassword)
	require.Equal(t, http.StatusNoContent, f.resetPassword(tok, "a brand new password").Code)
	code, _ := finish()
	assert.Equal(t, http.StatusUnauthorized, code, "a login verified against the old password")
	assertOnlySessions(t, f, alice.User.ID, 0) // a reset ends every session
}

func TestLoginRacingDemotionGetsNewRoles(t *testing.T) {
	s := newSlow(t)
	f := newFixture(t, s)
	root := f.admin("root")
	mallory := f.admin("mallory")
	finish := concurrentLogin(f, s, "mallory", testPassword)
	w := f.do(req{method: "PUT", path: "/admin/users/" + mallory.User.ID + "/roles", bearer: root.AccessToken, body: `{"roles":["user"]}`})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	code, atk := finish()
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []string{"user"}, atk.User.Roles)
	assert.NotEqual(t, http.StatusOK, f.do(req{method: "GET", path: "/admin", bearer: atk.AccessToken}).Code, "demoted admin passes the admin guard")
}

func assertOnlySessions(t *testing.T, f *fixture, userID string, n int) {
	t.Helper()
	ss, err := f.st.UserSessions(t.Context(), userID)
	require.NoError(t, err)
	assert.Len(t, ss, n, "sessions left after the race")
}
