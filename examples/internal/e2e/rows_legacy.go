package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/internal/nodejwt"
)

// Rows of the migration from Node: JWT_ACCEPT_LEGACY=true accepts access
// tokens an express application signed with jsonwebtoken and the same
// JWT_SECRET.
func init() {
	legacyEnv := map[string]string{"JWT_ACCEPT_LEGACY": "true"}
	rows = append(rows,
		row{name: "legacy_tokens", env: legacyEnv, run: func(t *testing.T, c *client) {
			alice := c.register("alice", pw)
			// Two seconds old, so that the logout-all below (whole seconds)
			// is after them.
			iat := time.Now().Add(-2 * time.Second).Unix()
			sign := func(p map[string]any) nodejwt.Request {
				p["iat"] = iat
				return nodejwt.Request{Payload: p, Key: Secret, Options: map[string]any{"expiresIn": "15m"}}
			}
			toks := nodejwt.Sign(t,
				sign(map[string]any{"id": alice.User.ID, "admin": true}),
				sign(map[string]any{"sub": alice.User.ID}),
				nodejwt.Request{Payload: map[string]any{"id": alice.User.ID, "admin": true, "iat": iat, "exp": iat + 900}, Options: map[string]any{"algorithm": "none"}},
			)
			admin, plain, none := toks[0], toks[1], toks[2]

			me := c.do(req{method: "GET", path: "/me", header: bearer(admin)})
			if me.Status != http.StatusOK {
				t.Fatalf("GET /me with an express token: %d", me.Status)
			}
			if roles, _ := me.JSON(t)["roles"].([]any); !slices.Equal(roles, []any{"user", "admin"}) {
				t.Errorf("roles %v, want user and admin from admin: true", roles)
			}
			if c.do(req{method: "GET", path: "/admin/users", header: bearer(admin)}).Status != http.StatusOK {
				t.Error("admin: true does not reach the admin routes")
			}
			wantError(t, c.do(req{method: "GET", path: "/admin/users", header: bearer(plain)}), http.StatusForbidden, "insufficient_scope")
			// Never accepted: alg none; never refreshed.
			c.wantDead("an alg none token", none)
			wantError(t, c.refresh(admin), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			// Logout ends that token; logout-all every token of the user.
			if c.do(req{method: "POST", path: "/auth/logout", header: bearer(admin)}).Status != http.StatusNoContent {
				t.Error("logout with an express token")
			}
			c.wantDead("a logged-out express token", admin)
			if c.meStatus(plain) != http.StatusOK {
				t.Error("logout of one express token ended another")
			}
			if c.do(req{method: "POST", path: "/auth/logout-all", header: bearer(alice.AccessToken)}).Status != http.StatusNoContent {
				t.Error("logout-all")
			}
			c.wantDead("an express token after logout-all", plain)
		}},

		// Off by default: the same token is refused.
		row{name: "legacy_tokens_off", run: func(t *testing.T, c *client) {
			alice := c.register("alice", pw)
			tok := nodejwt.Sign(t, nodejwt.Request{Payload: map[string]any{"id": alice.User.ID}, Key: Secret, Options: map[string]any{"expiresIn": "15m"}})[0]
			c.wantDead("an express token without JWT_ACCEPT_LEGACY", tok)
		}},
	)
}
