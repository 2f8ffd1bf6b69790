package auth

import (
	"context"
	"log/slog"

	"github.com/gatekeep/gatekeep/token"
)

// WithLegacyTokens makes the request side also accept access tokens in the
// shape a Node express application signed them with jsonwebtoken, checked
// by v (see [token.LegacyVerifier]: the old application's key, its
// algorithm pinned; header typ "JWT" or none; no sid; sub or id as the
// user id; at most [token.LegacyMaxLifetime] long), for the time a
// migration takes. Default off; a nil v leaves it off. Turn it off as
// soon as the old tokens have expired: it widens what the service
// accepts.
//
// Only a token the main path refuses for its typ (not at+jwt) is tried as
// a legacy token, so gatekeep's own tokens are never judged by these
// rules, and refresh and reset tokens (typ refresh+jwt, reset+jwt) are
// refused by both. A legacy token
//
//   - has the roles of a new user ("user"), and [DefaultAdminRole] too
//     when its admin claim is the JSON value true: no other claim gives
//     a role;
//   - belongs to no session ([Principal.SessionID] is empty,
//     [Principal.Legacy] is true) and is never refreshed: there is no
//     refresh token for it, and POST /auth/refresh refuses it;
//   - is checked against the Revoker like any other: its own id
//     ([token.LegacyClaims.ID], so POST /auth/logout ends it) and the
//     user's valid-after time (so POST /auth/logout-all, a password change
//     or a role change ends every legacy token of the user);
//   - need not carry the iss and aud of [WithIssuer] and [WithAudience]
//     (express guides sign neither), but one it carries must be those;
//   - is named in the audit log: each acceptance logs auth.legacy_token
//     with the user id, so the log shows who still uses one.
func WithLegacyTokens(v *token.LegacyVerifier) GateOption {
	return gateOption(func(c *gateConfig) { c.legacy = v })
}

// authenticateLegacy is [Gate.AuthenticateToken] for a token the main
// path refused for its typ.
func (g *Gate) authenticateLegacy(ctx context.Context, tok string, dst *Principal) error {
	lc, err := g.legacy.Verify(ctx, tok)
	if err != nil {
		return verifyErr(err)
	}
	roles := append([]string(nil), defaultRoles...)
	if lc.Admin {
		roles = append(roles, DefaultAdminRole)
	}
	c := &token.Claims{
		Issuer: lc.Issuer, Subject: lc.Subject, Audience: lc.Audience,
		ExpiresAt: lc.ExpiresAt, NotBefore: lc.NotBefore, IssuedAt: lc.IssuedAt,
		ID: lc.ID, Roles: roles, Extra: lc.Raw,
	}
	// Express guides sign neither iss nor aud; one that is there must be ours.
	if lc.Issuer != "" && g.issuer != "" && lc.Issuer != g.issuer ||
		lc.Audience != nil && len(g.audience) > 0 && !intersects(lc.Audience, g.audience) {
		return describe(ErrInvalidToken, "the token has the wrong issuer or audience")
	}
	if err := g.checkRevoked(ctx, c); err != nil {
		return err
	}
	g.log.LogAttrs(ctx, slog.LevelInfo, "auth.legacy_token",
		slog.String("user_id", lc.Subject), slog.Bool("admin", lc.Admin))
	*dst = Principal{UserID: lc.Subject, TokenID: lc.ID, Roles: roles, Legacy: true, Claims: c}
	return nil
}
