package token

import (
	"context"
	"time"
)

// Type is a token's kind, written in the JOSE header's typ (RFC 8725 §3.11).
// Verification states the kind it expects and rejects every other.
type Type string

// The kinds of token gatekeep issues.
const (
	// Access is an OAuth 2.0 access token in JWT form (RFC 9068).
	Access Type = "at+jwt"
	// Refresh is a refresh token; it is never accepted as an access token.
	Refresh Type = "refresh+jwt"
	// Reset is a one-time password-reset token.
	Reset Type = "reset+jwt"
)

// Claims are the registered claims gatekeep uses plus its own, typed.
// Times are whole seconds (NumericDate); a zero time is omitted.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id
	Audience  []string  // aud: written as a string when it has one member
	ExpiresAt time.Time // exp: required
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti: set by the Signer when empty, 128 random bits
	SessionID string    // sid
	Roles     []string  // roles
	// Extra carries an application's own claims: any value that
	// encoding/json marshals to an object, merged beside the registered
	// claims on signing. See VerifyInto to read them back typed.
	Extra any
}

// Signer issues tokens. Implementations are safe for concurrent use.
type Signer interface {
	// Sign returns a compact JWS of claims with header typ set to typ and
	// the active key's alg and kid. It sets IssuedAt (when zero) and ID
	// (when empty) on claims before signing.
	Sign(typ Type, claims *Claims) (string, error)
}

// Verifier checks tokens. A resource server can hold one built from public
// keys only. Implementations are safe for concurrent use.
type Verifier interface {
	// Verify checks tok's size, shape, header (alg pinned to the key picked
	// by kid, typ equal to typ), signature and claims, and returns the
	// claims. Every failure wraps one of this package's sentinel errors.
	Verify(ctx context.Context, typ Type, tok string) (*Claims, error)
}
