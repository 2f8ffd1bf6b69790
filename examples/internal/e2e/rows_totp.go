package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Rows of two-factor authentication (issue 20).

// KEK is the JWT_KEY_ENCRYPTION_KEY of the TOTP rows (32 bytes, hex).
const KEK = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

var totpEnv = map[string]string{"JWT_KEY_ENCRYPTION_KEY": KEK}

// totpCode is secret's code for the step after now's: the server accepts
// one step of skew, and the steps up to now's are spent by the code that
// confirmed the secret.
func totpCode(t *testing.T, secret string, step int) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, time.Now().Add(time.Duration(step)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP turns TOTP on for the user of access token tok and returns the
// secret and the recovery codes.
func (c *client) enrolTOTP(tok string) (string, []string) {
	c.t.Helper()
	r := c.do(req{method: "POST", path: "/auth/2fa/totp/setup", header: bearer(tok)})
	wantStatus(c.t, r, http.StatusOK)
	setup := r.JSON(c.t)
	wantKeys(c.t, "setup", setup, "secret", "otpauth_uri", "qr_code")
	secret, _ := setup["secret"].(string)
	r = c.do(req{method: "POST", path: "/auth/2fa/totp/confirm", header: bearer(tok), body: map[string]string{"code": totpCode(c.t, secret, 0)}})
	wantStatus(c.t, r, http.StatusOK)
	list, _ := r.JSON(c.t)["recovery_codes"].([]any)
	if len(list) != 10 {
		c.t.Fatalf("%d recovery codes, want 10", len(list))
	}
	codes := make([]string, len(list))
	for i, v := range list {
		codes[i], _ = v.(string)
	}
	return secret, codes
}

// mfaLogin logs in with a password and returns the challenge's mfa_token.
func (c *client) mfaLogin(username, password string) string {
	c.t.Helper()
	r := c.do(req{method: "POST", path: "/auth/login", body: creds(username, password)})
	wantStatus(c.t, r, http.StatusOK)
	wantHeader(c.t, r, "Cache-Control", "no-store")
	m := r.JSON(c.t)
	wantKeys(c.t, "challenge", m, "mfa_required", "mfa_token", "methods")
	tok, _ := m["mfa_token"].(string)
	if m["mfa_required"] != true || tok == "" {
		c.t.Fatalf("login challenge %v", m)
	}
	if h := jwtHeader(c.t, tok); h["typ"] != "mfa+jwt" {
		c.t.Errorf("mfa token typ %v, want mfa+jwt", h["typ"])
	}
	return tok
}

func (c *client) verifyMFA(body map[string]string) *response {
	c.t.Helper()
	return c.do(req{method: "POST", path: "/auth/2fa/verify", body: body})
}

func (c *client) meMFA(tok string) any {
	c.t.Helper()
	r := c.do(req{method: "GET", path: "/me", header: bearer(tok)})
	wantStatus(c.t, r, http.StatusOK)
	return r.JSON(c.t)["mfa"]
}

func init() {
	rows = append(rows,
		row{name: "totp_login", env: totpEnv, run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			if c.meMFA(a.AccessToken) != false {
				t.Error("GET /me mfa before enrolment, want false")
			}
			// Setup alone changes nothing at login.
			r := c.do(req{method: "POST", path: "/auth/2fa/totp/setup", header: bearer(a.AccessToken)})
			wantStatus(t, r, http.StatusOK)
			secret, _ := r.JSON(t)["secret"].(string)
			c.login("alice", pw)
			wantError(t, c.do(req{method: "POST", path: "/auth/2fa/totp/confirm", header: bearer(a.AccessToken), body: map[string]string{"code": "12345x"}}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			wantError(t, c.do(req{method: "POST", path: "/auth/2fa/totp/confirm", header: bearer(a.AccessToken), body: map[string]string{}}), http.StatusBadRequest, "invalid_request")
			r = c.do(req{method: "POST", path: "/auth/2fa/totp/confirm", header: bearer(a.AccessToken), body: map[string]string{"code": totpCode(t, secret, 0)}})
			wantStatus(t, r, http.StatusOK)
			list, _ := r.JSON(t)["recovery_codes"].([]any)
			if len(list) != 10 {
				t.Fatalf("%d recovery codes, want 10", len(list))
			}
			if c.meMFA(a.AccessToken) != true {
				t.Error("GET /me mfa after confirmation, want true")
			}
			wantError(t, c.do(req{method: "POST", path: "/auth/2fa/totp/setup", header: bearer(a.AccessToken)}), http.StatusBadRequest, "invalid_request")

			// The right password: a challenge, no tokens.
			mt := c.mfaLogin("alice", pw)
			// The mfa token is no access or refresh token (typ confusion),
			// and an access token completes no login.
			c.wantDead("an mfa token as an access token", mt)
			c.wantSpent("an mfa token as a refresh token", mt)
			code := totpCode(t, secret, 1)
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": a.AccessToken, "code": code}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": mt}), http.StatusBadRequest, "invalid_request")
			// A wrong code leaves the token usable.
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": mt, "code": "abcdef"}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			tk := wantTokens(t, c.verifyMFA(map[string]string{"mfa_token": mt, "code": code}), http.StatusOK)
			if c.meStatus(tk.AccessToken) != http.StatusOK {
				t.Error("the pair from verify does not work")
			}
			// The token is spent; the code is spent (a replay on a new
			// login attempt is refused).
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": mt, "code": code}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": c.mfaLogin("alice", pw), "code": code}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			// A recovery code works once.
			rc, _ := list[0].(string)
			wantTokens(t, c.verifyMFA(map[string]string{"mfa_token": c.mfaLogin("alice", pw), "recovery_code": rc}), http.StatusOK)
			wantError(t, c.verifyMFA(map[string]string{"mfa_token": c.mfaLogin("alice", pw), "recovery_code": rc}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
		}},

		row{name: "totp_cookie_mode", env: map[string]string{"JWT_KEY_ENCRYPTION_KEY": KEK, "COOKIE_MODE": "true", "COOKIE_INSECURE": "true"}, run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			secret, _ := c.enrolTOTP(a.AccessToken)
			// The challenge sets no cookie: no session exists yet.
			r := c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)})
			wantStatus(t, r, http.StatusOK)
			if len(cookies(r)) != 0 {
				t.Errorf("the challenge set cookies %v", cookies(r))
			}
			mt, _ := r.JSON(t)["mfa_token"].(string)
			// A cross-origin verify is refused before anything is spent.
			body := map[string]string{"mfa_token": mt, "code": totpCode(t, secret, 1)}
			wantError(t, c.do(req{method: "POST", path: "/auth/2fa/verify", body: body, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}), http.StatusForbidden, "invalid_request", `Bearer realm="gatekeep", error="insufficient_scope"`)
			// Verify sets the pair as a login does.
			r = c.do(req{method: "POST", path: "/auth/2fa/verify", body: body})
			wantTokenCookies(t, r, wantTokens(t, r, http.StatusOK), false)
		}},

		row{name: "totp_unconfigured", run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			// No JWT_KEY_ENCRYPTION_KEY: a clear 503, nothing stored.
			r := c.do(req{method: "POST", path: "/auth/2fa/totp/setup", header: bearer(a.AccessToken)})
			wantError(t, r, http.StatusServiceUnavailable, "unavailable")
			wantError(t, c.do(req{method: "POST", path: "/auth/2fa/totp/setup"}), http.StatusUnauthorized, "invalid_token", challengeBare)
			c.login("alice", pw)
		}},

		row{name: "totp_throttled", env: map[string]string{"JWT_KEY_ENCRYPTION_KEY": KEK, "LOGIN_MAX_FAILURES": "2"}, run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			secret, _ := c.enrolTOTP(a.AccessToken)
			mt := c.mfaLogin("alice", pw)
			for _, bad := range []string{"abcdef", "abcdeg"} {
				wantError(t, c.verifyMFA(map[string]string{"mfa_token": mt, "code": bad}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			}
			// Past the limit even the right code waits, and so does the
			// password step (a correct password does not reset the count).
			r := c.verifyMFA(map[string]string{"mfa_token": mt, "code": totpCode(t, secret, 1)})
			wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)}), http.StatusTooManyRequests, "too_many_attempts")
		}},

		row{name: "totp_disable_reset", env: map[string]string{"JWT_KEY_ENCRYPTION_KEY": KEK, "ADMIN_USERNAME": AdminUser, "ADMIN_PASSWORD": AdminPassword}, run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			_, codes := c.enrolTOTP(a.AccessToken)
			disable := func(body map[string]string) *response {
				return c.do(req{method: "POST", path: "/auth/2fa/totp/disable", header: bearer(a.AccessToken), body: body})
			}
			wantError(t, disable(map[string]string{"password": "wrong-password", "code": codes[0]}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			wantError(t, disable(map[string]string{"password": pw, "code": "aaaa-bbbb-cccc-dddd"}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
			wantStatus(t, disable(map[string]string{"password": pw, "code": codes[0]}), http.StatusNoContent)
			if c.meMFA(a.AccessToken) != false {
				t.Error("GET /me mfa after disable, want false")
			}
			c.login("alice", pw)

			// An administrator removes it, and the user's sessions end.
			c.enrolTOTP(a.AccessToken)
			admin := c.login(AdminUser, AdminPassword)
			path := "/admin/users/" + a.User.ID + "/2fa"
			denied := `Bearer realm="gatekeep", error="insufficient_scope", scope="admin"`
			wantError(t, c.do(req{method: "DELETE", path: path, header: bearer(a.AccessToken)}), http.StatusForbidden, "insufficient_scope", denied)
			wantError(t, c.do(req{method: "DELETE", path: "/admin/users/nobody/2fa", header: bearer(admin.AccessToken)}), http.StatusNotFound, "not_found")
			wantStatus(t, c.do(req{method: "DELETE", path: path, header: bearer(admin.AccessToken)}), http.StatusNoContent)
			c.wantDead("alice's access token after the admin reset", a.AccessToken)
			c.login("alice", pw)
		}},
	)
}
