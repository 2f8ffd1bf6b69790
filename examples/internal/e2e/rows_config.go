package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// Rows whose behaviour a variable of the configuration table changes.
func init() {
	rows = append(rows,
		// JWT_EXPIRY is seconds, as in Node's jsonwebtoken .env files.
		row{name: "jwt_expiry", env: map[string]string{"JWT_EXPIRY": "60"}, run: func(t *testing.T, c *client) {
			tk := c.register("alice", pw)
			cl := jwtClaims(t, tk.AccessToken)
			exp, _ := cl["exp"].(float64)
			iat, _ := cl["iat"].(float64)
			if tk.ExpiresIn != 60 || exp-iat != 60 {
				t.Errorf("expires_in %d, exp-iat %v; want 60 from JWT_EXPIRY=60", tk.ExpiresIn, exp-iat)
			}
		}},

		// Concurrent tabs: within REFRESH_REUSE_GRACE the previous refresh
		// token may be presented again; one generation deep only.
		row{name: "refresh_reuse_grace", env: map[string]string{"REFRESH_REUSE_GRACE": "30s"}, run: func(t *testing.T, c *client) {
			first := c.register("alice", pw)
			second := wantTokens(t, c.refresh(first.RefreshToken), http.StatusOK)
			third := wantTokens(t, c.refresh(first.RefreshToken), http.StatusOK) // the other tab, within the grace
			if c.meStatus(second.AccessToken) != http.StatusOK || c.meStatus(third.AccessToken) != http.StatusOK {
				t.Fatal("a replay within the grace must not end the session")
			}
			fourth := wantTokens(t, c.refresh(third.RefreshToken), http.StatusOK)
			// first is now two generations old: a replay, which ends the session.
			wantError(t, c.refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			c.wantDead("the session's newest access token after a replay beyond the grace", fourth.AccessToken)
			c.wantSpent("the session's newest refresh token after a replay beyond the grace", fourth.RefreshToken)
		}},

		// A client IP may fail ten times LOGIN_MAX_FAILURES, over any accounts.
		row{name: "login_throttled_per_ip", env: map[string]string{"LOGIN_MAX_FAILURES": "1"}, run: func(t *testing.T, c *client) {
			c.register("alice", pw)
			for i := 0; i < 10; i++ {
				r := c.do(req{method: "POST", path: "/auth/login", body: creds(fmt.Sprintf("guess%d", i), "wrong-password")})
				wantError(t, r, http.StatusUnauthorized, "invalid_credentials", challengeBare)
			}
			r := c.do(req{method: "POST", path: "/auth/login", body: creds("guess10", "wrong-password")})
			wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
			// The address is throttled, for every account.
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)}), http.StatusTooManyRequests, "too_many_attempts")
		}},
	)
}
