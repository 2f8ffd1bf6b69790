package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

// row is one scenario of the table.
type row struct {
	name string
	env  map[string]string // variables on top of the defaults; "" unsets
	// opts, when set, gives build options of the row (an application's
	// own auth options, such as its claims).
	opts func() []config.BuildOption
	run  func(t *testing.T, c *client)
}

const pw = "alice-password-1"

var rows = []row{
	{name: "register", run: func(t *testing.T, c *client) {
		tk := c.register("Alice", pw)
		if tk.User.Username != "alice" || !slices.Equal(tk.User.Roles, []string{"user"}) {
			t.Errorf("user %q roles %q, want the case-folded username and role user", tk.User.Username, tk.User.Roles)
		}
		h := jwtHeader(t, tk.AccessToken)
		if h["typ"] != "at+jwt" || h["alg"] != "HS256" || h["kid"] != "default" {
			t.Errorf("access token header %v, want typ at+jwt, alg HS256, kid default", h)
		}
		cl := jwtClaims(t, tk.AccessToken)
		for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "sid", "roles"} {
			if _, ok := cl[k]; !ok {
				t.Errorf("access token lacks claim %q", k)
			}
		}
		if cl["sub"] != tk.User.ID || cl["iss"] != "gatekeep" {
			t.Errorf("claims sub %v iss %v, want the user id and gatekeep", cl["sub"], cl["iss"])
		}
		if jwtHeader(t, tk.RefreshToken)["typ"] == "at+jwt" {
			t.Error("the refresh token is typed as an access token")
		}
		// An optional email is accepted.
		c.do(req{method: "POST", path: "/auth/register", body: map[string]string{"username": "bob", "password": pw, "email": "bob@example.com"}})
	}},

	{name: "register_duplicate", run: func(t *testing.T, c *client) {
		c.register("alice", pw)
		// Usernames are unique after case folding and normalisation (RFC 8265).
		for _, name := range []string{"alice", "ALICE", "Alice"} {
			wantError(t, c.do(req{method: "POST", path: "/auth/register", body: creds(name, "another-password")}), http.StatusConflict, "user_exists")
		}
		// The first account is intact.
		c.login("alice", pw)
	}},

	{name: "bad_bodies", run: func(t *testing.T, c *client) {
		c.register("alice", pw)
		bad := []struct {
			name string
			body any
			ct   string
		}{
			{"empty", "", ""},
			{"not JSON", "username=alice", ""},
			{"array", `["alice"]`, ""},
			{"unknown member", `{"username":"bob","password":"bob-password","admin":true}`, ""},
			{"wrong type", `{"username":"bob","password":12345678}`, ""},
			{"two values", `{"username":"bob","password":"bob-password"}{}`, ""},
			{"form content type", `{"username":"bob","password":"bob-password"}`, "application/x-www-form-urlencoded"},
			{"password too short", `{"username":"bob","password":"short"}`, ""},
			{"password too long", `{"username":"bob","password":"` + strings.Repeat("p", 1025) + `"}`, ""},
			{"empty username", `{"username":"","password":"bob-password"}`, ""},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				r := c.do(req{method: "POST", path: "/auth/register", body: b.body, header: map[string]string{"Content-Type": b.ct}})
				wantError(t, r, http.StatusBadRequest, "invalid_request")
			})
		}
		// Larger than 64 KiB: 413, on register and login alike.
		huge := `{"username":"bob","password":"` + strings.Repeat("p", 65<<10) + `"}`
		for _, path := range []string{"/auth/register", "/auth/login"} {
			wantError(t, c.do(req{method: "POST", path: path, body: huge}), http.StatusRequestEntityTooLarge, "payload_too_large")
		}
		wantError(t, c.do(req{method: "POST", path: "/auth/login", body: `{"username":"alice"`}), http.StatusBadRequest, "invalid_request")
		// Nothing was created by the bad bodies.
		wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("bob", "bob-password")}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
		c.login("alice", pw)
	}},

	{name: "login", run: func(t *testing.T, c *client) {
		reg := c.register("alice", pw)
		tk := c.login("ALICE", pw)
		if tk.User.ID != reg.User.ID || tk.AccessToken == reg.AccessToken || tk.RefreshToken == reg.RefreshToken {
			t.Error("login must give the registered user a new pair")
		}
		if c.meStatus(tk.AccessToken) != http.StatusOK || c.meStatus(reg.AccessToken) != http.StatusOK {
			t.Error("both sessions' access tokens should work")
		}
	}},

	// Wrong password and unknown user must be indistinguishable (no user enumeration).
	{name: "login_failures_identical", run: func(t *testing.T, c *client) {
		c.register("alice", pw)
		wrong := c.do(req{method: "POST", path: "/auth/login", body: creds("alice", "not-the-password")})
		unknown := c.do(req{method: "POST", path: "/auth/login", body: creds("nobody", "not-the-password")})
		wantError(t, wrong, http.StatusUnauthorized, "invalid_credentials", challengeBare)
		wantError(t, unknown, http.StatusUnauthorized, "invalid_credentials", challengeBare)
		if !bytes.Equal(wrong.Body, unknown.Body) {
			t.Errorf("bodies differ: %q vs %q", wrong.Body, unknown.Body)
		}
		for _, h := range transcriptHeaders {
			if !slices.Equal(wrong.Header.Values(h), unknown.Header.Values(h)) {
				t.Errorf("header %s differs: %q vs %q", h, wrong.Header.Values(h), unknown.Header.Values(h))
			}
		}
	}},

	{name: "login_throttled", env: map[string]string{"LOGIN_MAX_FAILURES": "2", "LOGIN_WINDOW": "10m"}, run: func(t *testing.T, c *client) {
		c.register("alice", pw)
		for i := 0; i < 2; i++ {
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong-password")}), http.StatusUnauthorized, "invalid_credentials", challengeBare)
		}
		// Throttled now, even with the right password.
		for _, p := range []string{"wrong-password", pw} {
			r := c.do(req{method: "POST", path: "/auth/login", body: creds("alice", p)})
			wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
			secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 600 {
				t.Errorf("Retry-After %q, want whole seconds within the 10m window", r.Header.Get("Retry-After"))
			}
		}
		// Another account is not throttled by alice's failures.
		c.register("bob", "bob-password")
		c.login("bob", "bob-password")
	}},

	{name: "me", run: func(t *testing.T, c *client) {
		tk := c.register("alice", pw)
		r := c.do(req{method: "GET", path: "/me", header: bearer(tk.AccessToken)})
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Type", "application/json")
		m := r.JSON(t)
		wantKeys(t, "/me", m, "id", "username", "roles", "mfa")
		if m["id"] != tk.User.ID || m["username"] != "alice" || m["mfa"] != false {
			t.Errorf("/me %v, want alice's id and username", m)
		}
		// The scheme is case-insensitive (RFC 7235).
		wantStatus(t, c.do(req{method: "GET", path: "/me", header: map[string]string{"Authorization": "bearer " + tk.AccessToken}}), http.StatusOK)
	}},

	{name: "unauthenticated", run: func(t *testing.T, c *client) {
		tk := c.register("alice", pw)
		// No token: the bare challenge (RFC 6750 §3.1: no error code).
		wantError(t, c.do(req{method: "GET", path: "/me"}), http.StatusUnauthorized, "invalid_token", challengeBare)
		// A presented token that fails: error="invalid_token".
		for _, bad := range []struct{ name, auth string }{
			{"garbage", "Bearer not.a.token"},
			{"refresh as access", "Bearer " + tk.RefreshToken}, // typ confusion
			{"truncated", "Bearer " + tk.AccessToken[:len(tk.AccessToken)-4]},
			{"alg none", "Bearer " + algNone(t, tk.AccessToken)},                                    // alg is pinned to the key
			{"other key", "Bearer " + forged(t, tk.User.ID, "a-different-secret-0123456789abcdef")}, // same kid, wrong secret
			{"basic scheme", "Basic YWxpY2U6cGFzc3dvcmQ="},
		} {
			t.Run(bad.name, func(t *testing.T) {
				wantError(t, c.do(req{method: "GET", path: "/me", header: map[string]string{"Authorization": bad.auth}}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			})
		}
		// Auth-protected endpoints of the API answer alike.
		wantError(t, c.do(req{method: "POST", path: "/auth/logout"}), http.StatusUnauthorized, "invalid_token", challengeBare)
		wantError(t, c.do(req{method: "POST", path: "/auth/logout-all"}), http.StatusUnauthorized, "invalid_token", challengeBare)
	}},

	{name: "refresh_rotation", run: func(t *testing.T, c *client) {
		first := c.register("alice", pw)
		next := wantTokens(t, c.refresh(first.RefreshToken), http.StatusOK)
		if next.RefreshToken == first.RefreshToken || next.AccessToken == first.AccessToken {
			t.Error("refresh must give a new pair")
		}
		if jwtClaims(t, next.AccessToken)["sid"] != jwtClaims(t, first.AccessToken)["sid"] {
			t.Error("a rotation stays in its session")
		}
		if c.meStatus(next.AccessToken) != http.StatusOK {
			t.Error("the new access token must work")
		}
		// The new refresh token rotates again.
		wantTokens(t, c.refresh(next.RefreshToken), http.StatusOK)
		// Bad refresh requests.
		wantError(t, c.refresh(first.AccessToken), http.StatusUnauthorized, "invalid_token", challengeInvalidToken) // access token as refresh
		wantError(t, c.refresh("garbage"), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
		wantError(t, c.do(req{method: "POST", path: "/auth/refresh", body: `{"refresh_token":1}`}), http.StatusBadRequest, "invalid_request")
	}},

	// RFC 9700 §4.14.2: a replayed refresh token ends the whole session.
	{name: "refresh_reuse_detected", run: func(t *testing.T, c *client) {
		first := c.register("alice", pw)
		other := c.login("alice", pw) // another session, untouched
		next := wantTokens(t, c.refresh(first.RefreshToken), http.StatusOK)
		wantError(t, c.refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
		c.wantSpent("the session's newest refresh token after reuse", next.RefreshToken)
		c.wantDead("the session's newest access token after reuse", next.AccessToken)
		c.wantDead("the session's first access token after reuse", first.AccessToken)
		if c.meStatus(other.AccessToken) != http.StatusOK {
			t.Error("another session of the user must survive")
		}
		wantTokens(t, c.refresh(other.RefreshToken), http.StatusOK)
	}},

	{name: "logout", run: func(t *testing.T, c *client) {
		tk := c.register("alice", pw)
		other := c.login("alice", pw)
		r := c.do(req{method: "POST", path: "/auth/logout", header: bearer(tk.AccessToken)})
		wantStatus(t, r, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %q", r.Body)
		}
		c.wantDead("access token after logout", tk.AccessToken)
		c.wantSpent("refresh token after logout", tk.RefreshToken)
		wantError(t, c.do(req{method: "POST", path: "/auth/logout", header: bearer(tk.AccessToken)}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
		if c.meStatus(other.AccessToken) != http.StatusOK {
			t.Error("logout must end only its own session")
		}
	}},

	{name: "logout_all", run: func(t *testing.T, c *client) {
		a := c.register("alice", pw)
		b := c.login("alice", pw)
		bob := c.register("bob", "bob-password")
		wantStatus(t, c.do(req{method: "POST", path: "/auth/logout-all", header: bearer(a.AccessToken)}), http.StatusNoContent)
		c.wantDead("session a's access token", a.AccessToken)
		c.wantDead("session b's access token", b.AccessToken)
		c.wantSpent("session a's refresh token", a.RefreshToken)
		c.wantSpent("session b's refresh token", b.RefreshToken)
		if c.meStatus(bob.AccessToken) != http.StatusOK {
			t.Error("another user's session must survive")
		}
		// A new login works after logout-all.
		fresh := c.login("alice", pw)
		if c.meStatus(fresh.AccessToken) != http.StatusOK {
			t.Error("a login after logout-all must work")
		}
	}},

	{name: "admin_bootstrap", env: map[string]string{"ADMIN_USERNAME": AdminUser, "ADMIN_PASSWORD": AdminPassword}, run: func(t *testing.T, c *client) {
		tk := c.login(AdminUser, AdminPassword)
		if !slices.Equal(tk.User.Roles, []string{"admin"}) {
			t.Errorf("admin roles %q, want [admin]", tk.User.Roles)
		}
		r := c.do(req{method: "GET", path: "/me", header: bearer(tk.AccessToken)})
		wantStatus(t, r, http.StatusOK)
		if roles, _ := r.JSON(t)["roles"].([]any); len(roles) != 1 || roles[0] != "admin" {
			t.Errorf("/me roles %v, want [admin]", roles)
		}
	}},

	{name: "jwks_hmac", run: func(t *testing.T, c *client) {
		r := c.do(req{method: "GET", path: "/.well-known/jwks.json"})
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Type", "application/json")
		m := r.JSON(t)
		wantKeys(t, "JWK Set", m, "keys")
		if keys, ok := m["keys"].([]any); !ok || len(keys) != 0 {
			t.Errorf("keys %v, want an empty array: an HMAC secret is never published", m["keys"])
		}
	}},

	{name: "jwks_eddsa", env: map[string]string{"JWT_ALG": "EdDSA", "JWT_SECRET": ""}, run: func(t *testing.T, c *client) {
		r := c.do(req{method: "GET", path: "/.well-known/jwks.json"})
		wantStatus(t, r, http.StatusOK)
		keys, _ := r.JSON(t)["keys"].([]any)
		if len(keys) != 1 {
			t.Fatalf("keys %v, want one", keys)
		}
		k, _ := keys[0].(map[string]any)
		wantKeys(t, "JWK", k, "kty", "crv", "x", "kid", "alg", "use")
		if k["alg"] != "EdDSA" || k["use"] != "sig" || k["kty"] != "OKP" || k["crv"] != "Ed25519" {
			t.Errorf("JWK %v, want OKP Ed25519, alg EdDSA, use sig", k)
		}
		tk := c.register("alice", pw)
		if h := jwtHeader(t, tk.AccessToken); h["kid"] != k["kid"] || h["alg"] != "EdDSA" {
			t.Errorf("token header %v, want the published kid and EdDSA", h)
		}
		if c.meStatus(tk.AccessToken) != http.StatusOK {
			t.Error("an EdDSA access token must work")
		}
	}},

	{name: "healthz", run: func(t *testing.T, c *client) {
		r := c.do(req{method: "GET", path: "/healthz"})
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Type", "application/json")
		m := r.JSON(t)
		wantKeys(t, "healthz", m, "status")
		if m["status"] != "ok" {
			t.Errorf("status %v, want ok", m["status"])
		}
	}},

	// Every error is JSON, routing errors included.
	{name: "routing_errors", run: func(t *testing.T, c *client) {
		for _, q := range []struct{ method, path, allow string }{
			{"GET", "/auth/login", "POST"},
			{"GET", "/auth/register", "POST"},
			{"PUT", "/auth/refresh", "POST"},
			{"GET", "/auth/logout", "POST"},
			{"DELETE", "/me", "GET"},
			{"POST", "/healthz", "GET"},
		} {
			r := c.do(req{method: q.method, path: q.path})
			wantError(t, r, http.StatusMethodNotAllowed, "invalid_request")
			wantHeader(t, r, "Allow", q.allow)
		}
		r := c.do(req{method: "POST", path: "/.well-known/jwks.json"})
		wantStatus(t, r, http.StatusMethodNotAllowed)
		wantHeader(t, r, "Allow", "GET, HEAD")
		for _, p := range []string{"/nope", "/auth/nope", "/me/", "/auth/login/"} {
			wantError(t, c.do(req{method: "GET", path: p}), http.StatusNotFound, "not_found")
		}
	}},

	// Methods a router may not know (chi answered these with its own empty
	// 405) get the same JSON 405 with Allow on every router.
	{name: "unknown_methods", run: func(t *testing.T, c *client) {
		for _, q := range []struct{ method, path, allow string }{
			{"FOO", "/auth/login", "POST"},
			{"post", "/auth/login", "POST"},
			{"PROPFIND", "/me", "GET"},
			{"get", "/healthz", "GET"},
		} {
			r := c.do(req{method: q.method, path: q.path})
			wantError(t, r, http.StatusMethodNotAllowed, "invalid_request")
			wantHeader(t, r, "Allow", q.allow)
		}
	}},
}

// algNone returns tok's claims under an unsigned header with alg none.
func algNone(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	return "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0Iiwia2lkIjoiZGVmYXVsdCJ9." + parts[1] + "."
}

// forged signs an access token for sub with another secret under the
// server's kid.
func forged(t *testing.T, sub, secret string) string {
	t.Helper()
	k, err := token.NewHMACKey(token.HS256, "default", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(token.Access, &token.Claims{Subject: sub, SessionID: "s", Roles: []string{"admin"}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
