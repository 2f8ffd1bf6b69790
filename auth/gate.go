package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// A Gate is the request side of gatekeep on its own: it authenticates
// requests by their access tokens ([Gate.Authenticate], [Gate.Require],
// [Gate.Optional]) and guards routes by role ([Gate.Authorize],
// [Gate.Guard]), with nothing but a [token.Verifier] and a [store.Revoker].
// A service that only accepts the tokens another one issues (a resource
// server) holds a Gate: no signing key, no user store. Every
// [Authenticator] is built on one, so its methods of the same names are
// the Gate's. A Gate is safe for concurrent use.
//
// The whole request walk is in this file: the token is read from the
// Authorization header (or, in cookie mode, the access cookie), verified by
// the Verifier (signature, type at+jwt, expiry, issuer and audience, as it
// was configured), required to carry sub, jti, sid and iat, then checked
// against the Revoker. A Revoker that cannot answer fails the request
// closed (503).
type Gate struct {
	verifier token.Verifier
	revoker  store.Revoker
	issuer   string
	audience []string
	log      *slog.Logger
	onError  ErrorHandler
	policy   *rbac.Policy
	// cookies is nil unless cookie mode is on.
	cookies *cookieMode
	// legacy is nil unless WithLegacyTokens is given (auth/legacy.go).
	legacy *token.LegacyVerifier
	obs    Observer // nil unless WithObserver
	watch  *storeWatch
}

// RequestGuard is the request side a [*Gate] and an [*Authenticator]
// (which is built on one) share. Router adapters take it, so a verify-only
// service uses them exactly as the issuing service does.
type RequestGuard interface {
	Authenticate(r *http.Request) (*Principal, error)
	Require(next http.Handler) http.Handler
	Optional(next http.Handler) http.Handler
	Authorize(roles ...string) func(http.Handler) http.Handler
	Guard(req *rbac.Requirement) func(http.Handler) http.Handler
	// Fail renders err as the HTTP API does (see [ResponseFor]).
	Fail(w http.ResponseWriter, r *http.Request, err error)
}

var (
	_ RequestGuard = (*Gate)(nil)
	_ RequestGuard = (*Authenticator)(nil)
)

// gateConfig is what a Gate is configured with: the part of an
// Authenticator's configuration the request side reads.
type gateConfig struct {
	issuer          string
	audience        []string
	logger          *slog.Logger
	errorHandler    ErrorHandler
	policy          *rbac.Policy
	cookies         *CookieConfig
	insecureCookies bool
	legacy          *token.LegacyVerifier
	observer        Observer
}

func defaultGateConfig() gateConfig {
	return gateConfig{logger: slog.Default(), errorHandler: WriteError}
}

// NewGate returns a Gate verifying access tokens with v and asking r
// whether they were revoked. Configure v with the issuer, audience,
// leeway and clock tokens must meet, and with a cache if one is wanted
// (token.WithCache; the Gate adds none). Options are those that also
// configure an Authenticator's request side: [WithErrorHandler],
// [WithPolicy], [WithLogger], [WithCookies], [WithInsecureCookies],
// [WithIssuer] and [WithAudience] (which the Gate then requires of every
// token besides what v checks). NewGate returns an error wrapping
// ErrInvalidConfig for a nil argument or a bad option; it never panics.
//
// In cookie mode the Gate only reads the access cookie: it never sets or
// clears cookies, which the issuing service does.
func NewGate(v token.Verifier, r store.Revoker, opts ...GateOption) (*Gate, error) {
	gc := defaultGateConfig()
	for _, o := range opts {
		if isNil(o) {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidConfig)
		}
		o.applyGate(&gc)
	}
	return newGate(v, r, gc)
}

func newGate(v token.Verifier, r store.Revoker, gc gateConfig) (*Gate, error) {
	switch {
	case isNil(v):
		return nil, fmt.Errorf("%w: nil verifier", ErrInvalidConfig)
	case isNil(r):
		return nil, fmt.Errorf("%w: nil revoker", ErrInvalidConfig)
	}
	if err := gc.validate(); err != nil {
		return nil, err
	}
	g := &Gate{
		verifier: v, revoker: r, watch: newStoreWatch(gc.logger, gc.observer, nil),
		issuer: gc.issuer, audience: gc.audience,
		log: gc.logger, onError: gc.errorHandler, policy: gc.policy,
		legacy: gc.legacy, obs: gc.observer,
	}
	if gc.cookies != nil {
		var err error
		if g.cookies, err = newCookieMode(*gc.cookies, gc.insecureCookies); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (gc *gateConfig) validate() error {
	switch {
	case gc.errorHandler == nil:
		return fmt.Errorf("%w: nil error handler", ErrInvalidConfig)
	case gc.logger == nil:
		return fmt.Errorf("%w: nil logger", ErrInvalidConfig)
	}
	for _, a := range gc.audience {
		if a == "" {
			return fmt.Errorf("%w: empty audience", ErrInvalidConfig)
		}
	}
	return nil
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// UserID is the token's sub.
	UserID string
	// Username is the canonical username, from the access token's
	// preferred_username claim (empty when the token has none).
	Username string
	// SessionID is the token's sid: the login it belongs to.
	SessionID string
	// TokenID is the token's jti.
	TokenID string
	// Roles are the roles the token carries, as they were at its issue.
	// The slice may be shared with the verified-token cache: read it, or
	// copy it before changing an element (append is safe).
	Roles []string
	// Legacy is true for a token accepted by [WithLegacyTokens]: it
	// belongs to no session (SessionID is empty) and is never refreshed.
	Legacy bool
	// Claims are all the verified claims. When the token carries
	// application claims ([WithClaims]), Claims.Extra is their
	// [token.RawClaims]: read them with [ClaimsAs] or [Principal.DecodeClaims].
	Claims *token.Claims
}

// DecodeClaims decodes the token's application claims ([WithClaims]) into
// v, a pointer to a struct or map, as encoding/json does (a struct also
// sees the registered claims it declares fields for). A token without
// application claims leaves v as it is.
func (p *Principal) DecodeClaims(v any) error {
	if p == nil || p.Claims == nil {
		return nil
	}
	raw, ok := p.Claims.Extra.(token.RawClaims)
	if !ok {
		return nil
	}
	return raw.Decode(v)
}

// ClaimsAs returns the application claims ([WithClaims]) of the principal
// in ctx decoded into a T, the application's struct (or a map). ok is
// false when ctx carries no principal or its claims do not decode into a
// T; a token without application claims gives T's zero value and true.
// Each call decodes: in a handler, call it once.
func ClaimsAs[T any](ctx context.Context) (T, bool) {
	var v T
	p, ok := FromContext(ctx)
	if !ok {
		return v, false
	}
	if err := p.DecodeClaims(&v); err != nil {
		var zero T
		return zero, false
	}
	return v, true
}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalCtx is a context carrying a principal allocated with it: what
// the middleware puts in a request, one allocation where NewContext after
// Authenticate makes two.
type principalCtx struct {
	context.Context
	p Principal
}

func (c *principalCtx) Value(key any) any {
	if key == (principalKey{}) {
		return &c.p
	}
	return c.Context.Value(key)
}

// authenticateContext authenticates r and returns its context carrying
// the principal.
func (g *Gate) authenticateContext(r *http.Request) (*principalCtx, error) {
	pc := new(principalCtx)
	if err := g.authenticate(r, &pc.p); err != nil {
		return nil, err
	}
	pc.Context = r.Context()
	return pc, nil
}

// FromContext returns the principal ctx carries, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// Authenticate returns the principal of r, from the access token in its
// Authorization header (`Bearer <token>`, the scheme in any case). Tokens
// are never read from the URL. It checks, in order: exactly one
// Authorization header of the Bearer scheme with one well-formed token; the
// token's signature, type (at+jwt only), expiry, issuer and audience (the
// Verifier); sub, jti, sid and iat present; then the Revoker (token,
// session and user's valid-after time). Errors wrap ErrNoToken,
// ErrInvalidToken, ErrRevoked or, when the store cannot answer,
// ErrUnavailable: map them with [ResponseFor].
//
// In cookie mode ([WithCookies]) a request without an Authorization header
// is authenticated by its access-token cookie instead, and then refused
// with an error wrapping ErrCrossOrigin when its method is unsafe and it
// comes from another origin.
func (g *Gate) Authenticate(r *http.Request) (*Principal, error) {
	p := new(Principal)
	if err := g.authenticate(r, p); err != nil {
		return nil, err
	}
	return p, nil
}

// authenticate is [Gate.Authenticate] into dst.
func (g *Gate) authenticate(r *http.Request, dst *Principal) error {
	tok, err := bearerToken(r)
	fromHeader := err == nil
	if errors.Is(err, ErrNoToken) && g.cookies != nil {
		tok, err = g.accessFromCookie(r)
	}
	if err != nil {
		if g.obs != nil {
			g.obs.Authentication(r.Context(), outcomeOf(err))
		}
		return err
	}
	err = g.authenticateToken(r.Context(), tok, dst)
	if g.obs != nil {
		g.obs.Authentication(r.Context(), outcomeOf(err))
	}
	if err != nil && fromHeader && !isB64Token(tok) {
		// RFC 6750's b64token syntax is checked only once verification
		// has failed, to name the header's fault: a token a Verifier
		// accepts is a compact JWS, three base64url segments, which is
		// b64token already (token.Verifier's contract), so the check would
		// only cost every good request a scan of its token.
		return errNotBearer
	}
	return err
}

// AuthenticateToken verifies an access token obtained by the caller (from
// a WebSocket subprotocol, say) exactly as [Gate.Authenticate] does with a
// header's.
func (g *Gate) AuthenticateToken(ctx context.Context, tok string) (*Principal, error) {
	p := new(Principal)
	err := g.authenticateToken(ctx, tok, p)
	if g.obs != nil {
		g.obs.Authentication(ctx, outcomeOf(err))
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// authenticateToken fills dst with the principal of tok; on an error dst
// is left as it was.
func (g *Gate) authenticateToken(ctx context.Context, tok string, dst *Principal) error {
	c, err := g.verifier.Verify(ctx, token.Access, tok)
	if err != nil && g.legacy != nil && errors.Is(err, token.ErrWrongType) {
		return g.authenticateLegacy(ctx, tok, dst) // not at+jwt: perhaps an express token
	}
	if err != nil {
		return verifyErr(err)
	}
	if err := g.checkClaims(c); err != nil {
		return err
	}
	if err := g.checkRevoked(ctx, c); err != nil {
		return err
	}
	*dst = Principal{
		UserID:    c.Subject,
		Username:  c.Username,
		SessionID: c.SessionID,
		TokenID:   c.ID,
		Roles:     c.Roles,
		Claims:    c,
	}
	return nil
}

// verifyErr maps a Verifier's error: a remote key set that cannot answer
// fails closed as 503 (the token may well be good), anything else is an
// invalid token.
func verifyErr(err error) error {
	if errors.Is(err, token.ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}

// checkClaims requires what every gatekeep token carries, and the
// configured issuer and audience even when the Verifier was not told them.
func (g *Gate) checkClaims(c *token.Claims) error {
	if c == nil || c.Subject == "" || c.ID == "" || c.SessionID == "" || c.IssuedAt.IsZero() {
		return describe(ErrInvalidToken, "the token lacks sub, jti, sid or iat")
	}
	return g.checkIssuerAudience(c)
}

// checkIssuerAudience requires the configured issuer and audience.
func (g *Gate) checkIssuerAudience(c *token.Claims) error {
	if g.issuer != "" && c.Issuer != g.issuer {
		return describe(ErrInvalidToken, "the token has the wrong issuer")
	}
	if len(g.audience) > 0 && !intersects(c.Audience, g.audience) {
		return describe(ErrInvalidToken, "the token has the wrong audience")
	}
	return nil
}

// checkRevoked asks the Revoker; a store that cannot answer fails closed.
func (g *Gate) checkRevoked(ctx context.Context, c *token.Claims) error {
	t := g.watch.begin()
	revoked, err := g.revoker.IsRevoked(ctx, store.Check{
		TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: c.IssuedAt,
	})
	if err != nil || g.watch.busy() {
		g.watch.report(ctx, "IsRevoked", t, err)
	}
	if err != nil {
		return fmt.Errorf("%w: revocation check: %w", ErrUnavailable, err)
	}
	if revoked {
		return ErrRevoked
	}
	return nil
}

func intersects(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// bearerToken extracts the token of the single Authorization header
// (RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header["Authorization"] // canonical already: Values would canonicalise it again
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", describe(ErrInvalidToken, "more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", errNotBearer
	}
	// The token's b64token syntax is checked by Authenticate, after a
	// failed verification.
	return tok, nil
}

// errNotBearer refuses an Authorization header that is not one Bearer
// b64token (RFC 6750 §2.1).
var errNotBearer = describe(ErrInvalidToken, "the Authorization header is not a Bearer token")

// b64TokenByte marks the bytes of RFC 6750's b64token alphabet.
var b64TokenByte = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/") {
		t[c] = true
	}
	return t
}()

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". It is on
// every request's path: one table lookup per byte.
func isB64Token(s string) bool {
	i := 0
	for i < len(s) && b64TokenByte[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// cookieToken returns the token in the request's single cookie name: no
// cookie (or an empty one) is ErrNoToken; several of that name (cookie
// tossing from a sibling domain) or a malformed value is invalid.
func cookieToken(r *http.Request, name string) (string, error) {
	cs := r.CookiesNamed(name)
	switch {
	case len(cs) == 0 || len(cs) == 1 && cs[0].Value == "":
		return "", ErrNoToken
	case len(cs) > 1:
		return "", describe(ErrInvalidToken, "more than one token cookie")
	case !isB64Token(cs[0].Value):
		return "", describe(ErrInvalidToken, "the token cookie is malformed")
	}
	return cs[0].Value, nil
}

// crossOrigin refuses an unsafe cross-origin request, for requests
// authenticated by cookie.
func (g *Gate) crossOrigin(r *http.Request) error {
	if err := g.cookies.cop.Check(r); err != nil {
		return ErrCrossOrigin
	}
	return nil
}

// accessFromCookie reads r by its access-token cookie, refusing unsafe
// cross-origin requests before looking at the token.
func (g *Gate) accessFromCookie(r *http.Request) (string, error) {
	tok, err := cookieToken(r, g.cookies.access)
	if err != nil {
		return "", err
	}
	if err := g.crossOrigin(r); err != nil {
		return "", err
	}
	return tok, nil
}

// Fail writes the response for a request that failed with err through the
// configured error handler ([WithErrorHandler], [WriteError] by default):
// the one place the Gate, the Authenticator's handlers and the router
// adapters render errors.
func (g *Gate) Fail(w http.ResponseWriter, r *http.Request, err error) {
	g.onError(w, r, err)
}

// Require is middleware that lets a request through only with a valid
// access token, putting its [Principal] in the request context (read it
// with [FromContext]). Otherwise it answers 401 (503 when the store cannot
// answer) through the error handler.
func (g *Gate) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := g.authenticateContext(r)
		if err != nil {
			g.Fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Optional is middleware that lets requests without credentials through
// anonymously (no principal in the context) and treats requests with
// credentials as [Gate.Require] does: a presented token that fails is
// refused, never ignored.
func (g *Gate) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := g.authenticateContext(r)
		switch {
		case errors.Is(err, ErrNoToken):
			next.ServeHTTP(w, r)
		case err != nil:
			g.Fail(w, r, err)
		default:
			next.ServeHTTP(w, r.WithContext(ctx))
		}
	})
}

// principal returns the request's principal from the context, or
// authenticates it, so that guards and handlers are safe whether or not
// Require runs before them.
func (g *Gate) principal(r *http.Request) (*Principal, *http.Request, error) {
	if p, ok := FromContext(r.Context()); ok {
		return p, r, nil
	}
	ctx, err := g.authenticateContext(r)
	if err != nil {
		return nil, r, err
	}
	return &ctx.p, r.WithContext(ctx), nil
}

// Authorize returns a guard that lets a request through when its principal
// has any one of roles: 401 without a valid access token, 403
// insufficient_scope otherwise. It authenticates the request itself when
// no earlier [Gate.Require] did, so it is safe on its own.
//
// The decision is an [rbac.Requirement]: with [WithPolicy], roles honour
// the policy's inheritance and must be roles it defines; without, roles
// match exactly. A guard that cannot be built (no roles, a role the policy
// does not define, an invalid role name) denies every request with 403 and
// logs an error once, here.
func (g *Gate) Authorize(roles ...string) func(http.Handler) http.Handler {
	req, err := g.Requirement(roles...)
	if err != nil {
		g.log.LogAttrs(context.Background(), slog.LevelError, "auth.guard_invalid",
			slog.String("error", err.Error()))
		req = nil // Check on a nil requirement is false: deny.
	}
	return g.Guard(req)
}

// Requirement returns the decision [Gate.Authorize] makes for roles: any
// one of them, honouring [WithPolicy]'s inheritance when there is a
// policy, matching exactly otherwise. Router adapters build their guards
// from it.
func (g *Gate) Requirement(roles ...string) (*rbac.Requirement, error) {
	p := g.policy
	var err error
	if p == nil {
		// Each named role on its own, with no inheritance: an exact match.
		rs := make([]rbac.Role, len(roles))
		for i, name := range roles {
			rs[i] = rbac.Role{Name: name}
		}
		if p, err = rbac.NewPolicy(rs...); err != nil {
			return nil, err
		}
	}
	return rbac.NewRequirement(p, rbac.AnyRole, roles...)
}

// Guard returns middleware that lets a request through only when its
// principal meets req (roles or permissions, see [rbac.NewRequirement]);
// it answers as [Gate.Authorize] does. A nil req denies every request.
func (g *Gate) Guard(req *rbac.Requirement) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, r, err := g.principal(r)
			if err == nil {
				err = Check(req, p)
			}
			if err != nil {
				g.Fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Check applies req to p: nil when p meets it, otherwise an error wrapping
// ErrInsufficientScope whose response names req's scope (a nil req or p
// never passes). It is the decision of [Gate.Guard], for routers that
// render errors themselves.
func Check(req *rbac.Requirement, p *Principal) error {
	if p != nil && req.Check(p.Roles) {
		return nil
	}
	if req == nil {
		return ErrInsufficientScope
	}
	k := req.Kind()
	return &scopeError{scope: req.Scope(), permission: k == rbac.AllPermissions || k == rbac.AnyPermission}
}

type scopeError struct {
	scope      string
	permission bool // the requirement names permissions, not roles
}

func (e *scopeError) Error() string { return ErrInsufficientScope.Error() }
func (e *scopeError) Unwrap() error { return ErrInsufficientScope }
