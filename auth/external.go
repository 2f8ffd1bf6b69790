package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// This file is what sign-in flows outside this package (package oidc)
// need of an Authenticator: a one-time code standing for a sign-in, and
// delivery of a token pair the way the HTTP API delivers it.

// Grant is the typ of a sign-in code from [Authenticator.IssueGrant]. It
// is never accepted in place of an access, refresh or reset token, nor the
// other way round.
const Grant token.Type = "grant+jwt"

// MaxGrantTTL is the longest life [Authenticator.IssueGrant] gives a code.
const MaxGrantTTL = 5 * time.Minute

// IssueGrant returns a one-time code standing for a sign-in of user
// userID, whom the caller has authenticated itself (an OpenID Connect
// callback), valid for ttl (at most [MaxGrantTTL]): a token of type
// [Grant] signed by the Authenticator's signer, so any instance sharing
// the keys redeems it. It carries no access: only
// [Authenticator.RedeemGrant] turns it, once, into a session. It is meant
// for a redirect's URL, where a token pair must never travel.
func (a *Authenticator) IssueGrant(ctx context.Context, userID string, ttl time.Duration) (code string, expiresAt time.Time, err error) {
	if userID == "" {
		return "", time.Time{}, describe(ErrNotFound, "no such user")
	}
	if ttl <= 0 || ttl > MaxGrantTTL {
		return "", time.Time{}, describe(ErrInvalidRequest, "a grant lives between 1ns and 5m")
	}
	now := a.cfg.now()
	exp := now.Add(ttl)
	code, err = a.signer.Sign(Grant, &token.Claims{
		Issuer: a.cfg.issuer, Subject: userID, Audience: a.cfg.audience,
		ExpiresAt: exp, IssuedAt: now.Truncate(time.Second), ID: store.NewID(),
	})
	if err != nil {
		return "", time.Time{}, describe(ErrUnavailable, "the sign-in code could not be signed")
	}
	return code, exp, nil
}

// RedeemGrant spends a code from [Authenticator.IssueGrant] and starts a
// session for its user ([Authenticator.IssueTokens]). A code that is
// malformed, of another type, past its expiry (checked to the instant,
// without leeway), issued before its user's tokens were revoked, or
// already redeemed is ErrInvalidToken: a code works once, spent through
// the store's UseOnce, so of concurrent redemptions exactly one succeeds.
// For a user with a confirmed second factor it returns the
// [*MFARequiredError] of [Authenticator.ChallengeSecondFactor] instead of a session.
func (a *Authenticator) RedeemGrant(ctx context.Context, code string, cl Client) (*TokenResponse, error) {
	if code == "" {
		return nil, describe(ErrInvalidRequest, "code is required")
	}
	c, err := a.verifier.Verify(ctx, Grant, code)
	if err != nil {
		return nil, verifyErr(err)
	}
	if c.Subject == "" || c.ID == "" || c.ExpiresAt.IsZero() {
		return nil, describe(ErrInvalidToken, "the code lacks sub, jti or exp")
	}
	if !a.cfg.now().Before(c.ExpiresAt) {
		return nil, describe(ErrInvalidToken, "the code has expired")
	}
	if err := a.checkIssuerAudience(c); err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	first, err := a.st.UseOnce(ctx, "auth:grant:"+c.ID, c.ExpiresAt.Add(a.cfg.leeway))
	if err != nil {
		return nil, storeErr("spending the sign-in code", err)
	}
	if !first {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.grant_replayed", slog.String("user_id", c.Subject))
		return nil, describe(ErrInvalidToken, "the code was already used")
	}
	// The code stands for a first factor only: a user with a second
	// factor gets the challenge, as Login answers it.
	err = a.ChallengeSecondFactor(ctx, c.Subject, cl)
	var resp *TokenResponse
	if err == nil {
		resp, err = a.IssueTokens(ctx, c.Subject, cl)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, describe(ErrInvalidToken, "the user no longer exists")
	}
	return resp, err
}

// CookieMode reports whether cookie mode is on ([WithCookies]).
func (a *Authenticator) CookieMode() bool { return a.cookies != nil }

// SetTokenCookies sets resp's tokens as the cookie-mode cookies, as login
// does, and reports whether it did: false (and nothing set) when cookie
// mode is off. The caller decides that the request may plant a session
// in this browser (a sign-in callback whose state it checked).
func (a *Authenticator) SetTokenCookies(w http.ResponseWriter, resp *TokenResponse) bool {
	if a.cookies == nil || resp == nil {
		return false
	}
	a.setTokenCookies(w, resp)
	return true
}

// WriteTokens writes resp with status as the HTTP API writes every token
// response (never cached; in cookie mode, for a same-origin request, the
// cookies too).
func (a *Authenticator) WriteTokens(w http.ResponseWriter, r *http.Request, status int, resp *TokenResponse) {
	a.writeTokens(w, r, status, resp)
}
