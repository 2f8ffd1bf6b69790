package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var cookieEnv = map[string]string{"COOKIE_MODE": "true", "COOKIE_INSECURE": "true"}

// cookies returns the Set-Cookie headers of r by name.
func cookies(r *response) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil {
			out[c.Name] = c
		}
	}
	return out
}

// wantTokenCookies checks the cookies of a token response against its
// body.
func wantTokenCookies(t *testing.T, r *response, tk tokens, secure bool) {
	t.Helper()
	cs := cookies(r)
	if len(r.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("Set-Cookie %q, want the access and refresh cookies", r.Header.Values("Set-Cookie"))
	}
	for _, want := range []struct{ name, path, value string }{
		{"access_token", "/", tk.AccessToken},
		{"refresh_token", "/auth/refresh", tk.RefreshToken},
	} {
		c := cs[want.name]
		if c == nil {
			t.Errorf("no %s cookie", want.name)
			continue
		}
		if c.Value != want.value {
			t.Errorf("%s cookie differs from the body's token", want.name)
		}
		if c.Path != want.path || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.MaxAge <= 0 {
			t.Errorf("%s cookie: Path %q HttpOnly %v SameSite %v Secure %v Max-Age %d; want Path %q, HttpOnly, Lax, Secure %v, a Max-Age",
				want.name, c.Path, c.HttpOnly, c.SameSite, c.Secure, c.MaxAge, want.path, secure)
		}
	}
}

func cookieHeader(name, value string, extra ...string) map[string]string {
	h := map[string]string{"Cookie": name + "=" + value}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func init() {
	rows = append(rows,
		row{name: "cookie_mode", env: cookieEnv, run: func(t *testing.T, c *client) {
			r := c.do(req{method: "POST", path: "/auth/register", body: creds("alice", pw)})
			tk := wantTokens(t, r, http.StatusCreated)
			wantTokenCookies(t, r, tk, false)
			r = c.do(req{method: "POST", path: "/auth/login", body: creds("alice", pw)})
			wantTokenCookies(t, r, wantTokens(t, r, http.StatusOK), false)

			// The access token is accepted from its cookie.
			wantStatus(t, c.do(req{method: "GET", path: "/me", header: cookieHeader("access_token", tk.AccessToken)}), http.StatusOK)

			// Refresh by the refresh cookie, with an empty body and with {}.
			r = c.do(req{method: "POST", path: "/auth/refresh", header: cookieHeader("refresh_token", tk.RefreshToken, "Sec-Fetch-Site", "same-origin")})
			next := wantTokens(t, r, http.StatusOK)
			wantTokenCookies(t, r, next, false)
			r = c.do(req{method: "POST", path: "/auth/refresh", body: "{}", header: cookieHeader("refresh_token", next.RefreshToken)})
			next = wantTokens(t, r, http.StatusOK)
			wantTokenCookies(t, r, next, false)

			// Logout by cookie expires both cookies on their paths.
			r = c.do(req{method: "POST", path: "/auth/logout", header: cookieHeader("access_token", next.AccessToken, "Sec-Fetch-Site", "same-origin")})
			wantStatus(t, r, http.StatusNoContent)
			cs := cookies(r)
			for name, path := range map[string]string{"access_token": "/", "refresh_token": "/auth/refresh"} {
				if ck := cs[name]; ck == nil || ck.MaxAge >= 0 || ck.Value != "" || ck.Path != path {
					t.Errorf("logout: %s cookie %v, want it expired on Path=%s", name, ck, path)
				}
			}
			c.wantDead("the access token after logout by cookie", next.AccessToken)
		}},

		// The cookies are Secure unless COOKIE_INSECURE is set.
		row{name: "cookie_secure", env: map[string]string{"COOKIE_MODE": "true"}, run: func(t *testing.T, c *client) {
			r := c.do(req{method: "POST", path: "/auth/register", body: creds("alice", pw)})
			wantTokenCookies(t, r, wantTokens(t, r, http.StatusCreated), true)
		}},

		// CSRF: unsafe requests authenticated by a cookie are refused cross-origin and change nothing.
		row{name: "cookie_cross_origin", env: cookieEnv, run: func(t *testing.T, c *client) {
			tk := c.register("alice", pw)
			other := c.login("alice", pw)
			cross := func(method, path, cookie, value string, body any) *response {
				return c.do(req{method: method, path: path, body: body, header: cookieHeader(cookie, value, "Sec-Fetch-Site", "cross-site")})
			}
			var otherID string
			if r := c.do(req{method: "GET", path: "/auth/sessions", header: bearer(tk.AccessToken)}); r.Status == http.StatusOK {
				for _, s := range r.JSON(t)["sessions"].([]any) {
					if s := s.(map[string]any); s["current"] != true {
						otherID, _ = s["id"].(string)
					}
				}
			}
			if otherID == "" {
				t.Fatal("could not find the other session's id")
			}
			for _, q := range []struct {
				name, method, path, cookie, value string
				body                              any
			}{
				{"logout", "POST", "/auth/logout", "access_token", tk.AccessToken, nil},
				{"logout-all", "POST", "/auth/logout-all", "access_token", tk.AccessToken, nil},
				{"refresh", "POST", "/auth/refresh", "refresh_token", tk.RefreshToken, nil},
				{"refresh {}", "POST", "/auth/refresh", "refresh_token", tk.RefreshToken, "{}"},
				{"password change", "POST", "/auth/password/change", "access_token", tk.AccessToken, map[string]string{"current_password": pw, "new_password": newPW}},
				{"delete session", "DELETE", "/auth/sessions/" + url.PathEscape(otherID), "access_token", tk.AccessToken, nil},
			} {
				t.Run(q.name, func(t *testing.T) {
					r := cross(q.method, q.path, q.cookie, q.value, q.body)
					wantError(t, r, http.StatusForbidden, "invalid_request")
					if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
						t.Errorf("refused request set cookies: %q", sc)
					}
				})
			}
			// An Origin of another site is refused too (browsers without Sec-Fetch-Site).
			r := c.do(req{method: "POST", path: "/auth/logout", header: cookieHeader("access_token", tk.AccessToken, "Origin", "https://evil.example")})
			wantError(t, r, http.StatusForbidden, "invalid_request")

			// Nothing changed: both sessions live, the refresh token unspent, the password the same.
			if c.meStatus(tk.AccessToken) != http.StatusOK || c.meStatus(other.AccessToken) != http.StatusOK {
				t.Fatal("a refused cross-origin request ended a session")
			}
			wantTokens(t, c.refresh(tk.RefreshToken), http.StatusOK)
			c.login("alice", pw)

			// Safe methods by cookie, and bearer-authenticated requests, are not cross-origin checked.
			wantStatus(t, c.do(req{method: "GET", path: "/me", header: cookieHeader("access_token", other.AccessToken, "Sec-Fetch-Site", "cross-site")}), http.StatusOK)
			h := bearer(other.AccessToken)
			h["Sec-Fetch-Site"] = "cross-site"
			wantStatus(t, c.do(req{method: "POST", path: "/auth/logout", header: h}), http.StatusNoContent)
			if !strings.Contains(strings.Join(c.lines, ""), "403") {
				t.Error("no refusal recorded")
			}
		}},
	)
}
