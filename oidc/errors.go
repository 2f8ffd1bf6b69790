package oidc

import (
	"errors"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
)

// Sentinel errors. Every error of a sign-in that failed in this package
// wraps one of them (or one of package auth's, for what the Authenticator
// refused), so callers branch with errors.Is. Their text never holds a
// code, a token, a state or a provider's own error text.
var (
	// ErrInvalidConfig means New was given a bad argument, option or
	// provider.
	ErrInvalidConfig = errors.New("oidc: invalid configuration")
	// ErrUnknownProvider means the path names no configured provider
	// (404 not_found).
	ErrUnknownProvider = errors.New("oidc: unknown provider")
	// ErrState means the callback's state is missing, does not match the
	// browser's state cookie, belongs to another provider, has expired or
	// was used already (400 invalid_request): a forged or replayed
	// callback (CSRF, login CSRF).
	ErrState = errors.New("oidc: state mismatch")
	// ErrDenied means the provider refused: the user declined, or the
	// callback carries an error instead of a code (401 invalid_credentials).
	ErrDenied = errors.New("oidc: provider denied the sign-in")
	// ErrCode means the provider refused to exchange the code: unknown,
	// replayed, or redeemed without the PKCE verifier it was issued for
	// (401 invalid_credentials).
	ErrCode = errors.New("oidc: authorization code refused")
	// ErrIDToken means the ID token failed verification: signature (the
	// provider's JWKS), issuer, audience, expiry or nonce (401
	// invalid_token).
	ErrIDToken = errors.New("oidc: invalid ID token")
	// ErrProviderUnavailable means the provider could not be reached or
	// answered nonsense (discovery, token or userinfo endpoint) (503
	// unavailable).
	ErrProviderUnavailable = errors.New("oidc: provider unavailable")
	// ErrIdentityTaken means a signed-in user's link flow ended with an
	// external account that is linked to another user already (409
	// identity_linked): a link never moves an account between users.
	ErrIdentityTaken = errors.New("oidc: identity linked to another user")
	// ErrNoIdentity means the caller has no identity link of that id (404
	// not_found).
	ErrNoIdentity = errors.New("oidc: no such identity")
	// ErrLastSignIn means the identity is the user's last way to sign in
	// (no password, no other link) and stays (409 last_sign_in).
	ErrLastSignIn = errors.New("oidc: the last way to sign in")
)

// Error codes of this package's responses, beside package auth's.
const (
	// CodeIdentityLinked answers [ErrIdentityTaken].
	CodeIdentityLinked = "identity_linked"
	// CodeLastSignIn answers [ErrLastSignIn].
	CodeLastSignIn = "last_sign_in"
)

// response maps an error of this package to its HTTP response; any other
// error goes to the Authenticator's error handler.
func response(err error) (auth.ErrorResponse, bool) {
	const bare = `Bearer realm="` + auth.Realm + `"`
	switch {
	case errors.Is(err, ErrUnknownProvider):
		return auth.ErrorResponse{Status: http.StatusNotFound, Code: auth.CodeNotFound,
			Description: "no such provider"}, true
	case errors.Is(err, ErrState):
		return auth.ErrorResponse{Status: http.StatusBadRequest, Code: auth.CodeInvalidRequest,
			Description: "the sign-in state is missing, expired, used or does not match this browser; start again"}, true
	case errors.Is(err, ErrDenied):
		return auth.ErrorResponse{Status: http.StatusUnauthorized, Code: auth.CodeInvalidCredentials,
			Description: "the provider did not grant the sign-in", Challenge: bare}, true
	case errors.Is(err, ErrCode):
		return auth.ErrorResponse{Status: http.StatusUnauthorized, Code: auth.CodeInvalidCredentials,
			Description: "the provider refused the authorization code", Challenge: bare}, true
	case errors.Is(err, ErrIDToken):
		return auth.ErrorResponse{Status: http.StatusUnauthorized, Code: auth.CodeInvalidToken,
			Description: "the provider's ID token is invalid", Challenge: `Bearer realm="` + auth.Realm + `", error="invalid_token"`}, true
	case errors.Is(err, ErrIdentityTaken):
		return auth.ErrorResponse{Status: http.StatusConflict, Code: CodeIdentityLinked,
			Description: "this provider account is linked to another user"}, true
	case errors.Is(err, ErrNoIdentity):
		return auth.ErrorResponse{Status: http.StatusNotFound, Code: auth.CodeNotFound,
			Description: "no such identity"}, true
	case errors.Is(err, ErrLastSignIn):
		return auth.ErrorResponse{Status: http.StatusConflict, Code: CodeLastSignIn,
			Description: "this is the account's last way to sign in; set a password first"}, true
	case errors.Is(err, ErrProviderUnavailable):
		return auth.ErrorResponse{Status: http.StatusServiceUnavailable, Code: auth.CodeUnavailable,
			Description: "the identity provider cannot answer right now; retry later"}, true
	}
	return auth.ErrorResponse{}, false
}
