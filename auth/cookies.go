package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Default cookie names and paths of cookie mode (docs/http-api.md).
const (
	DefaultAccessCookie  = "access_token"
	DefaultRefreshCookie = "refresh_token"
	DefaultRefreshPath   = "/auth/refresh"
)

// CookieConfig configures cookie mode ([WithCookies]). The zero value is
// the HTTP API's defaults.
type CookieConfig struct {
	// AccessName and RefreshName are the cookies' names. Default
	// "access_token" and "refresh_token". A "__Host-" prefix (Secure, no
	// Domain, Path=/) suits the access cookie; the refresh cookie, scoped
	// to its path, can take "__Secure-". Either needs Secure cookies.
	AccessName  string
	RefreshName string
	// RefreshPath scopes the refresh cookie to where [Authenticator.Refresh]
	// is mounted, so no other request carries it. Default "/auth/refresh".
	RefreshPath string
	// Domain sets the cookies' Domain. Default none: host-only cookies,
	// which is safer; set it only to share them with subdomains.
	Domain string
	// SameSite defaults to Lax (also for the zero value and
	// http.SameSiteDefaultMode). None needs Secure cookies.
	SameSite http.SameSite
	// TrustedOrigins are origins ("https://app.example.com") whose
	// cross-origin requests authenticated by cookie are nonetheless
	// accepted (http.CrossOriginProtection.AddTrustedOrigin).
	TrustedOrigins []string
}

// cookieMode is the validated form of a CookieConfig.
type cookieMode struct {
	access, refresh string
	refreshPath     string
	domain          string
	sameSite        http.SameSite
	secure          bool
	cop             *http.CrossOriginProtection
}

func newCookieMode(cc CookieConfig, insecure bool) (*cookieMode, error) {
	m := &cookieMode{
		access: cc.AccessName, refresh: cc.RefreshName, refreshPath: cc.RefreshPath,
		domain: cc.Domain, sameSite: cc.SameSite, secure: !insecure,
		cop: http.NewCrossOriginProtection(),
	}
	if m.access == "" {
		m.access = DefaultAccessCookie
	}
	if m.refresh == "" {
		m.refresh = DefaultRefreshCookie
	}
	if m.refreshPath == "" {
		m.refreshPath = DefaultRefreshPath
	}
	if m.sameSite == 0 || m.sameSite == http.SameSiteDefaultMode {
		m.sameSite = http.SameSiteLaxMode
	}
	bad := func(why string) error { return fmt.Errorf("%w: cookies: %s", ErrInvalidConfig, why) }
	switch {
	case !validCookie(m.access) || !validCookie(m.refresh):
		return nil, bad("invalid cookie name")
	case m.access == m.refresh:
		return nil, bad("the access and refresh cookies need different names")
	case !strings.HasPrefix(m.refreshPath, "/") || strings.ContainsAny(m.refreshPath, ";\r\n\x00 "):
		return nil, bad("the refresh path must be an absolute path")
	case strings.ContainsAny(m.domain, ";\r\n\x00 "):
		return nil, bad("invalid domain")
	case m.sameSite != http.SameSiteLaxMode && m.sameSite != http.SameSiteStrictMode && m.sameSite != http.SameSiteNoneMode:
		return nil, bad("unknown SameSite mode")
	case m.sameSite == http.SameSiteNoneMode && !m.secure:
		return nil, bad("SameSite=None needs Secure cookies")
	}
	for _, c := range []struct{ name, path string }{{m.access, "/"}, {m.refresh, m.refreshPath}} {
		prefixed := strings.HasPrefix(c.name, "__Host-") || strings.HasPrefix(c.name, "__Secure-")
		switch {
		case prefixed && !m.secure:
			return nil, bad("a __Host- or __Secure- cookie needs Secure")
		case strings.HasPrefix(c.name, "__Host-") && (m.domain != "" || c.path != "/"):
			return nil, bad("a __Host- cookie needs Path=/ and no Domain")
		}
	}
	for _, o := range cc.TrustedOrigins {
		if err := m.cop.AddTrustedOrigin(o); err != nil {
			return nil, bad("invalid trusted origin")
		}
	}
	return m, nil
}

func validCookie(name string) bool {
	return (&http.Cookie{Name: name, Value: "x"}).Valid() == nil
}

// WithCookies turns on cookie mode: register, login and refresh also set
// the tokens as cookies (HttpOnly, Secure, SameSite=Lax by default; the
// access cookie on Path=/, the refresh cookie on cc.RefreshPath; Max-Age
// no longer than the token's life); logout and logout-all expire them; the
// middleware accepts the access token from its cookie when the request has
// no Authorization header (a header always wins); POST /auth/refresh with
// an empty or {} body uses the refresh cookie. Unsafe-method requests
// authenticated by a cookie are refused when cross-origin
// (http.CrossOriginProtection: Sec-Fetch-Site, then Origin against Host)
// with 403 invalid_request and change nothing; requests with a bearer
// header are unaffected. Default off: tokens travel in bodies and headers
// only. Turn it on for browser clients, which then never hold a token in
// script-readable storage.
func WithCookies(cc CookieConfig) GateOption {
	return gateOption(func(c *gateConfig) {
		cp := cc
		cp.TrustedOrigins = append([]string(nil), cc.TrustedOrigins...)
		c.cookies = &cp
	})
}

// WithInsecureCookies drops the Secure attribute from cookie mode's
// cookies so they travel over plain http: for local development only
// (COOKIE_INSECURE=true in the examples). Default off. Never use it in
// production: the tokens would cross the network in clear.
func WithInsecureCookies() GateOption {
	return gateOption(func(c *gateConfig) { c.insecureCookies = true })
}

// setTokenCookies sets both cookies for resp.
func (a *Authenticator) setTokenCookies(w http.ResponseWriter, resp *TokenResponse) {
	now := a.cfg.now()
	http.SetCookie(w, a.cookie(a.cookies.access, "/", resp.AccessToken, maxAge(resp.AccessExpiresAt, now)))
	http.SetCookie(w, a.cookie(a.cookies.refresh, a.cookies.refreshPath, resp.RefreshToken, maxAge(resp.RefreshExpiresAt, now)))
}

// clearTokenCookies expires both cookies, with the paths they were set on.
func (a *Authenticator) clearTokenCookies(w http.ResponseWriter) {
	if a.cookies == nil {
		return
	}
	http.SetCookie(w, a.cookie(a.cookies.access, "/", "", -1))
	http.SetCookie(w, a.cookie(a.cookies.refresh, a.cookies.refreshPath, "", -1))
}

// clearDeadCookies expires the token cookies on a logout refused for want
// of a valid access token (the access cookie expired, say): the browser
// then drops its refresh cookie too instead of keeping a session the user
// meant to end. Cross-origin requests clear nothing, so another site cannot
// log a user out.
func (a *Authenticator) clearDeadCookies(w http.ResponseWriter, r *http.Request, err error) {
	if a.cookies == nil || !(errors.Is(err, ErrNoToken) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevoked)) {
		return
	}
	if a.cookies.cop.Check(r) != nil {
		return
	}
	a.clearTokenCookies(w)
}

func (a *Authenticator) cookie(name, path, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: path, Domain: a.cookies.domain,
		MaxAge: maxAge, HttpOnly: true, Secure: a.cookies.secure, SameSite: a.cookies.sameSite,
	}
}

// maxAge is the whole seconds from now to exp, rounded down so that a
// cookie never outlives its token; at least 1 (0 would mean a session
// cookie, negative deletion).
func maxAge(exp, now time.Time) int {
	s := int(exp.Sub(now) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
