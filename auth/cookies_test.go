package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cookieFixture(t *testing.T, opts ...Option) *fixture {
	return newFixture(t, nil, append([]Option{WithCookies(CookieConfig{})}, opts...)...)
}

// cookiesOf returns the cookies a response sets, by name.
func cookiesOf(w *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		out[c.Name] = c
	}
	return out
}

// withCookies returns a header carrying the given cookies (name, value, ...).
func withCookies(h http.Header, nv ...string) http.Header {
	if h == nil {
		h = http.Header{}
	}
	for i := 0; i < len(nv); i += 2 {
		h.Add("Cookie", (&http.Cookie{Name: nv[i], Value: nv[i+1]}).String())
	}
	return h
}

func crossSite() http.Header { return http.Header{"Sec-Fetch-Site": {"cross-site"}} }

func requireCrossOriginRefused(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	requireError(t, w, http.StatusForbidden, CodeInvalidRequest)
	assert.Empty(t, w.Result().Cookies())
}

func requireTokenCookies(t *testing.T, f *fixture, w *httptest.ResponseRecorder, tr TokenResponse, secure bool) {
	t.Helper()
	cs := cookiesOf(w)
	require.Len(t, cs, 2)
	acc, ref := cs["access_token"], cs["refresh_token"]
	require.NotNil(t, acc)
	require.NotNil(t, ref)
	assert.Equal(t, tr.AccessToken, acc.Value)
	assert.Equal(t, tr.RefreshToken, ref.Value)
	assert.Equal(t, "/", acc.Path)
	assert.Equal(t, "/auth/refresh", ref.Path)
	for _, c := range []*http.Cookie{acc, ref} {
		assert.True(t, c.HttpOnly)
		assert.Equal(t, secure, c.Secure)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Empty(t, c.Domain)
		assert.Positive(t, c.MaxAge)
	}
	// Max-Age never exceeds the token's life.
	assert.LessOrEqual(t, int64(acc.MaxAge), tr.ExpiresIn)
	assert.Equal(t, int((DefaultAccessTTL-100*time.Millisecond)/time.Second), acc.MaxAge)
	assert.LessOrEqual(t, ref.MaxAge, int(DefaultRefreshTTL/time.Second))
	for _, raw := range w.Header().Values("Set-Cookie") {
		assert.Contains(t, raw, "SameSite=Lax")
		assert.Contains(t, raw, "HttpOnly")
	}
}

func TestCookieModeSetsCookies(t *testing.T) {
	f := cookieFixture(t)
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusCreated, w.Code)
	requireTokenCookies(t, f, w, decodeTokens(t, w), true)

	w = f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusOK, w.Code)
	tr := decodeTokens(t, w)
	requireTokenCookies(t, f, w, tr, true)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	// Refresh with a body token: new cookies too.
	w = f.refresh(tr.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	requireTokenCookies(t, f, w, decodeTokens(t, w), true)

	// Errors set no cookie.
	w = f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password")})
	assert.Empty(t, w.Result().Cookies())
}

func TestCookieModeOffByDefault(t *testing.T) {
	f := newFixture(t, nil)
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusCreated, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	tr := decodeTokens(t, w)
	// A cookie is not a credential without cookie mode.
	requireError(t, f.do(req{method: "GET", path: "/private", header: withCookies(nil, "access_token", tr.AccessToken)}),
		http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.do(req{method: "POST", path: "/auth/refresh", body: "{}", header: withCookies(nil, "refresh_token", tr.RefreshToken)}),
		http.StatusBadRequest, CodeInvalidRequest)
	w = f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken})
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
}

func TestInsecureCookies(t *testing.T) {
	f := cookieFixture(t, WithInsecureCookies())
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusCreated, w.Code)
	requireTokenCookies(t, f, w, decodeTokens(t, w), false)
	for _, raw := range w.Header().Values("Set-Cookie") {
		assert.NotContains(t, raw, "Secure")
	}
}

func TestCookieAuthentication(t *testing.T) {
	f := cookieFixture(t)
	alice := f.register("alice")
	bob := f.register("bob")
	get := func(h http.Header) *httptest.ResponseRecorder {
		return f.do(req{method: "GET", path: "/private", header: h})
	}
	w := get(withCookies(nil, "access_token", alice.AccessToken))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), alice.User.ID)

	// The Authorization header wins over the cookie, valid or not.
	h := withCookies(http.Header{"Authorization": {"Bearer " + bob.AccessToken}}, "access_token", alice.AccessToken)
	w = get(h)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), bob.User.ID)
	h = withCookies(http.Header{"Authorization": {"Bearer " + tamper(bob.AccessToken)}}, "access_token", alice.AccessToken)
	requireError(t, get(h), http.StatusUnauthorized, CodeInvalidToken)

	// Two access cookies (one tossed in from a sibling domain): refused.
	requireError(t, get(withCookies(nil, "access_token", alice.AccessToken, "access_token", bob.AccessToken)),
		http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, get(withCookies(nil, "access_token", "not a token!")), http.StatusUnauthorized, CodeInvalidToken)
	// A refresh token in the access cookie is no access token.
	requireError(t, get(withCookies(nil, "access_token", alice.RefreshToken)), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, get(withCookies(nil, "refresh_token", alice.RefreshToken)), http.StatusUnauthorized, CodeInvalidToken)

	// A safe method from another site is fine (CORS keeps the answer
	// from being read).
	h = withCookies(crossSite(), "access_token", alice.AccessToken)
	assert.Equal(t, http.StatusOK, get(h).Code)
	w = f.do(req{method: "GET", path: "/auth/sessions", header: h})
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestRefreshByCookie(t *testing.T) {
	f := cookieFixture(t)
	tr := f.register("alice")
	refresh := func(body string, h http.Header) *httptest.ResponseRecorder {
		return f.do(req{method: "POST", path: "/auth/refresh", body: body, header: h})
	}
	// Cross-origin: refused, and the token is not spent (had it been,
	// presenting it again would end the session as a replay).
	requireCrossOriginRefused(t, refresh("", withCookies(crossSite(), "refresh_token", tr.RefreshToken)))
	requireCrossOriginRefused(t, refresh("{}", withCookies(http.Header{"Origin": {"https://evil.example"}}, "refresh_token", tr.RefreshToken)))
	requireCrossOriginRefused(t, refresh("{}", withCookies(http.Header{"Sec-Fetch-Site": {"same-site"}}, "refresh_token", tr.RefreshToken)))

	// An empty body and same-origin: the cookie refreshes.
	w := refresh("", withCookies(http.Header{"Sec-Fetch-Site": {"same-origin"}}, "refresh_token", tr.RefreshToken))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	next := decodeTokens(t, w)
	requireTokenCookies(t, f, w, next, true)
	// The spent token is a replay now: the session ends.
	requireError(t, refresh("{}", withCookies(nil, "refresh_token", tr.RefreshToken)), http.StatusUnauthorized, CodeInvalidToken)

	tr = f.login("alice")
	w = refresh("{}", withCookies(http.Header{"Origin": {"http://example.com"}}, "refresh_token", tr.RefreshToken)) // Origin = Host
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	tr = decodeTokens(t, w)

	// A body token is not authenticated by cookie: no cross-origin check,
	// but the new pair comes in the body only. attack: cookies set from a
	// cross-site response would plant the caller's session (login CSRF).
	w = refresh(jsonBody(map[string]string{"refresh_token": tr.RefreshToken}), crossSite())
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Result().Cookies(), "a cross-site refresh sets cookies")

	requireError(t, refresh("{}", nil), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, refresh("", nil), http.StatusBadRequest, CodeInvalidRequest)
	requireError(t, refresh("{}", withCookies(nil, "refresh_token", "garbage")), http.StatusUnauthorized, CodeInvalidToken)
}

// TestCrossOriginCookieRequestsChangeNothing: every unsafe request
// authenticated by cookie from another origin is refused and changes
// nothing; the same requests with a bearer header go through.
func TestCrossOriginCookieRequestsChangeNothing(t *testing.T) {
	f := cookieFixture(t)
	tr := f.register("alice")
	other := f.login("alice")
	otherID := currentSession(f, other.AccessToken)
	foreign := []http.Header{
		crossSite(),
		{"Sec-Fetch-Site": {"same-site"}},
		{"Origin": {"https://evil.example"}}, // an older browser: Origin only
	}
	reqs := []req{
		{method: "POST", path: "/auth/logout"},
		{method: "POST", path: "/auth/logout-all"},
		{method: "DELETE", path: "/auth/sessions/" + otherID},
		{method: "POST", path: "/auth/password/change", body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "a new password"})},
	}
	for _, h := range foreign {
		for _, r := range reqs {
			r.header = withCookies(h.Clone(), "access_token", tr.AccessToken)
			requireCrossOriginRefused(t, f.do(r))
		}
	}
	// Nothing changed: both sessions live, the password is the old one.
	assert.Equal(t, http.StatusOK, f.status(tr.AccessToken))
	assert.Equal(t, http.StatusOK, f.status(other.AccessToken))
	assert.Len(t, f.sessions(tr.AccessToken), 2)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", testPassword))

	// The same requests with the bearer header from another site work.
	w := f.do(req{method: "DELETE", path: "/auth/sessions/" + otherID, bearer: tr.AccessToken, header: crossSite()})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	w = f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken, header: crossSite()})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))

	// Same-origin with the cookie works.
	tr = f.login("alice")
	w = f.do(req{method: "POST", path: "/auth/logout", header: withCookies(http.Header{"Sec-Fetch-Site": {"same-origin"}}, "access_token", tr.AccessToken)})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
}

// attack: login CSRF. In cookie mode a cross-origin login or registration
// would plant the attacker's session cookies in the victim's browser; it is
// refused and sets no cookie. Without cookie mode nothing is refused.
func TestCrossOriginLoginRefusedInCookieMode(t *testing.T) {
	f := cookieFixture(t)
	f.register("alice")
	for _, h := range []http.Header{crossSite(), {"Sec-Fetch-Site": {"same-site"}}, {"Origin": {"https://evil.example"}}} {
		requireCrossOriginRefused(t, f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword), header: h}))
		requireCrossOriginRefused(t, f.do(req{method: "POST", path: "/auth/register", body: creds("mallory", testPassword), header: h}))
	}
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword), header: http.Header{"Sec-Fetch-Site": {"same-origin"}}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	plain := newFixture(t, nil)
	plain.register("bob")
	w = plain.do(req{method: "POST", path: "/auth/login", body: creds("bob", testPassword), header: crossSite()})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

// A logout whose access cookie has already expired answers 401 but still
// expires both cookies, so the refresh cookie does not outlive the logout
// in the browser; from another site it clears nothing.
func TestLogoutWithoutAccessCookieClearsCookies(t *testing.T) {
	f := cookieFixture(t)
	tr := f.register("alice")
	w := f.do(req{method: "POST", path: "/auth/logout", header: withCookies(nil, "refresh_token", tr.RefreshToken)})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	cs := cookiesOf(w)
	require.Len(t, cs, 2)
	for _, c := range cs {
		assert.Less(t, c.MaxAge, 0, c.Name)
	}
	w = f.do(req{method: "POST", path: "/auth/logout-all", header: withCookies(crossSite(), "refresh_token", tr.RefreshToken)})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Empty(t, w.Result().Cookies(), "a cross-site request clears nothing")
}

func TestLogoutExpiresCookies(t *testing.T) {
	f := cookieFixture(t)
	f.register("alice")
	for _, path := range []string{"/auth/logout", "/auth/logout-all"} {
		t.Run(path, func(t *testing.T) {
			tr := f.login("alice")
			w := f.do(req{method: "POST", path: path, header: withCookies(nil, "access_token", tr.AccessToken)})
			require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
			cs := cookiesOf(w)
			require.Len(t, cs, 2)
			assert.Equal(t, "/", cs["access_token"].Path)
			assert.Equal(t, "/auth/refresh", cs["refresh_token"].Path)
			for _, c := range cs {
				assert.Empty(t, c.Value)
				assert.Negative(t, c.MaxAge) // sent as Max-Age=0
				assert.True(t, c.HttpOnly)
				assert.True(t, c.Secure)
			}
			for _, raw := range w.Header().Values("Set-Cookie") {
				assert.Contains(t, raw, "Max-Age=0")
			}
			assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
		})
	}
}

func TestCookieConfig(t *testing.T) {
	f := newFixture(t, nil)
	for name, opts := range map[string][]Option{
		"bad name":               {WithCookies(CookieConfig{AccessName: "a b"})},
		"same names":             {WithCookies(CookieConfig{AccessName: "tok", RefreshName: "tok"})},
		"relative path":          {WithCookies(CookieConfig{RefreshPath: "auth/refresh"})},
		"path injection":         {WithCookies(CookieConfig{RefreshPath: "/x; Domain=evil"})},
		"unknown SameSite":       {WithCookies(CookieConfig{SameSite: http.SameSite(9)})},
		"None insecure":          {WithCookies(CookieConfig{SameSite: http.SameSiteNoneMode}), WithInsecureCookies()},
		"__Host- refresh":        {WithCookies(CookieConfig{RefreshName: "__Host-refresh"})},
		"__Host- with domain":    {WithCookies(CookieConfig{AccessName: "__Host-access", Domain: "example.com"})},
		"__Secure- insecure":     {WithCookies(CookieConfig{RefreshName: "__Secure-refresh"}), WithInsecureCookies()},
		"bad trusted origin":     {WithCookies(CookieConfig{TrustedOrigins: []string{"evil.example/path"}})},
		"domain with semicolons": {WithCookies(CookieConfig{Domain: "a;b"})},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(f.signer, f.verifier, f.st, append([]Option{WithHasher(fastHasher())}, opts...)...)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}

	// Prefixed names, Strict, a trusted origin.
	g := newFixture(t, nil, WithCookies(CookieConfig{
		AccessName: "__Host-access", RefreshName: "__Secure-refresh", RefreshPath: "/api/auth/refresh",
		SameSite: http.SameSiteStrictMode, TrustedOrigins: []string{"https://app.example.com"},
	}))
	w := g.do(req{method: "POST", path: "/auth/register", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusCreated, w.Code)
	cs := cookiesOf(w)
	require.NotNil(t, cs["__Host-access"])
	require.NotNil(t, cs["__Secure-refresh"])
	assert.Equal(t, "/api/auth/refresh", cs["__Secure-refresh"].Path)
	assert.Equal(t, http.SameSiteStrictMode, cs["__Host-access"].SameSite)
	tok := cs["__Host-access"].Value
	trusted := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://app.example.com"}}
	w = g.do(req{method: "DELETE", path: "/auth/sessions/none", header: withCookies(trusted, "__Host-access", tok)})
	requireError(t, w, http.StatusNotFound, CodeNotFound) // past the cross-origin check
	w = g.do(req{method: "DELETE", path: "/auth/sessions/none", header: withCookies(crossSite(), "__Host-access", tok)})
	requireCrossOriginRefused(t, w)
	assert.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"))
}
