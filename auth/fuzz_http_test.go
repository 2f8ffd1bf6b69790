package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// The HTTP boundary under fuzzing: whatever the headers or the body,
// never a panic (the fuzzer reports one), never a 5xx (the store is up),
// and never a 2xx without valid credentials.

// FuzzMiddleware sends GET /private (Require) with an arbitrary
// Authorization and Cookie header, in cookie mode. A 200 needs an access
// token that the verifier accepts, whole, in one of them (a fuzzing
// worker registers a user of its own: the seeds' tokens, signed with the
// same test key by another process, are valid there too).
func FuzzMiddleware(f *testing.F) {
	fx := newFixture(f, nil, WithCookies(CookieConfig{}))
	valid := fx.register("fuzz").AccessToken
	// Seeds from the attack tables: malformed schemes, alg none, empty
	// segments, oversize, duplicated and cookie-only tokens.
	for _, s := range [][2]string{
		{"Bearer " + valid, ""},
		{"", "access_token=" + valid},
		{"bearer " + valid, "access_token=garbage"},
		{"Bearer " + valid + " extra", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.", ""},
		{"Bearer ..", "access_token=.."},
		{"Bearer " + strings.Repeat(".", 4096), ""},
		{"Bearer " + valid[:len(valid)-2] + "AA", ""},
		{"Bearer  " + valid, ""},
		{"Bearer " + valid + "," + valid, ""},
		{"", "access_token=" + valid + "; access_token=x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r := httptest.NewRequest("GET", "/private", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		fx.mux.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for Authorization %q, Cookie %q", w.Code, authz, cookie)
		case w.Code < 300 && !fx.holdsAccessToken(authz) && !fx.holdsAccessToken(cookie):
			t.Fatalf("status %d without the valid token: Authorization %q, Cookie %q", w.Code, authz, cookie)
		case w.Code != http.StatusOK && w.Code != http.StatusUnauthorized && w.Code != http.StatusBadRequest:
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}

// fuzzRoute is one endpoint under FuzzHandlers and what may make it
// answer 2xx.
type fuzzRoute struct {
	method, path string
	// ok reports whether a 2xx is legitimate for this body, given whether
	// the request carried the valid access token of a user without roles
	// beyond "user".
	ok func(body string, authed bool) bool
}

func fuzzRoutes(refresh string, validLogin func(body string) bool) []fuzzRoute {
	anyone := func(string, bool) bool { return true }
	authed := func(_ string, a bool) bool { return a }
	never := func(string, bool) bool { return false }
	return []fuzzRoute{
		{"POST", "/auth/register", anyone}, // creates an account: no credentials needed
		{"POST", "/auth/login", func(b string, _ bool) bool { return validLogin(b) }},
		{"POST", "/auth/refresh", func(b string, _ bool) bool { return refresh != "" && strings.Contains(b, refresh) }},
		{"POST", "/auth/logout", authed},
		{"POST", "/auth/logout-all", authed},
		{"GET", "/auth/sessions", authed},
		{"DELETE", "/auth/sessions/0123456789abcdef0123456789abcdef", authed},
		{"POST", "/auth/password/change", authed},
		{"POST", "/auth/password/forgot", anyone}, // 202 always, by design
		{"POST", "/auth/password/reset", never},   // no reset token was ever issued
		{"GET", "/admin/users", never},            // the token's user is no admin
		{"PUT", "/admin/users/0123456789abcdef0123456789abcdef/roles", never},
		{"GET", "/me", authed},
		{"GET", "/healthz", anyone},
	}
}

// FuzzHandlers sends every handler of the API an arbitrary body, with or
// without a valid access token.
func FuzzHandlers(f *testing.F) {
	fx := newFixture(f, nil, WithRegisterLimit(RateLimit{PerIP: 1 << 30, Total: 1 << 30, Window: 1 << 40}))
	// The progressive login delay is a real wait; under fuzzing it only
	// slows the fuzzer, so it is recorded instead.
	fx.a.cfg.sleep = (&sleepRecorder{}).discard
	tr := fx.register("fuzz")
	// Valid credentials for a login: a username and password that verify
	// against the store (the fuzzer may register accounts of its own).
	validLogin := func(body string) bool {
		var in struct{ Username, Password string }
		if json.Unmarshal([]byte(body), &in) != nil {
			return false
		}
		name, err := store.CanonicalUsername(in.Username)
		if err != nil {
			return false
		}
		u, err := fx.st.UserByUsername(context.Background(), name)
		if err != nil {
			return false
		}
		ok, _, _ := fx.a.cfg.hasher.Verify(in.Password, u.PasswordHash)
		return ok
	}
	routes := fuzzRoutes(tr.RefreshToken, validLogin)
	seeds := []string{
		"", "{}", "null", "[]", `"x"`, "{", `{"username":"fuzz","password":"` + testPassword + `"}`,
		`{"username":"fuzz","password":"wrong password"}`, `{"username":"fuzz","password":"` + testPassword + `","x":1}`,
		`{"refresh_token":"` + tr.RefreshToken + `"}`, `{"refresh_token":"` + tr.AccessToken + `"}`,
		`{"token":"` + tr.RefreshToken + `","new_password":"another password"}`,
		`{"current_password":"wrong password","new_password":"another password"}`,
		`{"roles":["admin"]}`, `{"username":{"a":1}}`, `{"username":"` + strings.Repeat("a", 200) + `","password":"12345678"}`,
		strings.Repeat("[", 5000), `{"username":"\u0000","password":"\ud800aaaaaaaa"}`, `{"username":"a","username":"b"}`,
	}
	for i := range routes {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s), i%2 == 0)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte, withToken bool) {
		rt := routes[int(which)%len(routes)]
		r := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if withToken {
			r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		}
		w := httptest.NewRecorder()
		fx.mux.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s: status %d for body %q: %s", rt.method, rt.path, w.Code, body, w.Body)
		case w.Code < 300 && !rt.ok(string(body), withToken):
			t.Fatalf("%s %s: status %d without valid credentials, body %q", rt.method, rt.path, w.Code, body)
		}
	})
}

// holdsAccessToken reports whether s contains, delimited by characters
// outside the JWT alphabet, a token the fixture's verifier accepts as an
// access token.
func (f *fixture) holdsAccessToken(s string) bool {
	isTok := func(r rune) bool {
		return r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	for _, cand := range strings.FieldsFunc(s, func(r rune) bool { return !isTok(r) }) {
		if strings.Count(cand, ".") != 2 {
			continue
		}
		if _, err := f.verifier.Verify(context.Background(), token.Access, cand); err == nil {
			return true
		}
	}
	return false
}
