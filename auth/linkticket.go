package auth

import (
	"context"
	"errors"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// This file is what linking an external identity to a signed-in user
// (package oidc) needs of an Authenticator: a signed ticket naming the
// user, carried through the provider's round trip.

// LinkTicket is the typ of a ticket from [Authenticator.IssueLinkTicket].
// It is never accepted in place of any other token, nor the other way
// round.
const LinkTicket token.Type = "link+jwt"

// MaxLinkTicketTTL is the longest life [Authenticator.IssueLinkTicket]
// gives a ticket.
const MaxLinkTicketTTL = time.Hour

// IssueLinkTicket returns a ticket naming user userID, whom the caller has
// authenticated (a request with a valid access token), valid for ttl (at
// most [MaxLinkTicketTTL]): a token of type [LinkTicket] signed by the
// Authenticator's signer. It carries no access; [Authenticator.VerifyLinkTicket]
// reads it back, so a value kept where the client can change it (a
// cookie) still names the user it was issued for.
func (a *Authenticator) IssueLinkTicket(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	if userID == "" {
		return "", describe(ErrNotFound, "no such user")
	}
	if ttl <= 0 || ttl > MaxLinkTicketTTL {
		return "", describe(ErrInvalidRequest, "a link ticket lives between 1ns and 1h")
	}
	now := a.cfg.now()
	t, err := a.signer.Sign(LinkTicket, &token.Claims{
		Issuer: a.cfg.issuer, Subject: userID, Audience: a.cfg.audience,
		ExpiresAt: now.Add(ttl), IssuedAt: now.Truncate(time.Second), ID: store.NewID(),
	})
	if err != nil {
		return "", describe(ErrUnavailable, "the link ticket could not be signed")
	}
	return t, nil
}

// VerifyLinkTicket returns the user a ticket from
// [Authenticator.IssueLinkTicket] names. A ticket that is malformed, of
// another type, past its expiry, or issued before its user's tokens were
// revoked (logout-all, a password change or reset) is ErrInvalidToken.
func (a *Authenticator) VerifyLinkTicket(ctx context.Context, ticket string) (string, error) {
	if ticket == "" {
		return "", describe(ErrInvalidToken, "no link ticket")
	}
	c, err := a.verifier.Verify(ctx, LinkTicket, ticket)
	if err != nil {
		return "", verifyErr(err)
	}
	if c.Subject == "" || c.ExpiresAt.IsZero() {
		return "", describe(ErrInvalidToken, "the ticket lacks sub or exp")
	}
	if !a.cfg.now().Before(c.ExpiresAt) {
		return "", describe(ErrInvalidToken, "the ticket has expired")
	}
	if err := a.checkIssuerAudience(c); err != nil {
		return "", err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return "", err
	}
	return c.Subject, nil
}

// ChallengeSecondFactor is what a sign-in outside this package (an OpenID Connect
// callback) checks after its own first factor, as [Authenticator.Login]
// does after the password: nil when user userID has no confirmed second
// factor, else a [*MFARequiredError] with a fresh mfa+jwt token to
// complete at [Authenticator.VerifyMFA] (or the throttle's error while the
// user's codes are locked out). ErrNotFound when the user is missing.
func (a *Authenticator) ChallengeSecondFactor(ctx context.Context, userID string, cl Client) error {
	if userID == "" {
		return describe(ErrNotFound, "no such user")
	}
	u, err := a.st.User(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return describe(ErrNotFound, "no such user")
	case err != nil:
		return storeErr("loading the user", err)
	}
	return a.secondFactorGate(ctx, u, cl)
}
