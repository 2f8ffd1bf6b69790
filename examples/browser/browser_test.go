package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/e2e"
)

const (
	alicePassword   = "correct horse battery staple"
	malloryPassword = "mallory's own password"
)

// need skips the test without what it names, or fails it under CI.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + ": CI is set, so the browser test fails instead of skipping")
	}
	t.Skip(msg + ": the browser test is skipped")
}

// newServer serves newHandler on a loopback port with the configuration
// of env (memory store, as the example's default).
func newServer(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	st, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(st)) // 127.0.0.1, a free port
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// call sends one request of the test itself (no browser) and returns
// the status and the decoded JSON body (nil when there is none).
func call(t *testing.T, method, url, bearer, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// The page and its script are served with a policy that allows only the
// page's own script and requests to its own origin; the API is mounted
// beside them and unknown paths get the API's JSON 404.
func TestPage(t *testing.T) {
	srv := newServer(t, map[string]string{"COOKIE_MODE": "true"})
	for _, c := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="/app.js"></script>`},
		{"/app.js", "text/javascript; charset=utf-8", `credentials: "same-origin"`},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.ctype || !bytes.Contains(body, []byte(c.contains)) {
			t.Errorf("GET %s: %d %q, want 200 %q with %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype, c.contains)
		}
		// No inline script may run, nor may the page be framed or talk to another origin.
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", c.path, csp, want)
			}
		}
	}
	if status, body := call(t, "GET", srv.URL+"/nowhere", "", ""); status != http.StatusNotFound || body["error"] != "not_found" {
		t.Errorf("GET /nowhere: %d %v, want 404 not_found", status, body)
	}
	if status, body := call(t, "POST", srv.URL+"/", "", ""); status != http.StatusNotFound && status != http.StatusMethodNotAllowed || body["error"] == nil {
		t.Errorf("POST /: %d %v, want a JSON 404 or 405", status, body)
	}
	if status, _ := call(t, "GET", srv.URL+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("GET /healthz: %d, want the API's 200", status)
	}
}

// Bad configuration, serving and graceful shutdown, as every example.
func TestRun(t *testing.T) { e2e.RunMain(t, newHandler) }

// COOKIE_MODE is true unless the environment or .env says otherwise.
func TestCookieModeByDefault(t *testing.T) {
	for _, c := range []struct{ name, env, dotEnv, want string }{
		{"unset", "", "", "true"},
		{"environment", "false", "", "false"},
		{"dotenv", "", "COOKIE_MODE=false\n", ""}, // left to config.FromEnv, which reads .env
		{"dotenv_other", "", "ADDR=127.0.0.1:9999\n", "true"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			t.Setenv("COOKIE_MODE", c.env)
			if c.dotEnv != "" {
				if err := os.WriteFile(config.DotEnvFile, []byte(c.dotEnv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cookieModeByDefault()
			if got := os.Getenv("COOKIE_MODE"); got != c.want {
				t.Errorf("COOKIE_MODE %q, want %q", got, c.want)
			}
			cfg, err := config.FromEnv()
			if err != nil {
				t.Fatal(err)
			}
			if want := c.want == "true"; cfg.CookieMode != want {
				t.Errorf("config.FromEnv: CookieMode %v, want %v", cfg.CookieMode, want)
			}
		})
	}
}

// cookie is a cookie as playwright reports it.
type cookie struct {
	Name, Value, Domain, Path string
	HTTPOnly                  bool `json:"httpOnly"`
	Secure                    bool
	SameSite                  string
	Expires                   float64
}

// seen is what testdata/drive.mjs reports: the line the page showed
// after each button, the browser's cookies after each step, and the API's
// status for each request of the second origin.
type seen struct {
	Register, MeAfterRegister, Logout1, MeAfterLogout1    string
	Login, MeAfterLogin, Refresh, MeAfterRefresh          string
	MeAfterCrossOrigin, Logout, MeAfterLogout             string
	RefreshAfterLogout                                    string
	DocCookieAfterRegister, DocCookieAfterLogin           string
	AfterRegister, AfterLogout1, AfterLogin, AfterRefresh []cookie
	AfterCrossOrigin, AfterLogout                         []cookie
	CrossOrigin                                           map[string]int
	OtherOrigin, BrowserVersion                           string
	PageErrors                                            []string
	MeByBearer                                            struct {
		Status int
		Body   map[string]any
	}
}

// tokenCookies checks jar holds exactly the two token cookies, HttpOnly,
// Secure, SameSite=Lax and host-only on 127.0.0.1, and returns their values.
func tokenCookies(t *testing.T, step string, jar []cookie) (access, refresh string) {
	t.Helper()
	if len(jar) != 2 {
		t.Errorf("%s: cookies %+v, want access_token and refresh_token", step, jar)
	}
	for _, c := range jar {
		want := map[string]string{"access_token": "/", "refresh_token": "/auth/refresh"}[c.Name]
		switch {
		case want == "":
			t.Errorf("%s: unexpected cookie %q", step, c.Name)
			continue
		case c.Path != want || !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" || c.Domain != "127.0.0.1" || c.Value == "" || c.Expires <= float64(time.Now().Unix()):
			t.Errorf("%s: %s cookie: Path %q HttpOnly %v Secure %v SameSite %q Domain %q Expires %v; want Path %q, HttpOnly, Secure, Lax, host-only 127.0.0.1, a future expiry",
				step, c.Name, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.Domain, c.Expires, want)
		}
		if c.Name == "access_token" {
			access = c.Value
		} else {
			refresh = c.Value
		}
	}
	return access, refresh
}

// Cookie mode in a real browser: Chromium, headless, driven by
// playwright-core (testdata/drive.mjs), registers, logs in, asks who it
// is, refreshes and logs out through the page, with cookies it can never
// read; a page of a second origin that posts to the API is refused.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		need(t, "no chromium on PATH (apt-get install -y chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "no node on PATH (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "playwright-core", "package.json")); err != nil {
		need(t, "playwright-core is not installed: run npm ci --prefix examples/browser/testdata (.ci/run does)")
	}

	// The cookies stay Secure: Chromium keeps Secure cookies on http://127.0.0.1.
	api := newServer(t, map[string]string{"COOKIE_MODE": "true"})
	// The second origin: same host, another port. It is the same site, so
	// SameSite=Lax lets the cookies go along: the API's origin check is
	// what refuses it.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>another origin</title>
<form id="logout-form" method="post" action="%s/auth/logout"><button>Log out of the API</button></form>`, api.URL)
	}))
	t.Cleanup(other.Close)

	// Mallory's own account: the second origin tries to log the browser into it.
	if status, _ := call(t, "POST", api.URL+"/auth/register", "", `{"username":"mallory","password":"`+malloryPassword+`"}`); status != http.StatusCreated {
		t.Fatalf("registering mallory: %d", status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "drive.mjs")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "API="+api.URL, "OTHER="+other.URL, "CHROMIUM="+chromium,
		"USERNAME=alice", "PASSWORD="+alicePassword, "MALLORY=mallory", "MALLORY_PASSWORD="+malloryPassword)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("drive.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	var s seen
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("drive.mjs printed %q: %v", stdout.String(), err)
	}
	t.Logf("Chromium %s, %s", s.BrowserVersion, time.Since(start).Round(time.Millisecond))

	line := func(step, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: the page shows %q, want %q", step, got, want)
		}
	}
	prefix := func(step, got, want string) {
		t.Helper()
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s: the page shows %q, want %q...", step, got, want)
		}
	}

	if s.PageErrors == nil || len(s.PageErrors) != 0 {
		t.Errorf("the page's errors (exceptions, CSP violations): %q, want none", s.PageErrors)
	}

	// Register through the form: the cookies are set, and the page's
	// script cannot see them.
	line("register", s.Register, "register: 201 alice")
	regAccess, _ := tokenCookies(t, "after register", s.AfterRegister)
	if s.DocCookieAfterRegister != "" || s.DocCookieAfterLogin != "" {
		t.Errorf("document.cookie %q, %q: want \"\" (HttpOnly)", s.DocCookieAfterRegister, s.DocCookieAfterLogin)
	}
	line("who am I after register", s.MeAfterRegister, "me: 200 alice")
	line("logout", s.Logout1, "logout: 204")
	if len(s.AfterLogout1) != 0 {
		t.Errorf("after logout: cookies %+v, want none", s.AfterLogout1)
	}
	prefix("who am I after logout", s.MeAfterLogout1, "me: 401")
	if status, _ := call(t, "GET", api.URL+"/me", regAccess, ""); status != http.StatusUnauthorized {
		t.Errorf("the access cookie of the session logged out: GET /me %d, want 401", status)
	}

	// Log in through the form, ask who I am, refresh: new cookie values.
	line("login", s.Login, "login: 200 alice")
	loginAccess, loginRefresh := tokenCookies(t, "after login", s.AfterLogin)
	line("who am I after login", s.MeAfterLogin, "me: 200 alice")
	prefix("refresh", s.Refresh, "refresh: 200")
	access, refresh := tokenCookies(t, "after refresh", s.AfterRefresh)
	if access == loginAccess || refresh == loginRefresh || access == regAccess {
		t.Error("after refresh: the cookies hold the same tokens as before")
	}
	line("who am I after refresh", s.MeAfterRefresh, "me: 200 alice")
	// The cookie's value is the API's own access token, for alice.
	if s.MeByBearer.Status != http.StatusOK || s.MeByBearer.Body["username"] != "alice" {
		t.Errorf("the access cookie as a bearer token: GET /me %d %v, want 200 alice", s.MeByBearer.Status, s.MeByBearer.Body)
	}

	// The second origin: every unsafe request refused with 403, nothing changed.
	if s.OtherOrigin == api.URL || !strings.HasPrefix(s.OtherOrigin, "http://127.0.0.1:") {
		t.Errorf("the second origin is %q (the API is %s): want another port of 127.0.0.1", s.OtherOrigin, api.URL)
	}
	for _, name := range []string{"logoutForm", "loginFetch", "registerFetch", "refreshFetch", "logoutFetch", "logoutAllFetch"} {
		if got, ok := s.CrossOrigin[name]; !ok || got != http.StatusForbidden {
			t.Errorf("from the second origin, %s: status %d (reported %v), want 403", name, got, ok)
		}
	}
	a, r := tokenCookies(t, "after the second origin's requests", s.AfterCrossOrigin)
	if a != access || r != refresh {
		t.Error("the second origin's requests changed the browser's cookies")
	}
	line("who am I after the second origin's requests", s.MeAfterCrossOrigin, "me: 200 alice")

	// Log out: the cookies are gone, and the tokens they held are dead.
	line("logout", s.Logout, "logout: 204")
	if len(s.AfterLogout) != 0 {
		t.Errorf("after logout: cookies %+v, want none", s.AfterLogout)
	}
	prefix("who am I after logout", s.MeAfterLogout, "me: 401")
	prefix("refresh after logout", s.RefreshAfterLogout, "refresh: 400")
	if status, _ := call(t, "GET", api.URL+"/me", access, ""); status != http.StatusUnauthorized {
		t.Errorf("the last access cookie after logout: GET /me %d, want 401", status)
	}
	if status, _ := call(t, "POST", api.URL+"/auth/refresh", "", `{"refresh_token":"`+refresh+`"}`); status != http.StatusUnauthorized {
		t.Errorf("the last refresh cookie after logout: POST /auth/refresh %d, want 401", status)
	}
}
