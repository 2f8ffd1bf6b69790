package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/gatekeep/gatekeep/store"
)

// MaxClaimsBytes bounds the JSON encoding of the application claims a
// [ClaimsFunc] returns for one token: tokens travel in every request's
// headers, which servers and proxies cap (often at 8 KiB in all).
const MaxClaimsBytes = 4 << 10

// ClaimsFunc returns the application's own claims for an access token
// about to be issued to u (tenant, email, plan...). It is called at every
// issue (login, registration, refresh, [Authenticator.IssueTokens]), so a
// change to the user or the application's data shows in the next
// refreshed token. Values must encode with encoding/json. An error fails
// the issue with ErrUnavailable: a token is never issued without its
// claims.
type ClaimsFunc func(ctx context.Context, u store.User) (map[string]any, error)

// reservedClaims are the names gatekeep's tokens own: the registered
// claims it writes, the header's typ, and the username claim.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "sid": true, "roles": true, "typ": true, "preferred_username": true,
}

// ErrReservedClaim means a [ClaimsFunc] returned a claim name gatekeep
// owns (iss sub aud exp nbf iat jti sid roles typ preferred_username);
// [ReservedClaimError] names it. It is reported beside ErrUnavailable when
// a token was being issued.
var ErrReservedClaim = errors.New("auth: reserved claim name")

// ReservedClaimError names the reserved claim a ClaimsFunc returned.
type ReservedClaimError struct{ Name string }

// Error implements error.
func (e *ReservedClaimError) Error() string {
	return fmt.Sprintf("auth: the claim %q is reserved by gatekeep", e.Name)
}

// Is reports whether target is ErrReservedClaim.
func (e *ReservedClaimError) Is(target error) bool { return target == ErrReservedClaim }

// CheckClaims reports whether claims may go into an access token: no
// reserved name (an error matching ErrReservedClaim naming it), values
// encoding/json can encode, and at most [MaxClaimsBytes] encoded. It is
// what every issue applies to a [ClaimsFunc]'s result; call it at start-up
// to refuse a bad claim set before any login does.
func CheckClaims(claims map[string]any) error {
	names := make([]string, 0, len(claims))
	for name := range claims {
		names = append(names, name)
	}
	sort.Strings(names) // the error names the first, deterministically
	for _, name := range names {
		if reservedClaims[name] || name == "" {
			return &ReservedClaimError{Name: name}
		}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return fmt.Errorf("auth: the application claims do not encode as JSON: %w", err)
	}
	if len(b) > MaxClaimsBytes {
		return fmt.Errorf("auth: the application claims encode to %d bytes, more than %d", len(b), MaxClaimsBytes)
	}
	return nil
}

// WithClaims adds the application's own claims to every access token
// gatekeep issues, from fn (see [ClaimsFunc]). Read them behind the
// middleware with [ClaimsAs] or [Principal.DecodeClaims]; another service
// verifying the tokens reads them alike. Claims are as public as the token:
// never put a secret in one. Default none.
func WithClaims(fn ClaimsFunc) Option { return option(func(c *config) { c.claims = fn }) }

// WithRevokePreviousOnRefresh makes each refresh also revoke the access
// token issued beside the refresh token it spends, so at most one access
// token per session works at a time (an access token leaked from an old
// pair stops at the next refresh rather than at its expiry). The cost is
// one revocation write per refresh, kept until that token would have
// expired. Default off: an access token works until it expires, its
// session ends or its user is revoked.
func WithRevokePreviousOnRefresh() Option {
	return option(func(c *config) { c.revokePrevious = true })
}

// appClaims runs the ClaimsFunc for u, checking its result.
func (a *Authenticator) appClaims(ctx context.Context, u *store.User) (map[string]any, error) {
	if a.cfg.claims == nil {
		return nil, nil
	}
	cp := *u
	cp.Roles = append([]string(nil), u.Roles...)
	cp.PasswordHash = "" // never the application's business
	extra, err := a.cfg.claims(ctx, cp)
	if err == nil {
		err = CheckClaims(extra)
	}
	if err != nil {
		// The hook's error is the application's own; log that it failed
		// and, for a refused claim, which name, never a value.
		attrs := []slog.Attr{slog.String("user_id", u.ID)}
		var rc *ReservedClaimError
		if errors.As(err, &rc) {
			attrs = append(attrs, slog.String("claim", rc.Name))
		}
		a.log.LogAttrs(ctx, slog.LevelError, "auth.claims_failed", attrs...)
		return nil, fmt.Errorf("%w: application claims: %w", ErrUnavailable, err)
	}
	return extra, nil
}
