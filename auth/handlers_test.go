package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

func TestRegisterLoginMe(t *testing.T) {
	f := newFixture(t, nil)
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("Alice", testPassword)})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	reg := decodeTokens(t, w)
	assert.Equal(t, "alice", reg.User.Username, "usernames are canonical")
	assert.Equal(t, []string{"user"}, reg.User.Roles)
	assert.Equal(t, "Bearer", reg.TokenType)
	assert.EqualValues(t, 900, reg.ExpiresIn)
	assert.NotEmpty(t, reg.AccessToken)
	assert.NotEmpty(t, reg.RefreshToken)

	// The access token carries what docs/http-api.md lists.
	c, err := f.verifier.Verify(t.Context(), token.Access, reg.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, testIssuer, c.Issuer)
	assert.Equal(t, reg.User.ID, c.Subject)
	assert.Equal(t, []string{testAudience}, c.Audience)
	assert.NotEmpty(t, c.ID)
	assert.NotEmpty(t, c.SessionID)
	assert.Equal(t, []string{"user"}, c.Roles)
	assert.Equal(t, c.IssuedAt.Add(DefaultAccessTTL), c.ExpiresAt)

	lw := f.do(req{method: "POST", path: "/auth/login", body: creds("ALICE", testPassword)})
	require.Equal(t, http.StatusOK, lw.Code, lw.Body.String())
	assert.Equal(t, "no-store", lw.Header().Get("Cache-Control"))
	login := decodeTokens(t, lw)
	assert.Equal(t, reg.User, login.User)

	mw := f.do(req{method: "GET", path: "/me", bearer: login.AccessToken})
	require.Equal(t, http.StatusOK, mw.Code, mw.Body.String())
	var me map[string]any
	require.NoError(t, json.Unmarshal(mw.Body.Bytes(), &me))
	assert.Equal(t, map[string]any{"id": reg.User.ID, "username": "alice", "roles": []any{"user"}, "mfa": false}, me)

	pw := f.do(req{method: "GET", path: "/private", bearer: login.AccessToken})
	require.Equal(t, http.StatusOK, pw.Code)
	assert.Contains(t, pw.Body.String(), `"username":"alice"`)

	assert.Equal(t, []string{"auth.register", "auth.login"}, f.logs.events())
}

func TestRegisterErrors(t *testing.T) {
	f := newFixture(t, nil)
	f.register("taken")
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
	}{
		{"taken username", creds("taken", testPassword), "", 409, CodeUserExists},
		// RFC 8265: case and width variants are the same account.
		{"taken username in other case", creds("TAKEN", testPassword), "", 409, CodeUserExists},
		{"taken username fullwidth", creds("ｔａｋｅｎ", testPassword), "", 409, CodeUserExists},
		{"empty body", "", "", 400, CodeInvalidRequest},
		{"malformed JSON", `{"username":`, "", 400, CodeInvalidRequest},
		{"not an object", `["a","b"]`, "", 400, CodeInvalidRequest},
		{"unknown field", `{"username":"bob","password":"` + testPassword + `","admin":true}`, "", 400, CodeInvalidRequest},
		{"wrong type", `{"username":"bob","password":12345678}`, "", 400, CodeInvalidRequest},
		{"trailing data", creds("bob", testPassword) + `{}`, "", 400, CodeInvalidRequest},
		{"not JSON content type", creds("bob", testPassword), "text/plain", 400, CodeInvalidRequest},
		{"missing username", `{"password":"` + testPassword + `"}`, "", 400, CodeInvalidRequest},
		{"username with space", creds("bo b", testPassword), "", 400, CodeInvalidRequest},
		{"username with control character", creds("bob\u0007", testPassword), "", 400, CodeInvalidRequest},
		{"overlong username", creds(strings.Repeat("b", 129), testPassword), "", 400, CodeInvalidRequest},
		{"short password", creds("bob", "1234567"), "", 400, CodeInvalidRequest},
		{"long password", creds("bob", strings.Repeat("p", 1025)), "", 400, CodeInvalidRequest},
		{"bad email", `{"username":"bob","password":"` + testPassword + `","email":"Bob <bob@example.com>"}`, "", 400, CodeInvalidRequest},
		// A body over 64 KiB is refused before it is read whole.
		{"huge body", `{"username":"` + strings.Repeat("b", 70<<10) + `"}`, "", 413, CodePayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req{method: "POST", path: "/auth/register", body: tt.body}
			if tt.ctype != "" {
				r.header = http.Header{"Content-Type": {tt.ctype}}
			}
			w := f.do(r)
			requireError(t, w, tt.status, tt.code)
			assert.NotContains(t, w.Body.String(), testPassword)
		})
	}
	t.Run("exact limits", func(t *testing.T) {
		w := f.do(req{method: "POST", path: "/auth/register", body: creds("eight", "x7#kq9!z")})
		assert.Equal(t, http.StatusCreated, w.Code)
		w = f.do(req{method: "POST", path: "/auth/register", body: creds("long", strings.Repeat("p", 1024))})
		assert.Equal(t, http.StatusCreated, w.Code)
		w = f.do(req{method: "POST", path: "/auth/register",
			body: `{"username":"withmail","password":"` + testPassword + `","email":"m@example.com"}`})
		assert.Equal(t, http.StatusCreated, w.Code)
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	f := newFixture(t, nil)
	f.register("alice")
	wrong := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password")})
	unknown := f.do(req{method: "POST", path: "/auth/login", body: creds("nobody", "wrong password")})
	short := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "short")})
	for _, w := range []*httptest.ResponseRecorder{wrong, unknown, short} {
		requireError(t, w, http.StatusUnauthorized, CodeInvalidCredentials)
		assert.Equal(t, `Bearer realm="gatekeep"`, w.Header().Get("WWW-Authenticate"))
	}
	// No enumeration: identical bodies and headers.
	assert.Equal(t, wrong.Body.String(), unknown.Body.String())
	assert.Equal(t, wrong.Header(), unknown.Header())

	for _, body := range []string{`{"username":"alice"}`, `{"username":"alice","password":"` + testPassword + `","email":"a@example.com"}`, `{"username":1}`} {
		requireError(t, f.do(req{method: "POST", path: "/auth/login", body: body}), http.StatusBadRequest, CodeInvalidRequest)
	}
}

func TestLoginWithUnreadableStoredHash(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	bad := "$argon2id$corrupt"
	_, err := f.st.UpdateUser(t.Context(), tr.User.ID, store.UserUpdate{PasswordHash: &bad})
	require.NoError(t, err)
	requireError(t, f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)}), 401, CodeInvalidCredentials)
	assert.Contains(t, f.logs.all(), "auth.password_hash_unreadable")
	assert.NotContains(t, f.logs.all(), bad)
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	refreshAsAccess := tr.RefreshToken
	tests := []struct {
		name      string
		header    http.Header
		path      string
		status    int
		challenge string
	}{
		{"valid", http.Header{"Authorization": {"Bearer " + tr.AccessToken}}, "/private", 200, ""},
		// RFC 6750 §2.1 / RFC 9110 §11.1: the scheme is case-insensitive.
		{"lowercase scheme", http.Header{"Authorization": {"bearer " + tr.AccessToken}}, "/private", 200, ""},
		{"uppercase scheme", http.Header{"Authorization": {"BEARER " + tr.AccessToken}}, "/private", 200, ""},
		{"no header", nil, "/private", 401, `Bearer realm="gatekeep"`},
		// Tokens in the URL leak into logs and Referer (RFC 6750 §2.3): never read.
		{"token in query", nil, "/private?access_token=" + tr.AccessToken, 401, `Bearer realm="gatekeep"`},
		// Two headers: which one would a proxy have checked?
		{"two headers", http.Header{"Authorization": {"Bearer " + tr.AccessToken, "Bearer " + tr.AccessToken}}, "/private", 401, challengeInvalidToken},
		{"extra words", http.Header{"Authorization": {"Bearer " + tr.AccessToken + " extra"}}, "/private", 401, challengeInvalidToken},
		{"two spaces", http.Header{"Authorization": {"Bearer  " + tr.AccessToken}}, "/private", 401, challengeInvalidToken},
		{"scheme only", http.Header{"Authorization": {"Bearer"}}, "/private", 401, challengeInvalidToken},
		{"basic scheme", http.Header{"Authorization": {"Basic YWxpY2U6cGFzcw=="}}, "/private", 401, challengeInvalidToken},
		{"garbage token", http.Header{"Authorization": {"Bearer abc.def.ghi"}}, "/private", 401, challengeInvalidToken},
		// RFC 8725 §3.11: a refresh token is not an access token.
		{"refresh token as access token", http.Header{"Authorization": {"Bearer " + refreshAsAccess}}, "/private", 401, challengeInvalidToken},
		{"tampered signature", http.Header{"Authorization": {"Bearer " + tamper(tr.AccessToken)}}, "/private", 401, challengeInvalidToken},
		{"optional anonymous", nil, "/optional", 200, ""},
		{"optional with token", http.Header{"Authorization": {"Bearer " + tr.AccessToken}}, "/optional", 200, ""},
		// A bad token is refused even where authentication is optional.
		{"optional with bad token", http.Header{"Authorization": {"Bearer abc.def.ghi"}}, "/optional", 401, challengeInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(req{method: "GET", path: tt.path, header: tt.header})
			if tt.status != 200 {
				requireError(t, w, tt.status, CodeInvalidToken)
				assert.Equal(t, tt.challenge, w.Header().Get("WWW-Authenticate"))
				assert.NotContains(t, w.Body.String(), tr.AccessToken)
				return
			}
			require.Equal(t, 200, w.Code, w.Body.String())
		})
	}
	t.Run("optional reports principal", func(t *testing.T) {
		w := f.do(req{method: "GET", path: "/optional", bearer: tr.AccessToken})
		assert.JSONEq(t, `{"authenticated":true}`, w.Body.String())
		w = f.do(req{method: "GET", path: "/optional"})
		assert.JSONEq(t, `{"authenticated":false}`, w.Body.String())
	})
	t.Run("expired", func(t *testing.T) {
		f.clk.Advance(DefaultAccessTTL + DefaultLeeway)
		requireError(t, f.do(req{method: "GET", path: "/private", bearer: tr.AccessToken}), 401, CodeInvalidToken)
	})
}

// tamper flips one character of the signature.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestTokenFromOtherIssuerRefused(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	c, err := f.verifier.Verify(t.Context(), token.Access, tr.AccessToken)
	require.NoError(t, err)
	tests := []struct {
		name   string
		mutate func(c *token.Claims)
	}{
		// The Authenticator checks iss and aud itself, in case the Verifier was not told them.
		{"other issuer", func(c *token.Claims) { c.Issuer = "someone-else" }},
		{"other audience", func(c *token.Claims) { c.Audience = []string{"other-api"} }},
		// Without sid the session could not be revoked: refused.
		{"no sid", func(c *token.Claims) { c.SessionID = "" }},
		{"no sub", func(c *token.Claims) { c.Subject = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := *c
			cc.ID = ""
			tt.mutate(&cc)
			tok, err := f.signer.Sign(token.Access, &cc)
			require.NoError(t, err)
			p, err := f.a.AuthenticateToken(t.Context(), tok)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, ErrInvalidToken)
		})
	}
}

func TestAuthorize(t *testing.T) {
	f := newFixture(t, nil)
	user := f.register("alice")
	adm := f.register("root")
	_, err := f.st.UpdateUser(t.Context(), adm.User.ID, store.UserUpdate{Roles: []string{"admin"}})
	require.NoError(t, err)
	admin := f.login("root")

	requireError(t, f.do(req{method: "GET", path: "/admin"}), 401, CodeInvalidToken)
	w := f.do(req{method: "GET", path: "/admin", bearer: user.AccessToken})
	requireError(t, w, 403, CodeInsufficientScope)
	assert.Equal(t, `Bearer realm="gatekeep", error="insufficient_scope", scope="admin"`, w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, 200, f.do(req{method: "GET", path: "/admin", bearer: admin.AccessToken}).Code)
}

// FuzzBearerToken: whatever the Authorization header holds, Authenticate
// accepts only a valid access token, which is RFC 6750 b64token syntax
// (the Verifier's contract: three base64url segments), and refuses the
// rest as invalid_token, a header that is no Bearer b64token with the
// header's own description.
func FuzzBearerToken(f *testing.F) {
	fx := newFixture(f, nil)
	good := fx.register("alice").AccessToken
	for _, v := range []string{"Bearer " + good, "bearer " + good, "Bearer abc.def.ghi", "bearer a=", "Bearer  x", "Basic x",
		"Bearer a b", "Bearer " + good + " ", "Bearer " + good + ",x", "Bearer ", "Bearer"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", v)
		p, err := fx.a.Authenticate(r)
		scheme, tok, _ := strings.Cut(v, " ")
		if err == nil {
			if !strings.EqualFold(scheme, "Bearer") || !isB64Token(tok) || p == nil {
				t.Fatalf("accepted %q", v)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrNoToken) {
			t.Fatalf("%q: %v, want an invalid token", v, err)
		}
		if strings.EqualFold(scheme, "Bearer") && !isB64Token(tok) && ResponseFor(err).Description != "the Authorization header is not a Bearer token" {
			t.Fatalf("%q: description %q", v, ResponseFor(err).Description)
		}
	})
}

// b64tokenRE is RFC 6750's b64token as a regular expression, the
// reference for isB64Token's table.
var b64tokenRE = regexp.MustCompile(`^[A-Za-z0-9._~+/-]+=*$`)

func FuzzIsB64Token(f *testing.F) {
	for _, s := range []string{"", "=", "a", "a=", "a==", "a=b", "eyJ.x-y_z~+/==", "a b", "\x00", "é", "a\xff"} {
		f.Add(s)
	}
	for c := 0; c < 256; c++ {
		f.Add(string([]byte{byte(c)}))
		f.Add("x" + string([]byte{byte(c)}))
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isB64Token(s), b64tokenRE.MatchString(s); got != want {
			t.Fatalf("isB64Token(%q) = %v, RFC 6750 says %v", s, got, want)
		}
	})
}
