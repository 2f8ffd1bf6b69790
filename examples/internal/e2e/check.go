package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The WWW-Authenticate challenges of docs/http-api.md.
const (
	challengeBare         = `Bearer realm="gatekeep"`
	challengeInvalidToken = `Bearer realm="gatekeep", error="invalid_token"`
	challengeScope        = `Bearer realm="gatekeep", error="insufficient_scope"`
)

// tokens is the body of register, login and refresh.
type tokens struct {
	User struct {
		ID       string   `json:"id"`
		Username string   `json:"username"`
		Roles    []string `json:"roles"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func creds(username, password string) map[string]string {
	return map[string]string{"username": username, "password": password}
}

// wantStatus fails the test now unless r has status.
func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %q", r.Status, status, clip(r.Body))
	}
}

func wantHeader(t *testing.T, r *response, name, value string) {
	t.Helper()
	if got := r.Header.Values(name); len(got) != 1 || got[0] != value {
		t.Errorf("%s: %q, want exactly %q", name, got, value)
	}
}

func wantNoHeader(t *testing.T, r *response, name string) {
	t.Helper()
	if got := r.Header.Values(name); len(got) != 0 {
		t.Errorf("%s: %q, want none", name, got)
	}
}

func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	slices.Sort(keys)
	if got := keysOf(m); !slices.Equal(got, keys) {
		t.Errorf("%s has members %q, want exactly %q", what, got, keys)
	}
}

// wantError checks the API's error shape: status, JSON content type,
// exactly {"error","error_description"} with the code and a description,
// no-store, and the challenge of a 401 (the one given) or a 403.
func wantError(t *testing.T, r *response, status int, code string, challenge ...string) {
	t.Helper()
	wantStatus(t, r, status)
	wantHeader(t, r, "Content-Type", "application/json")
	m := r.JSON(t)
	wantKeys(t, "error body", m, "error", "error_description")
	if m["error"] != code {
		t.Errorf("error %q, want %q", m["error"], code)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("error_description is empty or not a string: %v", m["error_description"])
	}
	switch {
	case len(challenge) > 0:
		wantHeader(t, r, "WWW-Authenticate", challenge[0])
	case status == http.StatusUnauthorized:
		t.Fatal("test bug: a 401 check must name its challenge")
	case status != http.StatusForbidden:
		wantNoHeader(t, r, "WWW-Authenticate")
	}
	for _, leak := range []string{"eyJ", "password", "panic", "goroutine", "redis", "bolt", "postgres", "SQLSTATE"} {
		if strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(leak)) && !(leak == "password" && strings.Contains(m["error_description"].(string), "password")) {
			t.Errorf("error body mentions %q: %q", leak, r.Body)
		}
	}
}

// wantTokens checks a token response (status, no-store, exact members)
// and returns it.
func wantTokens(t *testing.T, r *response, status int) tokens {
	t.Helper()
	wantStatus(t, r, status)
	wantHeader(t, r, "Content-Type", "application/json")
	wantHeader(t, r, "Cache-Control", "no-store")
	m := r.JSON(t)
	wantKeys(t, "token body", m, "user", "access_token", "refresh_token", "token_type", "expires_in")
	if u, ok := m["user"].(map[string]any); ok {
		wantKeys(t, "user", u, "id", "username", "roles")
	} else {
		t.Errorf("user is not an object: %v", m["user"])
	}
	var tk tokens
	if err := json.Unmarshal(r.Body, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.TokenType != "Bearer" || tk.ExpiresIn <= 0 || tk.AccessToken == "" || tk.RefreshToken == "" || tk.User.ID == "" {
		t.Errorf("token body incomplete: type %q, expires_in %d, user id %q", tk.TokenType, tk.ExpiresIn, tk.User.ID)
	}
	return tk
}

// jwtHeader decodes a compact JWS's header.
func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("token header is not base64url: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("token header is not JSON: %v", err)
	}
	return h
}

// jwtClaims decodes a compact JWS's claims (without verifying: the server
// did).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("claims are not base64url: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("claims are not JSON: %v", err)
	}
	return c
}

func (c *client) register(username, password string) tokens {
	c.t.Helper()
	return wantTokens(c.t, c.do(req{method: "POST", path: "/auth/register", body: creds(username, password)}), http.StatusCreated)
}

func (c *client) login(username, password string) tokens {
	c.t.Helper()
	return wantTokens(c.t, c.do(req{method: "POST", path: "/auth/login", body: creds(username, password)}), http.StatusOK)
}

// me returns GET /me's status with tok.
func (c *client) meStatus(tok string) int {
	c.t.Helper()
	return c.do(req{method: "GET", path: "/me", header: bearer(tok)}).Status
}

// refresh presents rt to POST /auth/refresh.
func (c *client) refresh(rt string) *response {
	c.t.Helper()
	return c.do(req{method: "POST", path: "/auth/refresh", body: map[string]string{"refresh_token": rt}})
}

func (c *client) wantDead(what, access string) {
	c.t.Helper()
	r := c.do(req{method: "GET", path: "/me", header: bearer(access)})
	if r.Status != http.StatusUnauthorized {
		c.t.Errorf("%s: GET /me answers %d, want 401", what, r.Status)
		return
	}
	wantError(c.t, r, http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
}

func (c *client) wantSpent(what, refresh string) {
	c.t.Helper()
	r := c.refresh(refresh)
	if r.Status != http.StatusUnauthorized {
		c.t.Errorf("%s: refresh answers %d, want 401", what, r.Status)
		return
	}
	wantError(c.t, r, http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
}
