package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

// Defaults of the options.
const (
	// DefaultStateTTL is how long a started sign-in may take.
	DefaultStateTTL = 10 * time.Minute
	// DefaultCodeTTL is the life of the one-time code of exchange mode.
	DefaultCodeTTL = 60 * time.Second
	// StateCookie is the name of the cookie binding a sign-in's state to
	// the browser that started it.
	StateCookie = "gatekeep_oidc"
	// CookiePath scopes the state cookie to the sign-in's own paths.
	CookiePath = "/auth/oidc/"
)

// DefaultScopes are an OpenID Connect provider's scopes unless configured.
var DefaultScopes = []string{gooidc.ScopeOpenID, "email", "profile"}

// Service signs users in through external providers and ends every
// sign-in in an ordinary gatekeep session ([auth.Authenticator.IssueTokens]).
// Create it with [New]; it is safe for concurrent use.
type Service struct {
	a          *auth.Authenticator
	st         store.Store
	ids        store.IdentityStore
	providers  map[string]*provider
	successURL string
	cfg        config
}

// provider is a configured Provider and its discovered OpenID Connect
// state, fetched on first use (a provider down at start does not stop the
// server; its sign-ins answer 503 until it answers).
type provider struct {
	Provider
	oidc bool

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *gooidc.IDTokenVerifier
	// failedAt is the last failed discovery: for discoveryBackoff after
	// it, sign-ins answer 503 at once rather than each waiting on a
	// provider that does not answer.
	failedAt time.Time
}

// discoveryBackoff is how long a failed discovery is not retried.
const discoveryBackoff = 5 * time.Second

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// New returns a Service signing users in to a through providers, keeping
// identity links in st, which must implement [store.IdentityStore] (every
// store of this module does) and hold a's users. successURL is where the
// browser is sent after a sign-in: with the session cookies set in cookie
// mode ([auth.WithCookies]), else with "#code=<one-time code>" appended,
// for POST /auth/oidc/exchange. New performs no network I/O and returns
// errors wrapping [ErrInvalidConfig].
func New(a *auth.Authenticator, st store.Store, successURL string, providers []Provider, opts ...Option) (*Service, error) {
	if a == nil || st == nil {
		return nil, fmt.Errorf("%w: nil authenticator or store", ErrInvalidConfig)
	}
	ids, ok := st.(store.IdentityStore)
	if !ok {
		return nil, fmt.Errorf("%w: the store does not implement store.IdentityStore", ErrInvalidConfig)
	}
	if !redirectURL(successURL) {
		return nil, fmt.Errorf("%w: the success URL must be an absolute path or an http(s) URL without a fragment", ErrInvalidConfig)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.errorURL != "" && !redirectURL(cfg.errorURL) {
		return nil, fmt.Errorf("%w: the error URL must be an absolute path or an http(s) URL without a fragment", ErrInvalidConfig)
	}
	if cfg.stateTTL < time.Minute || cfg.stateTTL > time.Hour {
		return nil, fmt.Errorf("%w: the state lifetime must be between 1m and 1h", ErrInvalidConfig)
	}
	if cfg.codeTTL < time.Second || cfg.codeTTL > auth.MaxGrantTTL {
		return nil, fmt.Errorf("%w: the code lifetime must be between 1s and 5m", ErrInvalidConfig)
	}
	s := &Service{a: a, st: st, ids: ids, providers: map[string]*provider{}, successURL: successURL, cfg: cfg}
	for _, p := range providers {
		if err := checkProvider(p); err != nil {
			return nil, err
		}
		if _, dup := s.providers[p.Name]; dup {
			return nil, fmt.Errorf("%w: provider %q configured twice", ErrInvalidConfig, p.Name)
		}
		pp := &provider{Provider: p, oidc: p.Issuer != ""}
		if len(pp.Scopes) == 0 && pp.oidc {
			pp.Scopes = slices.Clone(DefaultScopes)
		}
		if pp.oidc && !slices.Contains(pp.Scopes, gooidc.ScopeOpenID) {
			return nil, fmt.Errorf("%w: provider %q: the scopes of an OpenID Connect provider must include openid", ErrInvalidConfig, p.Name)
		}
		s.providers[p.Name] = pp
	}
	if len(s.providers) == 0 {
		return nil, fmt.Errorf("%w: no provider", ErrInvalidConfig)
	}
	return s, nil
}

// redirectURL reports whether raw may be a redirect's target: a path or an
// http(s) URL, without a fragment.
func redirectURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && raw != "" && u.Fragment == "" && (u.Scheme == "" || u.Scheme == "https" || u.Scheme == "http")
}

func checkProvider(p Provider) error {
	switch {
	case !validName.MatchString(p.Name):
		return fmt.Errorf("%w: provider name %q: lower-case letters, digits and '-', at most 32", ErrInvalidConfig, p.Name)
	case p.ClientID == "":
		return fmt.Errorf("%w: provider %q: no client id", ErrInvalidConfig, p.Name)
	case p.Issuer != "" && p.UserInfo != nil:
		return fmt.Errorf("%w: provider %q: set Issuer (OpenID Connect) or UserInfo (OAuth 2.0), not both", ErrInvalidConfig, p.Name)
	case p.Issuer == "" && (p.UserInfo == nil || p.Endpoint.AuthURL == "" || p.Endpoint.TokenURL == ""):
		return fmt.Errorf("%w: provider %q: no issuer, and no endpoint and userinfo for plain OAuth 2.0", ErrInvalidConfig, p.Name)
	}
	for what, raw := range map[string]string{"redirect URL": p.RedirectURL, "issuer": p.Issuer} {
		if raw == "" && what == "issuer" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return fmt.Errorf("%w: provider %q: the %s must be an https URL (http only on loopback)", ErrInvalidConfig, p.Name, what)
		}
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// setup returns p's OAuth 2.0 configuration, discovering an OpenID Connect
// provider on first use.
func (s *Service) setup(p *provider) (*oauth2.Config, *gooidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	if !p.failedAt.IsZero() && s.cfg.now().Sub(p.failedAt) < discoveryBackoff {
		return nil, nil, fmt.Errorf("%w: discovery of %s failed moments ago", ErrProviderUnavailable, p.Name)
	}
	ep := p.Endpoint
	if p.oidc {
		// go-oidc keeps the client of this context (not the context) for
		// fetching the JWKS later.
		ctx := gooidc.ClientContext(context.Background(), s.cfg.client)
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		op, err := gooidc.NewProvider(dctx, p.Issuer)
		if err != nil {
			p.failedAt = s.cfg.now()
			return nil, nil, fmt.Errorf("%w: discovery of %s failed", ErrProviderUnavailable, p.Name)
		}
		ep = op.Endpoint()
		p.verifier = op.VerifierContext(ctx, &gooidc.Config{ClientID: p.ClientID, Now: s.cfg.now})
	}
	p.oauth = &oauth2.Config{
		ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		Endpoint: ep, RedirectURL: p.RedirectURL, Scopes: p.Scopes,
	}
	return p.oauth, p.verifier, nil
}

// flow is what the state cookie carries: the values one sign-in started
// with, checked at its callback.
type flow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
	// Link is set when a signed-in user started the flow to link an
	// identity (POST /auth/oidc/{provider}/link): an
	// [auth.LinkTicket] naming the user, signed, so that the cookie, which
	// the client could rewrite, cannot name another user.
	Link string `json:"l,omitempty"`
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Routes returns the endpoints of provider sign-in, in the form of
// [auth.Authenticator.Routes], for the same three routers:
//
//	GET  /auth/oidc/{provider}/start     GET    /auth/oidc/{provider}/callback
//	POST /auth/oidc/exchange             POST   /auth/oidc/{provider}/link
//	GET  /auth/identities                DELETE /auth/identities/{id}
func (s *Service) Routes() []auth.Route {
	return []auth.Route{
		{Pattern: "/auth/oidc/{provider}/start", Handler: s.StartHandler()},
		{Pattern: "/auth/oidc/{provider}/callback", Handler: s.CallbackHandler()},
		{Pattern: "/auth/oidc/{provider}/link", Handler: s.LinkHandler()},
		{Pattern: "/auth/oidc/exchange", Handler: s.ExchangeHandler()},
		{Pattern: "/auth/identities", Handler: s.IdentitiesHandler()},
		{Pattern: "/auth/identities/{id}", Handler: s.DeleteIdentityHandler()},
	}
}

// Mount registers [Service.Routes] on mux.
func (s *Service) Mount(mux *http.ServeMux) {
	for _, rt := range s.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
}

// fail writes err's response: this package's errors here, the rest
// through the Authenticator's error handler.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := response(err); ok {
		s.cfg.log.LogAttrs(r.Context(), slog.LevelWarn, "oidc.failed", slog.String("error", e.Description))
		e.Write(w)
		return
	}
	s.a.Fail(w, r, err)
}

// failCallback is fail for a callback: with an error URL
// ([WithErrorURL]), a 303 there with only the error's code in the query.
func (s *Service) failCallback(w http.ResponseWriter, r *http.Request, err error) {
	if s.cfg.errorURL == "" {
		s.fail(w, r, err)
		return
	}
	e, ok := response(err)
	if !ok {
		e = auth.ResponseFor(err)
	}
	s.cfg.log.LogAttrs(r.Context(), slog.LevelWarn, "oidc.failed", slog.String("error", e.Code))
	u, _ := url.Parse(s.cfg.errorURL) // checked by New
	q := u.Query()
	q.Set("error", e.Code)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// method answers 405 unless r's method is m (HEAD counts as GET).
func (s *Service) method(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	auth.ErrorResponse{Status: http.StatusMethodNotAllowed, Code: auth.CodeInvalidRequest,
		Description: "method not allowed", Allow: m}.Write(w)
	return false
}

// providerOf finds the {provider} of r's path, from the router's path
// value or else the segment before the last.
func (s *Service) providerOf(r *http.Request) (*provider, error) {
	name := r.PathValue("provider")
	if name == "" {
		segs := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
		if len(segs) >= 2 {
			name = segs[len(segs)-2]
		}
	}
	p, ok := s.providers[name]
	if !ok {
		return nil, ErrUnknownProvider
	}
	return p, nil
}

func (s *Service) stateCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: StateCookie, Value: value, Path: CookiePath, MaxAge: maxAge,
		// Lax: the callback is a top-level navigation from the provider's
		// site, which Strict would send without the cookie.
		HttpOnly: true, Secure: !s.cfg.insecureCookie, SameSite: http.SameSiteLaxMode,
	}
}

// StartHandler returns the handler of GET /auth/oidc/{provider}/start:
// a 302 to the provider's authorization endpoint with a fresh state,
// nonce and PKCE S256 challenge, the three remembered in a short-lived
// HttpOnly cookie scoped to /auth/oidc/; 404 for an unknown provider, 503
// when the provider's discovery fails.
func (s *Service) StartHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodGet) {
			return
		}
		p, err := s.providerOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		to, err := s.begin(w, p, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusFound)
	})
}

// begin starts a flow with p, setting its state cookie on w, and returns
// the provider's authorization URL; link is the link ticket of a flow
// that links rather than signs in.
func (s *Service) begin(w http.ResponseWriter, p *provider, link string) (string, error) {
	oc, _, err := s.setup(p)
	if err != nil {
		return "", err
	}
	f := flow{Provider: p.Name, State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Expires: s.cfg.now().Add(s.cfg.stateTTL).Unix(), Link: link}
	raw, _ := json.Marshal(f) // a struct of strings always encodes
	http.SetCookie(w, s.stateCookie(base64.RawURLEncoding.EncodeToString(raw), int(s.cfg.stateTTL/time.Second)))
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.oidc {
		opts = append(opts, gooidc.Nonce(f.Nonce))
	}
	return oc.AuthCodeURL(f.State, opts...), nil
}

// readFlow returns the flow of r's state cookie if it belongs to p, is
// live, and carries the callback's state.
func (s *Service) readFlow(r *http.Request, p *provider) (*flow, error) {
	c, err := r.Cookie(StateCookie)
	if err != nil {
		return nil, fmt.Errorf("%w: no state cookie", ErrState)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f flow
	if err != nil || json.Unmarshal(raw, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return nil, fmt.Errorf("%w: malformed state cookie", ErrState)
	}
	got := r.URL.Query().Get("state")
	switch {
	case f.Provider != p.Name:
		return nil, fmt.Errorf("%w: the sign-in was started with another provider", ErrState)
	case subtle.ConstantTimeCompare([]byte(got), []byte(f.State)) != 1:
		return nil, fmt.Errorf("%w: state mismatch", ErrState)
	case !s.cfg.now().Before(time.Unix(f.Expires, 0)):
		return nil, fmt.Errorf("%w: the sign-in expired", ErrState)
	}
	return &f, nil
}

// onceID is the UseOnce id of a spent value: a hash, so the store never
// holds the value itself.
func onceID(kind, v string) string {
	h := sha256.Sum256([]byte(v))
	return "oidc:" + kind + ":" + hex.EncodeToString(h[:16])
}

// CallbackHandler returns the handler of GET
// /auth/oidc/{provider}/callback: it checks the state against the
// browser's cookie (and spends it), exchanges the code with the PKCE
// verifier, verifies the ID token (signature by the provider's JWKS,
// issuer, audience, expiry, nonce) or asks a plain OAuth 2.0 provider's
// UserInfo, finds or creates the linked user, and ends with a 303 to the
// success URL: with the session cookies in cookie mode, else with a
// one-time "#code=" for POST /auth/oidc/exchange (always the code for a
// user with a second factor, whose exchange answers the challenge). A flow
// started by [Service.LinkHandler] links instead and goes to the success
// URL with "#linked=<provider>". No token ever travels in the URL.
// Failures: 400 invalid_request (state), 401 (denied, code, ID token or
// link ticket refused), 404 (provider), 409 identity_linked (link of
// another user's account), 503 (provider or store down), or with
// [WithErrorURL] a 303 there with "?error=<code>"; a failed callback
// creates nothing.
func (s *Service) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodGet) {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		userID, linked, err := s.callback(w, r)
		if err != nil {
			s.failCallback(w, r, err)
			return
		}
		ip := slog.String("ip", s.a.ClientIP(r).String())
		if linked != "" {
			// The user was signed in already: no new session.
			s.cfg.log.LogAttrs(r.Context(), slog.LevelInfo, "oidc.linked",
				slog.String("user_id", userID), slog.String("provider", linked), ip)
			http.Redirect(w, r, s.successURL+"#linked="+url.QueryEscape(linked), http.StatusSeeOther)
			return
		}
		ctx := r.Context()
		provider := ""
		if p, err := s.providerOf(r); err == nil {
			provider = p.Name
		}
		s.cfg.log.LogAttrs(ctx, slog.LevelInfo, "oidc.signin",
			slog.String("user_id", userID), slog.String("provider", provider), ip)
		mfa := s.a.ChallengeSecondFactor(ctx, userID, s.a.ClientOf(r))
		if mfa != nil && !errors.Is(mfa, auth.ErrMFARequired) {
			s.failCallback(w, r, mfa)
			return
		}
		// A user with a second factor gets no cookies here: the one-time
		// code's exchange answers {"mfa_required"} as a password login does.
		if s.a.CookieMode() && mfa == nil {
			resp, err := s.a.IssueTokens(ctx, userID, s.a.ClientOf(r))
			if err != nil {
				s.failCallback(w, r, err)
				return
			}
			s.a.SetTokenCookies(w, resp)
			http.Redirect(w, r, s.successURL, http.StatusSeeOther)
			return
		}
		code, _, err := s.a.IssueGrant(ctx, userID, s.cfg.codeTTL)
		if err != nil {
			s.failCallback(w, r, err)
			return
		}
		http.Redirect(w, r, s.successURL+"#code="+url.QueryEscape(code), http.StatusSeeOther)
	})
}

// callback runs the checks of a callback and returns the signed-in user,
// or, for a flow started by POST /auth/oidc/{provider}/link, the user the
// identity is now linked to and the provider's name as linked.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) (userID, linked string, err error) {
	ctx := r.Context()
	p, err := s.providerOf(r)
	if err != nil {
		return "", "", err
	}
	f, err := s.readFlow(r, p)
	// The cookie is spent by this callback, whatever its outcome.
	http.SetCookie(w, s.stateCookie("", -1))
	if err != nil {
		return "", "", err
	}
	first, err := s.st.UseOnce(ctx, onceID("state", f.State), time.Unix(f.Expires, 0))
	if err != nil {
		return "", "", fmt.Errorf("%w: spending the state: %w", auth.ErrUnavailable, err)
	}
	if !first {
		return "", "", fmt.Errorf("%w: the state was used already", ErrState)
	}
	linkTo := ""
	if f.Link != "" {
		// Checked before the code is spent: a ticket of a user signed out
		// everywhere since (or forged) links nothing.
		if linkTo, err = s.a.VerifyLinkTicket(ctx, f.Link); err != nil {
			return "", "", err
		}
	}
	q := r.URL.Query()
	if q.Get("error") != "" || q.Get("code") == "" {
		return "", "", ErrDenied
	}
	oc, verifier, err := s.setup(p)
	if err != nil {
		return "", "", err
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, s.cfg.client)
	tok, err := oc.Exchange(hctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return "", "", ErrCode
		}
		return "", "", fmt.Errorf("%w: token endpoint of %s", ErrProviderUnavailable, p.Name)
	}
	var id *ExternalIdentity
	if p.oidc {
		id, err = s.verifyIDToken(hctx, verifier, tok, f.Nonce)
	} else {
		id, err = p.UserInfo.Identity(ctx, oc.Client(hctx, tok))
		if err == nil && (id == nil || id.Issuer == "" || id.Subject == "") {
			err = fmt.Errorf("%w: the provider named no account", ErrProviderUnavailable)
		}
	}
	if err != nil {
		return "", "", err
	}
	if linkTo != "" {
		if err := s.linkTo(ctx, p.Name, id, linkTo); err != nil {
			return "", "", err
		}
		return linkTo, p.Name, nil
	}
	userID, err = s.link(ctx, p.Name, id)
	return userID, "", err
}

// verifyIDToken checks tok's ID token and returns its identity.
func (s *Service) verifyIDToken(ctx context.Context, v *gooidc.IDTokenVerifier, tok *oauth2.Token, nonce string) (*ExternalIdentity, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fmt.Errorf("%w: no ID token in the token response", ErrIDToken)
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	// An attack: an ID token captured from another sign-in (replayed, or
	// injected with a code of the attacker's) carries another nonce.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash mismatch", ErrIDToken)
		}
	}
	var c struct {
		Email             string `json:"email"`
		EmailVerified     any    `json:"email_verified"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: undecodable claims", ErrIDToken)
	}
	// Some providers send "true" as a string; anything but true is false.
	verified := c.EmailVerified == true || c.EmailVerified == "true"
	return &ExternalIdentity{Issuer: idt.Issuer, Subject: idt.Subject,
		Email: c.Email, EmailVerified: verified && c.Email != "", PreferredUsername: c.PreferredUsername}, nil
}

// ExchangeHandler returns the handler of POST /auth/oidc/exchange: body
// {"code"} with the one-time code of a callback's redirect; 200 with the
// token pair ([auth.TokenResponse]); 400 invalid_request for a bad body;
// 401 invalid_token for a code that is unknown, expired (after 60 s by
// default) or used already: a code works once. For a user with a
// confirmed second factor, 200 {"mfa_required":true,...}
// ([auth.MFARequiredError]) and no tokens, as a password login answers.
func (s *Service) ExchangeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodPost) {
			return
		}
		var body struct {
			Code string `json:"code"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		resp, err := s.a.RedeemGrant(r.Context(), body.Code, s.a.ClientOf(r))
		var mfa *auth.MFARequiredError
		if errors.As(err, &mfa) {
			writeJSON(w, http.StatusOK, mfa) // no tokens: the second factor comes first
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.a.WriteTokens(w, r, http.StatusOK, resp)
	})
}

// decodeJSON reads one JSON object of at most auth.MaxBodyBytes into dst,
// refusing unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return fmt.Errorf("%w: the body must be application/json", auth.ErrInvalidRequest)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, auth.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return auth.ErrPayloadTooLarge
		}
		return fmt.Errorf("%w: the body is not a JSON object of the expected fields", auth.ErrInvalidRequest)
	}
	if dec.More() {
		return fmt.Errorf("%w: the body holds more than one JSON value", auth.ErrInvalidRequest)
	}
	return nil
}
