package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// Rows of the account lifecycle (issue 6): sessions and the admin API.
func init() {
	rows = append(rows,
		row{name: "sessions", run: func(t *testing.T, c *client) {
			a := c.register("alice", pw)
			b := wantTokens(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw), header: map[string]string{"User-Agent": "e2e-phone"}}), http.StatusOK)
			list := func(tok string) []map[string]any {
				t.Helper()
				r := c.do(req{method: "GET", path: "/auth/sessions", header: bearer(tok)})
				wantStatus(t, r, http.StatusOK)
				wantHeader(t, r, "Cache-Control", "no-store")
				m := r.JSON(t)
				wantKeys(t, "session list", m, "sessions")
				raw, _ := m["sessions"].([]any)
				out := make([]map[string]any, len(raw))
				for i, s := range raw {
					out[i], _ = s.(map[string]any)
					wantKeys(t, "session", out[i], "id", "created_at", "last_used_at", "user_agent", "ip", "current")
				}
				return out
			}
			ss := list(a.AccessToken)
			if len(ss) != 2 {
				t.Fatalf("%d sessions, want 2", len(ss))
			}
			var bID string
			current := 0
			for _, s := range ss {
				if s["current"] == true {
					current++
					if s["id"] != jwtClaims(t, a.AccessToken)["sid"] {
						t.Errorf("the current session %v is not the token's sid", s["id"])
					}
				}
				if s["user_agent"] == "e2e-phone" {
					bID, _ = s["id"].(string)
				}
			}
			if current != 1 || bID == "" {
				t.Fatalf("sessions %v: want exactly one current and one with the phone's user agent", ss)
			}
			// Another user's session answers exactly as a missing one.
			bob := c.register("bob", "bob-password")
			wantError(t, c.do(req{method: "DELETE", path: "/auth/sessions/" + url.PathEscape(bID), header: bearer(bob.AccessToken)}), http.StatusNotFound, "not_found")
			wantError(t, c.do(req{method: "DELETE", path: "/auth/sessions/no-such-session", header: bearer(a.AccessToken)}), http.StatusNotFound, "not_found")
			if c.meStatus(b.AccessToken) != http.StatusOK {
				t.Fatal("bob's attempt must not end alice's session")
			}
			r := c.do(req{method: "DELETE", path: "/auth/sessions/" + url.PathEscape(bID), header: bearer(a.AccessToken)})
			wantStatus(t, r, http.StatusNoContent)
			c.wantDead("the deleted session's access token", b.AccessToken)
			c.wantSpent("the deleted session's refresh token", b.RefreshToken)
			if ss := list(a.AccessToken); len(ss) != 1 {
				t.Errorf("%d sessions after deleting one, want 1", len(ss))
			}
			wantError(t, c.do(req{method: "GET", path: "/auth/sessions"}), http.StatusUnauthorized, "invalid_token", challengeBare)
			wantError(t, c.do(req{method: "DELETE", path: "/auth/sessions/" + url.PathEscape(bID)}), http.StatusUnauthorized, "invalid_token", challengeBare)
		}},

		row{name: "admin_roles", env: map[string]string{"ADMIN_USERNAME": AdminUser, "ADMIN_PASSWORD": AdminPassword}, run: func(t *testing.T, c *client) {
			admin := c.login(AdminUser, AdminPassword)
			bob := c.register("bob", "bob-password")
			denied := `Bearer realm="gatekeep", error="insufficient_scope", scope="admin"`

			// Not an admin: 403; no token: 401.
			wantError(t, c.do(req{method: "GET", path: "/admin/users", header: bearer(bob.AccessToken)}), http.StatusForbidden, "insufficient_scope", denied)
			wantError(t, c.do(req{method: "PUT", path: "/admin/users/" + bob.User.ID + "/roles", body: map[string][]string{"roles": {"admin"}}, header: bearer(bob.AccessToken)}), http.StatusForbidden, "insufficient_scope", denied)
			wantError(t, c.do(req{method: "GET", path: "/admin/users"}), http.StatusUnauthorized, "invalid_token", challengeBare)

			// The list, whole and by pages.
			r := c.do(req{method: "GET", path: "/admin/users", header: bearer(admin.AccessToken)})
			wantStatus(t, r, http.StatusOK)
			m := r.JSON(t)
			wantKeys(t, "user list", m, "users") // no next_cursor on the last page
			if us, _ := m["users"].([]any); len(us) != 2 {
				t.Errorf("%d users, want 2", len(us))
			}
			var seen []string
			path := "/admin/users?limit=1"
			for page := 0; page < 3 && path != ""; page++ {
				r := c.do(req{method: "GET", path: path, header: bearer(admin.AccessToken), anyNames: true})
				wantStatus(t, r, http.StatusOK)
				m := r.JSON(t)
				us, _ := m["users"].([]any)
				if len(us) != 1 {
					t.Fatalf("page %d has %d users, want 1", page, len(us))
				}
				u, _ := us[0].(map[string]any)
				wantKeys(t, "listed user", u, "id", "username", "roles")
				seen = append(seen, u["username"].(string))
				path = ""
				if next, ok := m["next_cursor"].(string); ok {
					path = "/admin/users?limit=1&cursor=" + url.QueryEscape(next)
				}
			}
			slices.Sort(seen)
			if !slices.Equal(seen, []string{"bob", "root"}) {
				t.Errorf("pages gave %q, want bob and root once each", seen)
			}
			for _, q := range []string{"limit=0", "limit=1001", "limit=x", "limit=1&limit=2", "cursor=", "cursor=bogus"} {
				wantError(t, c.do(req{method: "GET", path: "/admin/users?" + q, header: bearer(admin.AccessToken)}), http.StatusBadRequest, "invalid_request")
			}

			// Bad role changes change nothing.
			rolesPath := "/admin/users/" + bob.User.ID + "/roles"
			for _, body := range []string{`{}`, `{"roles":"admin"}`, `{"roles":["not a role!"]}`, `{"roles":["admin","admin"]}`} {
				wantError(t, c.do(req{method: "PUT", path: rolesPath, body: body, header: bearer(admin.AccessToken)}), http.StatusBadRequest, "invalid_request")
			}
			wantError(t, c.do(req{method: "PUT", path: "/admin/users/no-such-user/roles", body: map[string][]string{"roles": {"user"}}, header: bearer(admin.AccessToken)}), http.StatusNotFound, "not_found")
			if c.meStatus(bob.AccessToken) != http.StatusOK {
				t.Fatal("refused role changes must leave bob's tokens alone")
			}

			// Promotion: bob's old tokens stop working; a new login carries the role.
			r = c.do(req{method: "PUT", path: rolesPath, body: map[string][]string{"roles": {"admin", "user"}}, header: bearer(admin.AccessToken)})
			wantStatus(t, r, http.StatusOK)
			u := r.JSON(t)
			wantKeys(t, "user", u, "id", "username", "roles")
			c.wantDead("bob's access token after a role change", bob.AccessToken)
			c.wantSpent("bob's refresh token after a role change", bob.RefreshToken)
			promoted := c.login("bob", "bob-password")
			if !slices.Contains(promoted.User.Roles, "admin") {
				t.Errorf("bob's roles %q after promotion", promoted.User.Roles)
			}
			wantStatus(t, c.do(req{method: "GET", path: "/admin/users", header: bearer(promoted.AccessToken)}), http.StatusOK)

			// Demotion: the admin token bob holds dies at once.
			wantStatus(t, c.do(req{method: "PUT", path: rolesPath, body: map[string][]string{"roles": {"user"}}, header: bearer(admin.AccessToken)}), http.StatusOK)
			c.wantDead("bob's admin token after demotion", promoted.AccessToken)
			if c.meStatus(admin.AccessToken) != http.StatusOK {
				t.Error("changing bob's roles must not touch the admin's session")
			}
		}},
	)
}
