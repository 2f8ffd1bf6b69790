package token

import (
	"context"
	"encoding/json"
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
	// MFA is the half-logged-in state between a correct password and the
	// second factor: a short-lived, one-time token that only completes a
	// login (POST /auth/2fa/verify), never an access token with a flag.
	MFA Type = "mfa+jwt"
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
	// Username is the canonical username (preferred_username, OpenID
	// Connect Core §5.1), which gatekeep's access tokens carry so that a
	// request needs no user lookup to name its caller.
	Username string
	// Extra carries an application's own claims. On signing: any value
	// that encoding/json marshals to an object, merged beside the
	// registered claims. On verifying, [JWTVerifier.Verify] sets it to the
	// token's verified payload as [RawClaims] when the payload holds any
	// member besides the registered ones and preferred_username, and
	// leaves it nil otherwise; [VerifyInto] decodes them typed.
	Extra any
}

// RawClaims is a verified token's whole payload, a JSON object, as
// [JWTVerifier.Verify] puts it in [Claims.Extra] when the token carries
// application claims. It may be shared with the verifier's cache: never
// write to it.
type RawClaims []byte

// Decode unmarshals the claims into v (a pointer to the application's
// struct or map), as encoding/json does.
func (r RawClaims) Decode(v any) error { return json.Unmarshal(r, v) }

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
	// A tok that is not a compact JWS of three base64url segments is
	// always refused: callers (auth's request walk) rely on an accepted
	// token being RFC 6750 b64token syntax.
	Verify(ctx context.Context, typ Type, tok string) (*Claims, error)
}
