package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/token"
)

// mailbox is a Notifier that keeps every message.
type mailbox struct {
	ch   chan PasswordReset
	fail atomic.Bool
}

func newMailbox() *mailbox { return &mailbox{ch: make(chan PasswordReset, 100)} }

func (m *mailbox) NotifyPasswordReset(_ context.Context, n PasswordReset) error {
	if m.fail.Load() {
		return errors.New("smtp: 550 mailbox unavailable for " + n.Link)
	}
	m.ch <- n
	return nil
}

// drain waits for the Authenticator's background sends and returns the
// messages sent so far.
func (m *mailbox) drain(f *fixture) []PasswordReset {
	f.a.bg.Wait()
	var out []PasswordReset
	for {
		select {
		case n := <-m.ch:
			out = append(out, n)
		default:
			return out
		}
	}
}

const resetLink = "https://app.example.com/reset-password"

func resetFixture(t *testing.T, opts ...Option) (*fixture, *mailbox) {
	mb := newMailbox()
	f := newFixture(t, nil, append([]Option{WithPasswordReset(mb, resetLink)}, opts...)...)
	return f, mb
}

func (f *fixture) forgot(username string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(req{method: "POST", path: "/auth/password/forgot", body: jsonBody(map[string]string{"username": username})})
}

func (f *fixture) resetPassword(tok, pw string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(req{method: "POST", path: "/auth/password/reset", body: jsonBody(map[string]string{"token": tok, "new_password": pw})})
}

func (f *fixture) loginStatus(username, pw string) int {
	f.t.Helper()
	return f.do(req{method: "POST", path: "/auth/login", body: creds(username, pw)}).Code
}

// resetToken asks for a reset of username and returns the token sent.
func (f *fixture) resetToken(mb *mailbox, username string) string {
	f.t.Helper()
	require.Equal(f.t, http.StatusAccepted, f.forgot(username).Code)
	msgs := mb.drain(f)
	require.Len(f.t, msgs, 1)
	return msgs[0].Token
}

func TestForgotAndReset(t *testing.T) {
	f, mb := resetFixture(t)
	w := f.do(req{method: "POST", path: "/auth/register",
		body: jsonBody(map[string]string{"username": "alice", "password": testPassword, "email": "alice@example.com"})})
	require.Equal(t, http.StatusCreated, w.Code)
	one := decodeTokens(t, w)
	two := f.login("alice")

	// The Host header (and X-Forwarded-Host) never reach the link.
	w = f.do(req{method: "POST", path: "/auth/password/forgot", body: `{"username":"ALICE"}`,
		header: http.Header{"X-Forwarded-Host": {"evil.example"}, "Host": {"evil.example"}}})
	require.Equal(t, http.StatusAccepted, w.Code)
	assert.Empty(t, w.Body.String())
	msgs := mb.drain(f)
	require.Len(t, msgs, 1)
	n := msgs[0]
	assert.Equal(t, one.User.ID, n.UserID)
	assert.Equal(t, "alice", n.Username)
	assert.Equal(t, "alice@example.com", n.Email)
	assert.Equal(t, resetLink+"#token="+n.Token, n.Link)
	assert.Equal(t, f.clk.Now().Truncate(time.Second).Add(DefaultPasswordResetTTL), n.ExpiresAt)
	assert.NotContains(t, n.String(), n.Token)
	assert.NotContains(t, f.logs.all(), n.Token)
	tok := n.Token

	// A reset token is no access or refresh token, and no access or
	// refresh token is a reset token.
	requireError(t, f.do(req{method: "GET", path: "/private", bearer: tok}), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.refresh(tok), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.resetPassword(one.AccessToken, "a new password"), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.resetPassword(one.RefreshToken, "a new password"), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.resetPassword(tamper(tok), "a new password"), http.StatusUnauthorized, CodeInvalidToken)

	// A bad new password is 400 and leaves the token usable.
	requireError(t, f.resetPassword(tok, "short"), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, f.resetPassword(tok, strings.Repeat("x", MaxPasswordLen+1)), http.StatusBadRequest, CodeInvalidRequest)
	for name, body := range map[string]string{
		"no token":      `{"new_password":"a new password"}`,
		"unknown field": `{"token":"x","new_password":"a new password","username":"alice"}`,
		"not json":      `token=x`,
		"empty":         ``,
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, f.do(req{method: "POST", path: "/auth/password/reset", body: body}), http.StatusBadRequest, CodeInvalidRequest)
		})
	}
	w = f.do(req{method: "GET", path: "/auth/password/reset"})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	assert.Equal(t, "POST", w.Header().Get("Allow"))

	// Success: the new password works, the old does not, and every
	// session and token of the user ended (same second).
	w = f.resetPassword(tok, "a brand new password")
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Empty(t, w.Body.String())
	for _, tr := range []TokenResponse{one, two} {
		assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
		requireError(t, f.refresh(tr.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	}
	assert.Equal(t, http.StatusUnauthorized, f.loginStatus("alice", testPassword))
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "a brand new password"))

	// The token works once.
	requireError(t, f.resetPassword(tok, "yet another password"), http.StatusUnauthorized, CodeInvalidToken)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "a brand new password"))

	ev := f.logs.events()
	assert.Contains(t, ev, "auth.password_reset_requested")
	assert.Contains(t, ev, "auth.password_reset_sent")
	assert.Contains(t, ev, "auth.password_reset")
	logs := f.logs.all()
	for _, s := range []string{tok, "a brand new password", testPassword} {
		assert.NotContains(t, logs, s)
	}
}

func TestForgotUnknownUserLooksAlike(t *testing.T) {
	f, mb := resetFixture(t)
	f.register("alice")
	known, unknown := f.forgot("alice"), f.forgot("nobody")
	unusable := f.forgot("bad\x00name")
	for _, w := range []*httptest.ResponseRecorder{known, unknown, unusable} {
		assert.Equal(t, http.StatusAccepted, w.Code)
		assert.Empty(t, w.Body.String())
		assert.Equal(t, known.Header(), w.Header())
	}
	assert.Len(t, mb.drain(f), 1)

	for name, body := range map[string]string{
		"empty username": `{"username":""}`,
		"no username":    `{}`,
		"wrong type":     `{"username":5}`,
		"unknown field":  `{"username":"alice","email":"a@example.com"}`,
		"not json":       `username=alice`,
		"empty body":     ``,
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, f.do(req{method: "POST", path: "/auth/password/forgot", body: body}), http.StatusBadRequest, CodeInvalidRequest)
		})
	}
	w := f.do(req{method: "POST", path: "/auth/password/forgot", body: strings.Repeat(" ", MaxBodyBytes+1) + "{}"})
	requireError(t, w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge)
	assert.Empty(t, mb.drain(f))
}

func TestForgotThrottledPerAccount(t *testing.T) {
	f, mb := resetFixture(t, WithPasswordResetThrottle(2, 10*time.Minute))
	f.register("alice")
	for _, name := range []string{"alice", "nobody"} {
		t.Run(name, func(t *testing.T) {
			for range 2 {
				assert.Equal(t, http.StatusAccepted, f.forgot(name).Code)
			}
			w := f.forgot(strings.ToUpper(name)) // the same account
			requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
			assert.Equal(t, "600", w.Header().Get("Retry-After"))
		})
	}
	assert.Len(t, mb.drain(f), 2)
	assert.Equal(t, http.StatusAccepted, f.forgot("bob").Code) // other names unaffected
	f.clk.Advance(10 * time.Minute)
	assert.Equal(t, http.StatusAccepted, f.forgot("alice").Code)
	assert.Len(t, mb.drain(f), 1)
	assert.Contains(t, f.logs.events(), "auth.password_reset_throttled")
}

func TestResetTokenExpiresAndIsSpentByPasswordChange(t *testing.T) {
	f, mb := resetFixture(t, WithPasswordResetTTL(5*time.Minute), WithPasswordResetThrottle(10, time.Minute))
	alice := f.register("alice")

	tok := f.resetToken(mb, "alice")
	f.clk.Advance(5*time.Minute + token.DefaultLeeway + time.Second)
	requireError(t, f.resetPassword(tok, "a brand new password"), http.StatusUnauthorized, CodeInvalidToken)

	// A password change spends every reset token issued before it.
	alice = f.login("alice")
	tok = f.resetToken(mb, "alice")
	w := f.do(req{method: "POST", path: "/auth/password/change", bearer: alice.AccessToken,
		body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "changed password"})})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	requireError(t, f.resetPassword(tok, "a brand new password"), http.StatusUnauthorized, CodeInvalidToken)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "changed password"))

	// So does a reset: of two tokens, the second is spent by the first.
	t1, t2 := f.resetToken(mb, "alice"), f.resetToken(mb, "alice")
	require.Equal(t, http.StatusNoContent, f.resetPassword(t1, "first new password").Code)
	requireError(t, f.resetPassword(t2, "second new password"), http.StatusUnauthorized, CodeInvalidToken)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "first new password"))

	// A reset token of a deleted user is refused.
	tok = f.resetToken(mb, "alice")
	require.NoError(t, f.st.DeleteUser(t.Context(), alice.User.ID))
	requireError(t, f.resetPassword(tok, "a brand new password"), http.StatusUnauthorized, CodeInvalidToken)
}

func TestResetTokenShape(t *testing.T) {
	f, _ := resetFixture(t)
	alice := f.register("alice")
	u, err := f.st.User(t.Context(), alice.User.ID)
	require.NoError(t, err)
	now := f.clk.Now().Truncate(time.Second)
	sign := func(typ token.Type, c *token.Claims) string {
		tok, err := f.signer.Sign(typ, c)
		require.NoError(t, err)
		return tok
	}
	good := func() *token.Claims {
		return &token.Claims{Issuer: testIssuer, Subject: u.ID, Audience: []string{testAudience},
			IssuedAt: now, ExpiresAt: now.Add(time.Minute),
			Extra: resetExtra{Fingerprint: passwordFingerprint(u.PasswordHash)}}
	}
	noFP, wrongFP, otherIss, otherAud := good(), good(), good(), good()
	noFP.Extra = nil
	wrongFP.Extra = resetExtra{Fingerprint: passwordFingerprint("another hash")}
	otherIss.Issuer = "someone-else"
	otherAud.Audience = []string{"another-api"}
	for name, tok := range map[string]string{
		"no fingerprint":    sign(token.Reset, noFP),
		"wrong fingerprint": sign(token.Reset, wrongFP),
		"access type":       sign(token.Access, good()), // typ confusion
		"refresh type":      sign(token.Refresh, good()),
		"other issuer":      sign(token.Reset, otherIss),
		"other audience":    sign(token.Reset, otherAud),
		"garbage":           "not.a.token",
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, f.resetPassword(tok, "a brand new password"), http.StatusUnauthorized, CodeInvalidToken)
		})
	}
	require.Equal(t, http.StatusNoContent, f.resetPassword(sign(token.Reset, good()), "a brand new password").Code)
}

// TestResetTokenWorksOnce: of 50 concurrent resets with one token,
// exactly one succeeds, and its password is the one that holds.
func TestResetTokenWorksOnce(t *testing.T) {
	f, mb := resetFixture(t)
	f.register("alice")
	tok := f.resetToken(mb, "alice")
	const n = 50
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			body := jsonBody(map[string]string{"token": tok, "new_password": "new password " + string(rune('A'+i))})
			r := httptest.NewRequest("POST", "/auth/password/reset", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			f.mux.ServeHTTP(w, r)
			codes[i] = w.Code
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, c := range codes {
		switch c {
		case http.StatusNoContent:
			require.Equal(t, -1, won, "two resets succeeded")
			won = i
		default:
			require.Equal(t, http.StatusUnauthorized, c)
		}
	}
	require.NotEqual(t, -1, won)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "new password "+string(rune('A'+won))))
}

func TestForgotWithoutNotifier(t *testing.T) {
	f := newFixture(t, nil)
	f.register("alice")
	assert.Equal(t, http.StatusAccepted, f.forgot("alice").Code)
	assert.Equal(t, http.StatusAccepted, f.forgot("alice").Code)
	n := 0
	for _, e := range f.logs.events() {
		if e == "auth.password_reset_disabled" {
			n++
		}
	}
	assert.Equal(t, 1, n)
	assert.NotContains(t, f.logs.events(), "auth.password_reset_sent")
}

func TestForgotNotifierFailsAndClose(t *testing.T) {
	f, mb := resetFixture(t)
	f.register("alice")
	mb.fail.Store(true)
	assert.Equal(t, http.StatusAccepted, f.forgot("alice").Code)
	assert.Empty(t, mb.drain(f))
	assert.Contains(t, f.logs.events(), "auth.password_reset_notify_failed")
	assert.NotContains(t, f.logs.all(), "smtp: 550") // the Notifier's text may quote the link

	mb.fail.Store(false)
	require.NoError(t, f.a.Close())
	assert.Equal(t, http.StatusAccepted, f.forgot("alice").Code)
	assert.Empty(t, mb.drain(f))
	assert.Contains(t, f.logs.events(), "auth.password_reset_dropped")

	// NotifierFunc adapts a function.
	var got atomic.Value
	g := newFixture(t, nil, WithPasswordReset(NotifierFunc(func(_ context.Context, n PasswordReset) error {
		got.Store(n.Username)
		return nil
	}), "http://localhost:8080/reset?lang=en"))
	g.register("bob")
	assert.Equal(t, http.StatusAccepted, g.forgot("bob").Code)
	require.NoError(t, g.a.Close())
	assert.Equal(t, "bob", got.Load())
}

func TestPasswordResetConfig(t *testing.T) {
	f := newFixture(t, nil)
	mb := newMailbox()
	for name, opts := range map[string][]Option{
		"nil notifier":       {WithPasswordReset(nil, resetLink)},
		"typed nil notifier": {WithPasswordReset((*mailbox)(nil), resetLink)},
		"no link":            {WithPasswordReset(mb, "")},
		"relative link":      {WithPasswordReset(mb, "/reset")},
		"ftp link":           {WithPasswordReset(mb, "ftp://example.com/reset")},
		"fragment":           {WithPasswordReset(mb, "https://example.com/#/reset")},
		"user info":          {WithPasswordReset(mb, "https://user:pw@example.com/reset")},
		"short TTL":          {WithPasswordResetTTL(time.Second)},
		"long TTL":           {WithPasswordResetTTL(25 * time.Hour)},
		"zero requests":      {WithPasswordResetThrottle(0, time.Minute)},
		"zero window":        {WithPasswordResetThrottle(1, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(f.signer, f.verifier, f.st, append([]Option{WithHasher(fastHasher())}, opts...)...)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	// Any Verifier reads the reset token's claims (its payload comes back
	// as token.RawClaims), so the reset needs no *token.JWTVerifier.
	_, err := New(f.signer, plainVerifier{f.verifier}, f.st, WithHasher(fastHasher()), WithPasswordReset(mb, resetLink))
	require.NoError(t, err)
}

func TestChangePassword(t *testing.T) {
	f, mb := resetFixture(t)
	a := f.register("alice")
	b := f.login("alice")
	bob := f.register("bob")
	change := func(tok, body string) *httptest.ResponseRecorder {
		return f.do(req{method: "POST", path: "/auth/password/change", bearer: tok, body: body})
	}
	body := func(cur, next string) string {
		return jsonBody(map[string]string{"current_password": cur, "new_password": next})
	}
	requireError(t, change("", body(testPassword, "a new password")), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, change(b.AccessToken, body("wrong password", "a new password")), http.StatusUnauthorized, CodeInvalidCredentials)
	requireError(t, change(b.AccessToken, body(testPassword, "short")), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, change(b.AccessToken, body("", "a new password")), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, change(b.AccessToken, `{"current_password":"x"}`), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, change(b.AccessToken, `{"current_password":"x","new_password":"yyyyyyyy","extra":1}`), http.StatusBadRequest, CodeInvalidRequest)
	w := f.do(req{method: "PUT", path: "/auth/password/change", bearer: b.AccessToken})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	// Nothing changed so far.
	assert.Equal(t, http.StatusOK, f.status(a.AccessToken))
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", testPassword))
	c := f.login("alice") // after loginStatus's session, to show all others end
	tok := f.resetToken(mb, "alice")

	w = change(b.AccessToken, body(testPassword, "a new password"))
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Empty(t, w.Body.String())
	// The current session stays usable; the others ended now.
	assert.Equal(t, http.StatusOK, f.status(b.AccessToken))
	for _, tr := range []TokenResponse{a, c} {
		assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
		requireError(t, f.refresh(tr.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	}
	assert.Len(t, f.sessions(b.AccessToken), 1)
	w = f.refresh(b.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	// Bob is unaffected.
	assert.Equal(t, http.StatusOK, f.status(bob.AccessToken))
	// The new password works, the old does not, and the reset token
	// issued before the change is spent.
	assert.Equal(t, http.StatusUnauthorized, f.loginStatus("alice", testPassword))
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "a new password"))
	requireError(t, f.resetPassword(tok, "a brand new password"), http.StatusUnauthorized, CodeInvalidToken)

	assert.Contains(t, f.logs.events(), "auth.password_changed")
	assert.Contains(t, f.logs.events(), "auth.password_change_failed")
	assert.NotContains(t, f.logs.all(), "a new password")
}

func TestChangePasswordThrottledLikeLogin(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(3, time.Minute))
	tr := f.register("alice")
	body := func(cur string) string {
		return jsonBody(map[string]string{"current_password": cur, "new_password": "a new password"})
	}
	for range 3 {
		w := f.do(req{method: "POST", path: "/auth/password/change", bearer: tr.AccessToken, body: body("wrong password")})
		requireError(t, w, http.StatusUnauthorized, CodeInvalidCredentials)
	}
	// The account is throttled, for changes and logins alike, even with
	// the right password.
	w := f.do(req{method: "POST", path: "/auth/password/change", bearer: tr.AccessToken, body: body(testPassword)})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	assert.Equal(t, "60", w.Header().Get("Retry-After"))
	requireError(t, f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)}), http.StatusTooManyRequests, CodeTooManyAttempts)
	f.clk.Advance(time.Minute)
	w = f.do(req{method: "POST", path: "/auth/password/change", bearer: tr.AccessToken, body: body(testPassword)})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
}
