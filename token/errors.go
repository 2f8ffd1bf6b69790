package token

import "errors"

// Sentinel errors. Every error this package returns wraps one of them, so
// callers branch with errors.Is and never import golang-jwt. No message ever
// contains a token, a secret or key material.
var (
	// ErrMalformed means the token is not a compact JWS this package
	// accepts: wrong number of segments, bad base64url, bad JSON, or a
	// header this package refuses to process (such as crit).
	ErrMalformed = errors.New("token: malformed")
	// ErrSignature means the signature does not verify with the key.
	ErrSignature = errors.New("token: invalid signature")
	// ErrExpired means exp is past, beyond the leeway.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid means nbf or iat lies in the future, beyond the leeway.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrAlgorithm means the header's alg is not the algorithm pinned to
	// the key (none, a same-family swap, or algorithm confusion).
	ErrAlgorithm = errors.New("token: algorithm not allowed")
	// ErrUnknownKey means the header's kid names no configured key, or no
	// kid was given.
	ErrUnknownKey = errors.New("token: unknown key")
	// ErrWrongType means the header's typ is not the kind the caller
	// expected (a refresh token presented as an access token, say).
	ErrWrongType = errors.New("token: wrong token type")
	// ErrIssuer means iss is missing or differs from the configured issuer.
	ErrIssuer = errors.New("token: invalid issuer")
	// ErrAudience means aud is missing or names none of the configured
	// audiences.
	ErrAudience = errors.New("token: invalid audience")
	// ErrTooLarge means the token exceeds the configured maximum size; it
	// was rejected before any decoding.
	ErrTooLarge = errors.New("token: too large")
	// ErrInvalidClaims means a claim is missing (exp) or has the wrong JSON
	// type, or claims handed to a Signer cannot be signed.
	ErrInvalidClaims = errors.New("token: invalid claims")
	// ErrWeakKey means a key is too short or too small for its algorithm
	// (HMAC secrets shorter than the hash output, RSA below 2048 bits).
	ErrWeakKey = errors.New("token: weak key")
	// ErrInvalidKey means key material is unusable: wrong type for the
	// algorithm, unparsable PEM, a public key where a signing key is needed.
	ErrInvalidKey = errors.New("token: invalid key")
	// ErrInvalidConfig means a constructor was given a bad option or
	// argument.
	ErrInvalidConfig = errors.New("token: invalid configuration")
	// ErrUnavailable means a remote key source could not be reached or
	// answered badly. Callers fail closed on it.
	ErrUnavailable = errors.New("token: key source unavailable")
	// ErrSealed means a sealed signing key cannot be opened: the wrong
	// key-encryption key, a record altered at rest, or a sealed key moved
	// to another kid or algorithm.
	ErrSealed = errors.New("token: sealed key cannot be opened")
)
