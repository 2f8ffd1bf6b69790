package auth

import (
	"errors"
	"time"
)

// Sentinel errors. Every error this package returns wraps one of them, so
// callers branch with errors.Is. Their text is meant for logs and for the
// error_description of a response; it never holds a token, a password, a key
// or a store's own error text.
var (
	// ErrInvalidConfig means New was given a bad argument or option.
	ErrInvalidConfig = errors.New("auth: invalid configuration")
	// ErrNoToken means the request carried no credentials at all (401
	// without an error attribute in the challenge, RFC 6750 §3.1).
	ErrNoToken = errors.New("auth: no token")
	// ErrInvalidToken means a token was presented but is unusable:
	// malformed Authorization header, bad signature, wrong type, expired,
	// wrong issuer or audience, or missing claims. Token package errors
	// are wrapped beside it.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrRevoked means a well-formed token was revoked: logged out, its
	// session ended, or issued before the user's valid-after time.
	ErrRevoked = errors.New("auth: token revoked")
	// ErrInsufficientScope means the principal lacks every role a guard
	// asks for.
	ErrInsufficientScope = errors.New("auth: insufficient scope")
	// ErrInvalidRequest means a request body or parameter is unusable:
	// malformed JSON, an unknown field, a wrong type, a missing or invalid
	// value.
	ErrInvalidRequest = errors.New("auth: invalid request")
	// ErrPayloadTooLarge means the request body exceeds 64 KiB.
	ErrPayloadTooLarge = errors.New("auth: payload too large")
	// ErrInvalidCredentials means the username or the password is wrong;
	// which one is never said.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrUserExists means the username is taken.
	ErrUserExists = errors.New("auth: user exists")
	// ErrNotFound means the addressed resource does not exist (or is not
	// the caller's).
	ErrNotFound = errors.New("auth: not found")
	// ErrTooManyAttempts means login throttling refused the attempt; see
	// [ThrottledError] for when to retry.
	ErrTooManyAttempts = errors.New("auth: too many attempts")
	// ErrThrottled is ErrTooManyAttempts, under the name the lifecycle
	// methods document: errors.Is matches either.
	ErrThrottled = ErrTooManyAttempts
	// ErrUnavailable means a store could not answer, or too many password
	// hashes were already running. Callers fail closed on it.
	ErrUnavailable = errors.New("auth: service unavailable")
	// ErrCrossOrigin means an unsafe-method request authenticated by
	// cookie came from another origin (cookie mode, [WithCookies]); it is
	// answered 403 invalid_request.
	ErrCrossOrigin = errors.New("auth: cross-origin request refused")
	// ErrMethodNotAllowed means the handler does not serve the request's
	// method.
	ErrMethodNotAllowed = errors.New("auth: method not allowed")

	// ErrPasswordTooShort means a new password has fewer than 8 bytes.
	ErrPasswordTooShort = errors.New("auth: password too short")
	// ErrPasswordTooLong means a new password exceeds 1024 bytes, or 72
	// bytes when hashing with bcrypt (which would otherwise ignore the
	// rest).
	ErrPasswordTooLong = errors.New("auth: password too long")
	// ErrPasswordCommon means a new password is, in any letter case, one
	// of the 3000 most common passwords of at least 8 bytes (ASVS 5.0
	// V6.2.4).
	ErrPasswordCommon = errors.New("auth: password too common")
	// ErrUnknownHash means a stored password hash is in no format this
	// package verifies, or is corrupt.
	ErrUnknownHash = errors.New("auth: unrecognised password hash")
	// ErrHasherBusy means a password hash waited longer than the
	// configured limit for a free slot. It is reported beside ErrUnavailable.
	ErrHasherBusy = errors.New("auth: too many password hashes in progress")
)

// ThrottledError is returned for a login refused by throttling. It matches
// [ErrTooManyAttempts] with errors.Is; RetryAfter says how long until the
// window closes.
type ThrottledError struct {
	RetryAfter time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string { return ErrTooManyAttempts.Error() }

// Is reports whether target is ErrTooManyAttempts.
func (e *ThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }
