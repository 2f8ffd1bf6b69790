package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// Authenticator wires a token Signer and Verifier, a [store.Store] and a
// password [Hasher] together. It authenticates requests ([Authenticator.Authenticate],
// [Authenticator.Require], [Authenticator.Optional]), guards routes by role
// ([Authenticator.Authorize]) and serves the HTTP API's handlers
// ([Authenticator.Mount]). It is safe for concurrent use.
type Authenticator struct {
	signer   token.Signer
	verifier token.Verifier
	// jwt is verifier when it is a *token.JWTVerifier, which can read the
	// username claim; other Verifiers give principals without a username.
	jwt       *token.JWTVerifier
	st        store.Store
	cfg       config
	log       *slog.Logger
	hashSlots chan struct{}
	dummyHash string
	// ipInflight counts logins per client IP being checked right now.
	ipInflight inflight
	// health rate-limits GET /healthz's write probe.
	health writeProbe

	// Password-reset notifications run in the background (see Close).
	notifySlots    chan struct{}
	bgMu           sync.Mutex
	bgClosed       bool
	bg             sync.WaitGroup
	warnNoNotifier sync.Once

	// cookies is nil unless cookie mode is on.
	cookies *cookieMode
}

// New returns an Authenticator signing with signer, verifying with
// verifier and keeping state in st. Configure verifier with the same
// issuer, audience, leeway and clock as the options given here. New
// validates every argument and option and returns an error wrapping
// ErrInvalidConfig; it never panics.
//
// Defaults: access tokens 15 minutes, refresh tokens (and session idle
// timeout) 7 days, sessions at most 30 days, leeway 30 seconds, argon2id
// passwords, 10 failed logins per account in 15 minutes.
func New(signer token.Signer, verifier token.Verifier, st store.Store, opts ...Option) (*Authenticator, error) {
	switch {
	case isNil(signer):
		return nil, fmt.Errorf("%w: nil signer", ErrInvalidConfig)
	case isNil(verifier):
		return nil, fmt.Errorf("%w: nil verifier", ErrInvalidConfig)
	case isNil(st):
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	cfg := defaultConfig()
	cfg.logger = slog.Default()
	def, err := NewArgon2id(Argon2idParams{})
	if err != nil {
		return nil, err
	}
	cfg.hasher = def
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidConfig)
		}
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{
		signer:    signer,
		verifier:  verifier,
		st:        st,
		cfg:       cfg,
		log:       cfg.logger,
		hashSlots: make(chan struct{}, cfg.maxHashes),

		notifySlots: make(chan struct{}, maxPendingNotifications),
	}
	a.jwt, _ = verifier.(*token.JWTVerifier)
	if a.jwt != nil && a.jwt.Cache() == nil && !cfg.noTokenCache {
		c, err := token.NewCache(0)
		if err != nil {
			return nil, err
		}
		if a.jwt, err = a.jwt.Cached(c); err != nil {
			return nil, err
		}
	}
	if cfg.cookies != nil {
		if a.cookies, err = newCookieMode(*cfg.cookies, cfg.insecureCookies); err != nil {
			return nil, err
		}
	}
	if cfg.notifier != nil && a.jwt == nil {
		return nil, fmt.Errorf("%w: password reset needs a *token.JWTVerifier to read its tokens' claims", ErrInvalidConfig)
	}
	// The hash that unknown usernames are verified against, so that they
	// cost what a wrong password costs.
	var pw [24]byte
	_, _ = rand.Read(pw[:])
	if a.dummyHash, err = cfg.hasher.Hash(hex.EncodeToString(pw[:])); err != nil {
		return nil, fmt.Errorf("%w: the hasher cannot hash", ErrInvalidConfig)
	}
	return a, nil
}

// isNil reports whether v is nil or a typed nil pointer, map, func...
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// UserID is the token's sub.
	UserID string
	// Username is the canonical username, from the access token's
	// preferred_username claim. It is empty when the Verifier is not a
	// *token.JWTVerifier, which is the only kind that can read it.
	Username string
	// SessionID is the token's sid: the login it belongs to.
	SessionID string
	// TokenID is the token's jti.
	TokenID string
	// Roles are the roles the token carries, as they were at its issue.
	// The slice may be shared with the verified-token cache: read it, or
	// copy it before changing an element (append is safe).
	Roles []string
	// Claims are all the verified claims.
	Claims *token.Claims
}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// accessExtra is the application claim of access tokens.
type accessExtra struct {
	Username string `json:"preferred_username,omitempty"`
}

// AuthenticateToken verifies an access token obtained by the caller (from
// a WebSocket subprotocol, say) exactly as [Authenticator.Authenticate]
// does with a header's.
func (a *Authenticator) AuthenticateToken(ctx context.Context, tok string) (*Principal, error) {
	var (
		c     *token.Claims
		extra accessExtra
		err   error
	)
	if a.jwt != nil {
		c, err = token.VerifyInto(ctx, a.jwt, token.Access, tok, &extra)
	} else {
		c, err = a.verifier.Verify(ctx, token.Access, tok)
	}
	if err != nil {
		return nil, verifyErr(err)
	}
	if err := a.checkClaims(c); err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	return &Principal{
		UserID:    c.Subject,
		Username:  extra.Username,
		SessionID: c.SessionID,
		TokenID:   c.ID,
		Roles:     c.Roles,
		Claims:    c,
	}, nil
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
func (a *Authenticator) checkClaims(c *token.Claims) error {
	if c == nil || c.Subject == "" || c.ID == "" || c.SessionID == "" || c.IssuedAt.IsZero() {
		return describe(ErrInvalidToken, "the token lacks sub, jti, sid or iat")
	}
	return a.checkIssuerAudience(c)
}

// checkIssuerAudience requires the configured issuer and audience.
func (a *Authenticator) checkIssuerAudience(c *token.Claims) error {
	if a.cfg.issuer != "" && c.Issuer != a.cfg.issuer {
		return describe(ErrInvalidToken, "the token has the wrong issuer")
	}
	if len(a.cfg.audience) > 0 && !intersects(c.Audience, a.cfg.audience) {
		return describe(ErrInvalidToken, "the token has the wrong audience")
	}
	return nil
}

// checkRevoked asks the Revoker; a store that cannot answer fails closed.
func (a *Authenticator) checkRevoked(ctx context.Context, c *token.Claims) error {
	revoked, err := a.st.IsRevoked(ctx, store.Check{
		TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: c.IssuedAt,
	})
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

// RevokeUser ends every session and every token of the user now: their
// access tokens stop working at once and their refresh tokens cannot be
// used. A login that starts after RevokeUser returns works.
//
// Token times have one-second resolution, so the user's valid-after time
// is set to the start of the current second (a token issued later in this
// second, by a new login, stays valid) and each of the user's live
// sessions is revoked by id (which stops the tokens issued earlier in this
// second). A login running concurrently with RevokeUser may survive it.
func (a *Authenticator) RevokeUser(ctx context.Context, userID string) error {
	now := a.cfg.now()
	until := now.Add(a.cfg.refreshTTL + a.cfg.leeway)
	sessions, err := a.st.UserSessions(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: listing sessions: %w", ErrUnavailable, err)
	}
	if err := a.st.RevokeUserBefore(ctx, userID, now.Truncate(time.Second), until); err != nil {
		return fmt.Errorf("%w: revoking the user's tokens: %w", ErrUnavailable, err)
	}
	for _, s := range sessions {
		if err := a.st.Revoke(ctx, s.ID, until); err != nil {
			return fmt.Errorf("%w: revoking a session: %w", ErrUnavailable, err)
		}
	}
	if err := a.st.DeleteUserSessions(ctx, userID); err != nil {
		return fmt.Errorf("%w: deleting sessions: %w", ErrUnavailable, err)
	}
	return nil
}
