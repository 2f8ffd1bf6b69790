package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/internal/devmail"
)

const newPW = "alice-new-password-2"

// waitToken returns the reset token of the newest message the file mailer
// wrote in the mail folder (it sends in the background).
func (c *client) waitToken(wantMessages int) string {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs, err := devmail.Messages(c.mailDir)
		if err == nil && len(msgs) >= wantMessages {
			if len(msgs) > wantMessages {
				c.t.Fatalf("%d messages in MAIL_DIR, want %d", len(msgs), wantMessages)
			}
			// A message that cannot be read yet is read again.
			tok, err := devmail.LatestToken(c.mailDir)
			if err == nil {
				return tok
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("reading the reset message: %v", err)
			}
		} else if time.Now().After(deadline) {
			c.t.Fatalf("no reset message in MAIL_DIR after 10s (%d found, err %v)", len(msgs), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func init() {
	rows = append(rows,
		row{name: "password_change", run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			b := c.login("alice", pw)
			change := func(tok string, body any) *response {
				return c.do(req{method: "POST", path: "/auth/password/change", body: body, header: bearer(tok)})
			}
			wantError(t, c.do(req{method: "POST", path: "/auth/password/change", body: map[string]string{"current_password": pw, "new_password": newPW}}), http.StatusUnauthorized, "invalid_token", challengeBare)
			wantError(t, change(a.AccessToken, map[string]string{"current_password": "wrong-password", "new_password": newPW}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			wantError(t, change(a.AccessToken, map[string]string{"current_password": pw, "new_password": "short"}), http.StatusBadRequest, "invalid_request")
			wantError(t, change(a.AccessToken, `{"current_password":"x"}{}`), http.StatusBadRequest, "invalid_request")
			wantError(t, change(a.AccessToken, map[string]string{"password": pw}), http.StatusBadRequest, "invalid_request")
			if c.meStatus(b.AccessToken) != http.StatusOK {
				t.Fatal("refused changes must not end sessions")
			}

			r := change(a.AccessToken, map[string]string{"current_password": pw, "new_password": newPW})
			wantStatus(t, r, http.StatusNoContent)
			if c.meStatus(a.AccessToken) != http.StatusOK {
				t.Error("the session that changed the password stays")
			}
			c.wantDead("another session's access token after a password change", b.AccessToken)
			c.wantSpent("another session's refresh token after a password change", b.RefreshToken)
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			c.login("alice", newPW)
		}},

		row{name: "password_forgot_reset", run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			b := c.login("alice", pw)
			forgot := func(name string) *response {
				return c.do(req{method: "POST", path: "/auth/password/forgot", body: map[string]string{"username": name}})
			}
			// 202 whether or not the user exists, alike (no user enumeration).
			known, unknown := forgot("ALICE"), forgot("nobody")
			wantStatus(t, known, http.StatusAccepted)
			wantStatus(t, unknown, http.StatusAccepted)
			if string(known.Body) != string(unknown.Body) || known.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") {
				t.Errorf("forgot answers differ: %q vs %q", known.Body, unknown.Body)
			}
			wantError(t, c.do(req{method: "POST", path: "/auth/password/forgot", body: `{"user":"alice"}`}), http.StatusBadRequest, "invalid_request")
			tok := c.waitToken(1) // one message: none for the unknown name

			reset := func(tok, newPassword string) *response {
				return c.do(req{method: "POST", path: "/auth/password/reset", body: map[string]string{"token": tok, "new_password": newPassword}})
			}
			// A reset token is not an access token, nor a refresh token, nor the other way round.
			c.wantDead("a reset token used as an access token", tok)
			c.wantSpent("a reset token used as a refresh token", tok)
			wantError(t, reset(a.AccessToken, newPW), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, reset(a.RefreshToken, newPW), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, reset("garbage", newPW), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			// A bad new password leaves the token usable.
			wantError(t, reset(tok, "short"), http.StatusBadRequest, "invalid_request")
			if c.meStatus(a.AccessToken) != http.StatusOK {
				t.Fatal("refused resets must not end sessions")
			}

			r := reset(tok, newPW)
			wantStatus(t, r, http.StatusNoContent)
			c.wantDead("session a after a reset", a.AccessToken)
			c.wantDead("session b after a reset", b.AccessToken)
			c.wantSpent("session a's refresh token after a reset", a.RefreshToken)
			// Single use. (Which description comes depends on timing: the spent
			// token predates both the new password and the revocation.)
			again := c.do(req{method: "POST", path: "/auth/password/reset", body: map[string]string{"token": tok, "new_password": "yet-another-password"}, anyDescription: true})
			wantError(t, again, http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			c.login("alice", newPW)
		}},

		row{name: "password_forgot_throttled", run: func(t *testing.T, c *client) {
			c.register("alice", pw)
			// Three requests per name in 15 minutes, then 429 (bounding the mail anyone can cause).
			for i := 0; i < 3; i++ {
				wantStatus(t, c.do(req{method: "POST", path: "/auth/password/forgot", body: map[string]string{"username": "alice"}}), http.StatusAccepted)
			}
			r := c.do(req{method: "POST", path: "/auth/password/forgot", body: map[string]string{"username": "alice"}})
			wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			c.waitToken(3)
		}},
	)
}
