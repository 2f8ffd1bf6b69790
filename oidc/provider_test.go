package oidc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	gochi "github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/oidc"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// need skips the test with why, or fails it under CI.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startProvider runs the real OpenID provider of testdata/provider.mjs
// (panva/oidc-provider) with node and returns its issuer URL.
func startProvider(t *testing.T, redirects ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node not on PATH: the OpenID provider tests need it (apt-get install nodejs npm; npm ci --prefix oidc/testdata)")
	}
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "oidc-provider")); err != nil {
		need(t, "oidc-provider is not installed: run npm ci --prefix oidc/testdata")
	}
	cmd := exec.Command(node, append([]string{"provider.mjs"}, redirects...)...)
	cmd.Dir = "testdata"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		var v struct{ Issuer string }
		if !ok || json.Unmarshal([]byte(l), &v) != nil || v.Issuer == "" {
			t.Fatalf("the provider did not start: %q %s", l, stderr.String())
		}
		return v.Issuer
	case <-time.After(30 * time.Second):
		t.Fatalf("the provider did not start in 30s: %s", stderr.String())
	}
	return ""
}

// clock is a movable clock shared by the Authenticator, its verifier and
// the Service.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// site is one gatekeep server with provider sign-in.
type site struct {
	srv    *httptest.Server
	a      *auth.Authenticator
	st     *memory.Store
	clock  *clock
	router string // "nethttp", "chi" or "gin"
	h      http.Handler
	// extra are providers beside "op", the provider's OpenID Connect client.
	extra []oidc.Provider
	// authOpts and svcOpts are more options of the Authenticator and the
	// Service.
	authOpts []auth.Option
	svcOpts  []oidc.Option
	svc      *oidc.Service
}

func newSite(t *testing.T) *site { return newRouterSite(t, "nethttp") }

func newRouterSite(t *testing.T, router string) *site {
	s := &site{st: memory.New(), clock: &clock{}, router: router}
	t.Cleanup(func() { _ = s.st.Close() })
	// The handler is set by start, once the provider's issuer is known.
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	return s
}

// start configures s for issuer: cookie mode or exchange mode.
func (s *site) start(t *testing.T, issuer string, cookies bool, clientID string) {
	t.Helper()
	key, err := token.NewHMACKey(token.HS256, "k1", bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(s.clock.now))
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(s.clock.now))
	opts := []auth.Option{auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"), auth.WithClock(s.clock.now)}
	if cookies {
		opts = append(opts, auth.WithCookies(auth.CookieConfig{}), auth.WithInsecureCookies())
	}
	opts = append(opts, s.authOpts...)
	s.a, err = auth.New(signer, verifier, s.st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	secret := "gatekeep-test-secret"
	if clientID != "gatekeep" {
		secret = clientID + "-secret"
	}
	svc, err := oidc.New(s.a, s.st, "/welcome", append([]oidc.Provider{{
		Name: "op", Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		RedirectURL: s.srv.URL + "/auth/oidc/op/callback",
	}}, s.extra...), append([]oidc.Option{oidc.WithClock(s.clock.now), oidc.WithInsecureStateCookie()}, s.svcOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s.svc = svc
	switch s.router {
	case "chi":
		r := gochi.NewRouter()
		gatekeepchi.Mount(r, s.a)
		for _, rt := range svc.Routes() {
			r.Handle(rt.Pattern, rt.Handler)
		}
		s.h = r
	case "gin":
		r := gin.New()
		gatekeepgin.Mount(r, s.a)
		for _, rt := range svc.Routes() {
			pat := strings.NewReplacer("{provider}", ":provider", "{id}", ":id").Replace(rt.Pattern)
			r.Any(pat, gatekeepgin.Handler(rt.Handler))
		}
		s.h = r
	default:
		mux := http.NewServeMux()
		s.a.Mount(mux)
		svc.Mount(mux)
		s.h = mux
	}
}

// browser is a cookie-keeping client that follows redirects up to (not
// into) a gatekeep callback.
type browser struct {
	c *http.Client
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasSuffix(req.URL.Path, "/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// authorize starts a sign-in at s, signs in at the provider as login and
// consents, and returns the callback URL the provider sent the browser to
// (not yet visited).
func (b *browser) authorize(t *testing.T, s *site, login string) *url.URL {
	t.Helper()
	return b.authorizeWith(t, s, "op", login)
}

// authorizeWith is authorize through the named provider.
func (b *browser) authorizeWith(t *testing.T, s *site, provider, login string) *url.URL {
	t.Helper()
	res, err := b.c.Get(s.srv.URL + "/auth/oidc/" + provider + "/start")
	if err != nil {
		t.Fatal(err)
	}
	return b.follow(t, res, login)
}

// follow walks the provider's pages from res (its authorization
// endpoint's answer, or a redirect to it), signing in as login and
// consenting, and returns the callback URL it sends the browser to.
func (b *browser) follow(t *testing.T, res *http.Response, login string) *url.URL {
	t.Helper()
	var err error
	for range 4 {
		if res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound {
			res.Body.Close()
			loc, err := res.Location()
			if err != nil {
				t.Fatal(err)
			}
			return loc
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := formAction.FindSubmatch(body)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("provider page %s: %d without a form: %.300s", res.Request.URL, res.StatusCode, body)
		}
		action, _ := res.Request.URL.Parse(html.UnescapeString(string(m[1])))
		form := url.Values{"prompt": {"consent"}}
		if bytes.Contains(body, []byte(`name="login"`)) {
			form = url.Values{"prompt": {"login"}, "login": {login}, "password": {"any password"}}
		}
		res, err = b.c.PostForm(action.String(), form)
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the provider never redirected to the callback")
	return nil
}

// get sends a GET with b's cookies and returns the response, unfollowed.
func (b *browser) get(t *testing.T, u string) *http.Response {
	t.Helper()
	c := &http.Client{Jar: b.c.Jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func errorCode(t *testing.T, res *http.Response) string {
	t.Helper()
	var body auth.ErrorBody
	_ = json.NewDecoder(res.Body).Decode(&body)
	return body.Error
}

// exchange posts code to /auth/oidc/exchange.
func exchange(t *testing.T, s *site, code string) (int, *auth.TokenResponse) {
	t.Helper()
	res, err := http.Post(s.srv.URL+"/auth/oidc/exchange", "application/json", strings.NewReader(fmt.Sprintf(`{"code":%q}`, code)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr auth.TokenResponse
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&tr); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, &tr
}

// me returns GET /me's username with bearer.
func me(t *testing.T, s *site, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct{ Username string }
	_ = json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v.Username
}

// signInCode runs a whole sign-in in exchange mode and returns the code.
func signInCode(t *testing.T, s *site, login string) string {
	t.Helper()
	return signInCodeWith(t, s, "op", login)
}

// signInCodeWith is signInCode through the named provider.
func signInCodeWith(t *testing.T, s *site, provider, login string) string {
	t.Helper()
	b := newBrowser()
	cb := b.authorizeWith(t, s, provider, login)
	res := b.get(t, cb.String())
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s, want 303", res.StatusCode, errorCode(t, res))
	}
	loc := res.Header.Get("Location")
	welcome, frag, ok := strings.Cut(loc, "#code=")
	if !ok || welcome != "/welcome" || frag == "" {
		t.Fatalf("callback redirected to %q, want /welcome#code=...", loc)
	}
	if strings.Contains(loc, "?") {
		t.Errorf("the redirect has a query: %q", loc)
	}
	code, _ := url.QueryUnescape(frag)
	return code
}

func users(t *testing.T, s *site) []*store.User {
	t.Helper()
	us, _, err := s.st.ListUsers(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// tamper rewrites the browser's state cookie with edit.
func tamper(t *testing.T, b *browser, s *site, edit func(m map[string]any)) {
	t.Helper()
	u, _ := url.Parse(s.srv.URL + oidc.CookiePath)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name != oidc.StateCookie {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		raw, _ = json.Marshal(m)
		c.Value = base64.RawURLEncoding.EncodeToString(raw)
		c.Path = oidc.CookiePath
		b.c.Jar.SetCookies(u, []*http.Cookie{c})
		return
	}
	t.Fatal("no state cookie in the browser")
}

func init() { gin.SetMode(gin.ReleaseMode) }

// The same sign-in on each router, as the examples mount it.
func TestProviderRouters(t *testing.T) {
	routers := []string{"nethttp", "chi", "gin"}
	sites := map[string]*site{}
	var redirects []string
	for _, r := range routers {
		sites[r] = newRouterSite(t, r)
		redirects = append(redirects, sites[r].srv.URL+"/auth/oidc/op/callback")
	}
	issuer := startProvider(t, redirects...)
	for _, r := range routers {
		t.Run(r, func(t *testing.T) {
			s := sites[r]
			audit := &lockedBuffer{}
			s.svcOpts = append(s.svcOpts, oidc.WithLogger(slog.New(slog.NewJSONHandler(audit, nil))))
			s.start(t, issuer, false, "gatekeep")
			st, tr := exchange(t, s, signInCode(t, s, "kim"))
			if st != http.StatusOK {
				t.Fatalf("exchange: %d", st)
			}
			if st, name := me(t, s, tr.AccessToken); st != http.StatusOK || name != "kim" {
				t.Errorf("GET /me = %d %q, want 200 kim", st, name)
			}
			// Link, list and unlink reach their handlers, {id} included.
			ids := identities(t, s, tr.AccessToken)
			if len(ids) != 1 {
				t.Fatalf("kim has %d identities, want 1", len(ids))
			}
			if res, body := call(t, nil, s, http.MethodDelete, "/auth/identities/"+ids[0].ID, tr.AccessToken); res.StatusCode != http.StatusConflict {
				t.Errorf("unlink of kim's only way in: %d %s, want 409", res.StatusCode, body)
			}
			if res := link(t, s, tr.AccessToken, "kim-"+r); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("link: %d %s, want 303", res.StatusCode, errorCode(t, res))
			}
			if res, body := call(t, nil, s, http.MethodDelete, "/auth/identities/"+ids[0].ID, tr.AccessToken); res.StatusCode != http.StatusNoContent {
				t.Errorf("unlink of one of two: %d %s, want 204", res.StatusCode, body)
			}
			// Audit events of the sign-in and the link, naming the provider.
			for _, ev := range []string{`"msg":"oidc.signin"`, `"msg":"oidc.linked"`, `"provider":"op"`} {
				if !strings.Contains(audit.String(), ev) {
					t.Errorf("no %s in the audit log: %s", ev, audit.String())
				}
			}
			// An unknown provider is the API's JSON 404.
			res := newBrowser().get(t, s.srv.URL+"/auth/oidc/nope/start")
			if res.StatusCode != http.StatusNotFound || errorCode(t, res) != auth.CodeNotFound {
				t.Errorf("unknown provider: %d, want 404 not_found", res.StatusCode)
			}
			// A wrong method is the API's JSON 405.
			res, err := http.Post(s.srv.URL+"/auth/oidc/op/start", "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != http.MethodGet {
				t.Errorf("POST start: %d Allow %q, want 405 Allow GET", res.StatusCode, res.Header.Get("Allow"))
			}
		})
	}
}

// A plain OAuth 2.0 provider (no ID token read): the provider's own
// authorization and token endpoints, with a UserInfoFunc reading its
// userinfo endpoint, as GitHub's built-in mapping reads GitHub's API.
func TestPlainOAuth2(t *testing.T) {
	s := newSite(t)
	issuer := startProvider(t, s.srv.URL+"/auth/oidc/op/callback", s.srv.URL+"/auth/oidc/plain/callback")
	s.extra = []oidc.Provider{{
		Name: "plain", ClientID: "gatekeep", ClientSecret: "gatekeep-test-secret",
		RedirectURL: s.srv.URL + "/auth/oidc/plain/callback",
		// oidc-provider's userinfo endpoint serves tokens of scope openid.
		Scopes:   []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/auth", TokenURL: issuer + "/token"},
		UserInfo: oidc.UserInfoFunc(func(ctx context.Context, client *http.Client) (*oidc.ExternalIdentity, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/me", nil)
			res, err := client.Do(req)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", oidc.ErrProviderUnavailable, err)
			}
			defer res.Body.Close()
			var v struct {
				Sub           string `json:"sub"`
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
			}
			if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&v) != nil {
				return nil, fmt.Errorf("%w: userinfo answered %d", oidc.ErrProviderUnavailable, res.StatusCode)
			}
			return &oidc.ExternalIdentity{Issuer: "plain:" + issuer, Subject: v.Sub, Email: v.Email, EmailVerified: v.EmailVerified}, nil
		}),
	}}
	s.start(t, issuer, false, "gatekeep")

	st, tr := exchange(t, s, signInCodeWith(t, s, "plain", "lena"))
	if st != http.StatusOK || tr.User.Username != "lena" {
		t.Fatalf("plain OAuth 2.0 sign-in: %d as %q, want 200 as lena (from the email)", st, tr.User.Username)
	}
	// The same account through the OpenID Connect client is another
	// identity (another issuer string): a separate user, not a link.
	_, tr2 := exchange(t, s, signInCode(t, s, "lena"))
	if tr2.User.ID == tr.User.ID {
		t.Errorf("two issuers' identities share user %s", tr.User.ID)
	}
	ids, err := s.st.UserIdentities(context.Background(), tr.User.ID)
	if err != nil || len(ids) != 1 || ids[0].Provider != "plain" || ids[0].Subject != "lena" {
		t.Errorf("identities = %+v, %v; want one of provider plain, subject lena", ids, err)
	}
}

func TestProvider(t *testing.T) {
	exch, cook, other, aud := newSite(t), newSite(t), newSite(t), newSite(t)
	issuer := startProvider(t, exch.srv.URL+"/auth/oidc/op/callback", cook.srv.URL+"/auth/oidc/op/callback",
		other.srv.URL+"/auth/oidc/op/callback", aud.srv.URL+"/auth/oidc/op/callback")
	exch.start(t, issuer, false, "gatekeep")
	cook.start(t, issuer, true, "gatekeep")
	other.start(t, issuer, false, "other-app")
	aud.start(t, issuer, false, "gatekeep")

	t.Run("SignInExchange", func(t *testing.T) {
		code := signInCode(t, exch, "alice")
		st, tr := exchange(t, exch, code)
		if st != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
			t.Fatalf("exchange: %d, want 200 with a pair", st)
		}
		if st, name := me(t, exch, tr.AccessToken); st != http.StatusOK || name != "alice" {
			t.Fatalf("GET /me = %d %q, want 200 alice", st, name)
		}
		// The session is an ordinary one: it refreshes.
		if _, err := exch.a.Refresh(context.Background(), tr.RefreshToken, auth.Client{}); err != nil {
			t.Errorf("refreshing the provider's session: %v", err)
		}
		// A second sign-in of the same account is the same user.
		_, tr2 := exchange(t, exch, signInCode(t, exch, "alice"))
		if tr2.User.ID != tr.User.ID {
			t.Errorf("second sign-in is user %s, want %s", tr2.User.ID, tr.User.ID)
		}
		ids, err := exch.st.UserIdentities(context.Background(), tr.User.ID)
		if err != nil || len(ids) != 1 || ids[0].Issuer != issuer || ids[0].Subject != "alice" || ids[0].Email != "alice@example.com" {
			t.Errorf("identities of alice = %+v, %v; want one (issuer, alice)", ids, err)
		}
	})

	t.Run("CodeUsedTwice", func(t *testing.T) {
		// An attack: a code read from a log or history is replayed.
		code := signInCode(t, exch, "dave")
		if st, _ := exchange(t, exch, code); st != http.StatusOK {
			t.Fatalf("first exchange: %d", st)
		}
		if st, _ := exchange(t, exch, code); st != http.StatusUnauthorized {
			t.Errorf("second exchange of one code: %d, want 401", st)
		}
	})

	t.Run("CodeExpired", func(t *testing.T) {
		code := signInCode(t, exch, "erin")
		exch.clock.advance(oidc.DefaultCodeTTL + time.Second)
		t.Cleanup(func() { exch.clock.advance(-oidc.DefaultCodeTTL - time.Second) })
		if st, _ := exchange(t, exch, code); st != http.StatusUnauthorized {
			t.Errorf("exchange after 61s: %d, want 401", st)
		}
	})

	t.Run("CodeForged", func(t *testing.T) {
		for _, code := range []string{"", "not-a-code", "eyJhbGciOiJub25lIn0.e30."} {
			if st, _ := exchange(t, exch, code); st != http.StatusUnauthorized && st != http.StatusBadRequest {
				t.Errorf("exchange of %q: %d, want 400 or 401", code, st)
			}
		}
	})

	t.Run("CookieMode", func(t *testing.T) {
		b := newBrowser()
		res := b.get(t, b.authorize(t, cook, "frank").String())
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/welcome" {
			t.Fatalf("callback: %d to %q, want 303 to /welcome", res.StatusCode, res.Header.Get("Location"))
		}
		var access string
		for _, c := range res.Cookies() {
			if c.Name == auth.DefaultAccessCookie {
				access = c.Value
				if !c.HttpOnly {
					t.Errorf("the access cookie is not HttpOnly")
				}
			}
		}
		if st, name := me(t, cook, access); access == "" || st != http.StatusOK || name != "frank" {
			t.Errorf("the access cookie gives /me %d %q, want 200 frank", st, name)
		}
	})

	t.Run("StateMismatch", func(t *testing.T) {
		// An attack: login CSRF, a callback of the attacker's sign-in in the victim's browser.
		before := len(users(t, exch))
		b := newBrowser()
		cb := b.authorize(t, exch, "mallory")
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusBadRequest || errorCode(t, res) != auth.CodeInvalidRequest {
			t.Errorf("callback with a forged state: %d, want 400 invalid_request", res.StatusCode)
		}
		// The victim's browser has no state cookie at all.
		if res := newBrowser().get(t, b.authorize(t, exch, "mallory").String()); res.StatusCode != http.StatusBadRequest {
			t.Errorf("callback without the state cookie: %d, want 400", res.StatusCode)
		}
		if n := len(users(t, exch)); n != before {
			t.Errorf("failed callbacks created %d users", n-before)
		}
	})

	t.Run("StateReplay", func(t *testing.T) {
		b := newBrowser()
		cb := b.authorize(t, exch, "gina")
		u, _ := url.Parse(exch.srv.URL + oidc.CookiePath)
		saved := b.c.Jar.Cookies(u)
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", res.StatusCode)
		}
		for _, c := range saved {
			c.Path = oidc.CookiePath
		}
		b.c.Jar.SetCookies(u, saved)
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusBadRequest {
			t.Errorf("the same callback again (cookie restored): %d, want 400", res.StatusCode)
		}
	})

	t.Run("NonceReplay", func(t *testing.T) {
		// An attack: an ID token issued for another sign-in (another nonce) is replayed into this one.
		before := len(users(t, exch))
		b := newBrowser()
		cb := b.authorize(t, exch, "henry")
		tamper(t, b, exch, func(m map[string]any) { m["n"] = "nonce-of-another-sign-in" })
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusUnauthorized || errorCode(t, res) != auth.CodeInvalidToken {
			t.Errorf("callback whose ID token has another nonce: %d, want 401 invalid_token", res.StatusCode)
		}
		if n := len(users(t, exch)); n != before {
			t.Errorf("a refused ID token created %d users", n-before)
		}
	})

	t.Run("CodeReplayed", func(t *testing.T) {
		// An attack: a code already redeemed, sent again with a fresh state and its own verifier.
		b := newBrowser()
		cb := b.authorize(t, exch, "olga")
		var verifier string
		tamper(t, b, exch, func(m map[string]any) { verifier, _ = m["v"].(string) })
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", res.StatusCode)
		}
		before := len(users(t, exch))
		cb2 := b.authorize(t, exch, "olga")
		tamper(t, b, exch, func(m map[string]any) { m["v"] = verifier })
		q := cb2.Query()
		q.Set("code", cb.Query().Get("code"))
		cb2.RawQuery = q.Encode()
		if res := b.get(t, cb2.String()); res.StatusCode != http.StatusUnauthorized || errorCode(t, res) != auth.CodeInvalidCredentials {
			t.Errorf("a redeemed code again: %d, want 401 invalid_credentials", res.StatusCode)
		}
		if n := len(users(t, exch)); n != before {
			t.Errorf("a replayed code created %d users", n-before)
		}
	})

	t.Run("PKCE", func(t *testing.T) {
		// An attack: an intercepted code redeemed without the verifier it was issued for.
		b := newBrowser()
		cb := b.authorize(t, exch, "ivan")
		tamper(t, b, exch, func(m map[string]any) { m["v"] = strings.Repeat("x", 43) })
		if res := b.get(t, cb.String()); res.StatusCode != http.StatusUnauthorized || errorCode(t, res) != auth.CodeInvalidCredentials {
			t.Errorf("code redeemed with another verifier: %d, want 401 invalid_credentials", res.StatusCode)
		}
		for _, u := range users(t, exch) {
			if u.Username == "ivan" {
				t.Errorf("a refused code created user ivan")
			}
		}
	})

	t.Run("UnverifiedEmailNotLinked", func(t *testing.T) {
		// An attack: an account at the provider claiming, unverified, the email of an existing user.
		victim := &store.User{ID: store.NewID(), Username: "victim", Email: "unverified-v@example.com", Roles: []string{"user"}}
		if err := exch.st.CreateUser(context.Background(), victim); err != nil {
			t.Fatal(err)
		}
		_, tr := exchange(t, exch, signInCode(t, exch, "unverified-v"))
		if tr.User.ID == "" || tr.User.ID == victim.ID {
			t.Fatalf("the unverified email signed in as %q (victim %q)", tr.User.ID, victim.ID)
		}
		u, err := exch.st.User(context.Background(), tr.User.ID)
		if err != nil || u.Email != "" {
			t.Errorf("the new user has email %q (%v), want none: it was not verified", u.Email, err)
		}
	})

	t.Run("UsernameTaken", func(t *testing.T) {
		if err := exch.st.CreateUser(context.Background(), &store.User{ID: store.NewID(), Username: "judy", Roles: []string{"user"}}); err != nil {
			t.Fatal(err)
		}
		_, tr := exchange(t, exch, signInCode(t, exch, "judy"))
		if tr.User.Username != "judy-2" {
			t.Errorf("the provider's judy is %q, want judy-2", tr.User.Username)
		}
	})

	t.Run("DeletedUserSignsUpAgain", func(t *testing.T) {
		_, first := exchange(t, exch, signInCode(t, exch, "mike"))
		if err := exch.st.DeleteUser(context.Background(), first.User.ID); err != nil {
			t.Fatal(err)
		}
		st, again := exchange(t, exch, signInCode(t, exch, "mike"))
		if st != http.StatusOK || again.User.ID == first.User.ID || again.User.Username != "mike" {
			t.Errorf("after deleting mike: %d as %s %q, want 200 as a new mike", st, again.User.ID, again.User.Username)
		}
	})

	t.Run("OtherAudience", func(t *testing.T) {
		// An attack: an ID token issued to another client (here: this client's
		// token, checked by a service that is the other client) is refused.
		if err := oidc.ExpectAudience(aud.svc, "op", "other-app"); err != nil {
			t.Fatal(err)
		}
		b := newBrowser()
		res := b.get(t, b.authorize(t, aud, "nina").String())
		if res.StatusCode != http.StatusUnauthorized || errorCode(t, res) != auth.CodeInvalidToken {
			t.Errorf("ID token for another audience: %d, want 401 invalid_token", res.StatusCode)
		}
		if n := len(users(t, aud)); n != 0 {
			t.Errorf("a refused ID token created %d users", n)
		}
	})

	t.Run("SecondClient", func(t *testing.T) {
		// Another client of the same provider: its own sign-ins work, and are its own users.
		_, tr := exchange(t, other, signInCode(t, other, "alice"))
		if tr.User.Username != "alice" {
			t.Errorf("other-app's alice is %q", tr.User.Username)
		}
	})
}

// lockedBuffer collects log output from the servers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
