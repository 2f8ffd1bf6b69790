package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Realm is the realm of every WWW-Authenticate challenge this package writes.
const Realm = "gatekeep"

// The error codes of the HTTP API, written in the "error" member of every
// error body.
const (
	CodeInvalidRequest     = "invalid_request"
	CodeInvalidToken       = "invalid_token"
	CodeInvalidCredentials = "invalid_credentials"
	CodeInsufficientScope  = "insufficient_scope"
	CodeUserExists         = "user_exists"
	CodeNotFound           = "not_found"
	CodeTooManyAttempts    = "too_many_attempts"
	CodePayloadTooLarge    = "payload_too_large"
	CodeUnavailable        = "unavailable"
)

// ErrorHandler writes the response for a request that failed with err. It is
// the one hook through which every error response of an [Authenticator]
// passes (see [WithErrorHandler]); [WriteError] is the default.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// ErrorResponse is what the HTTP API answers for an error: the status, the
// JSON body's code and description, and the headers. Router adapters (gin)
// build their responses from it so every router answers alike.
type ErrorResponse struct {
	Status      int
	Code        string
	Description string
	// Challenge is the WWW-Authenticate value, "" when none is due.
	Challenge string
	// RetryAfter, when positive, is sent as Retry-After in whole seconds
	// (rounded up).
	RetryAfter time.Duration
	// Allow is the Allow header of a 405, "" otherwise.
	Allow string
}

// ErrorBody is the JSON body of every 4xx and 5xx response.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// describedError carries a client-safe description (a constant written in
// this package) beside a sentinel. Only this package creates them, so the
// description may be shown to clients.
type describedError struct {
	err  error
	desc string
}

func (e *describedError) Error() string { return e.err.Error() + ": " + e.desc }
func (e *describedError) Unwrap() error { return e.err }

// describe returns an error matching sentinel whose response description
// is desc. desc must be a constant: it reaches clients.
func describe(sentinel error, desc string) error {
	return &describedError{err: sentinel, desc: desc}
}

type methodError struct{ allow string }

func (e *methodError) Error() string { return ErrMethodNotAllowed.Error() }
func (e *methodError) Unwrap() error { return ErrMethodNotAllowed }

const (
	challengeBare          = `Bearer realm="` + Realm + `"`
	challengeInvalidToken  = `Bearer realm="` + Realm + `", error="invalid_token"`
	challengeInsufficiency = `Bearer realm="` + Realm + `", error="insufficient_scope"`
)

// ResponseFor maps an error of this package to its HTTP response. Only the
// sentinel matters (and a description this package attached itself);
// anything else, store and token errors included, is 503 unavailable, so no
// internal error text ever reaches a client and an unexpected failure never
// lets a request through.
func ResponseFor(err error) ErrorResponse {
	var e ErrorResponse
	switch {
	case errors.Is(err, ErrTooManyAttempts):
		e = ErrorResponse{Status: http.StatusTooManyRequests, Code: CodeTooManyAttempts,
			Description: "too many failed attempts; retry later"}
		var te *ThrottledError
		if errors.As(err, &te) {
			e.RetryAfter = te.RetryAfter
		}
		if e.RetryAfter <= 0 {
			e.RetryAfter = time.Second
		}
	case errors.Is(err, ErrUnavailable):
		e = ErrorResponse{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the service cannot answer right now; retry later"}
		if errors.Is(err, ErrHasherBusy) {
			// Saturated hashing clears within a hash or two.
			e.Description = "too many password checks in progress; retry shortly"
			e.RetryAfter = time.Second
		}
	case errors.Is(err, ErrPayloadTooLarge):
		e = ErrorResponse{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge,
			Description: "the request body exceeds 64 KiB"}
	case errors.Is(err, ErrMethodNotAllowed):
		e = ErrorResponse{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: "method not allowed"}
		var me *methodError
		if errors.As(err, &me) {
			e.Allow = me.allow
		}
	case errors.Is(err, ErrCrossOrigin):
		// docs/http-api.md: every 403 carries the insufficient_scope challenge;
		// browsers, the only cookie clients, ignore it.
		e = ErrorResponse{Status: http.StatusForbidden, Code: CodeInvalidRequest,
			Description: "cross-origin requests authenticated by cookie are refused",
			Challenge:   challengeInsufficiency}
	case errors.Is(err, ErrPasswordTooShort):
		e = ErrorResponse{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the password must have at least 8 bytes"}
	case errors.Is(err, ErrPasswordTooLong):
		e = ErrorResponse{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the password is too long (at most 1024 bytes, 72 with bcrypt)"}
	case errors.Is(err, ErrPasswordCommon):
		e = ErrorResponse{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the password is one of the most common passwords; choose another"}
	case errors.Is(err, ErrInvalidRequest):
		e = ErrorResponse{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the request is malformed"}
	case errors.Is(err, ErrInvalidCredentials):
		e = ErrorResponse{Status: http.StatusUnauthorized, Code: CodeInvalidCredentials,
			Description: "invalid username or password", Challenge: challengeBare}
	case errors.Is(err, ErrUserExists):
		e = ErrorResponse{Status: http.StatusConflict, Code: CodeUserExists,
			Description: "the username is taken"}
	case errors.Is(err, ErrNotFound):
		e = ErrorResponse{Status: http.StatusNotFound, Code: CodeNotFound,
			Description: "not found"}
	case errors.Is(err, ErrInsufficientScope):
		e = ErrorResponse{Status: http.StatusForbidden, Code: CodeInsufficientScope,
			Description: "the principal lacks the required role", Challenge: challengeInsufficiency}
		var se *scopeError
		if errors.As(err, &se) && se.scope != "" {
			// Role names are RFC 6750 scope-tokens (rbac validates them).
			e.Challenge += `, scope="` + se.scope + `"`
		}
		if se != nil && se.permission {
			e.Description = "the principal lacks the required permission"
		}
	case errors.Is(err, ErrRevoked):
		e = ErrorResponse{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Description: "the token has been revoked", Challenge: challengeInvalidToken}
	case errors.Is(err, ErrInvalidToken):
		e = ErrorResponse{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Description: "the token is invalid or expired", Challenge: challengeInvalidToken}
	case errors.Is(err, ErrNoToken):
		e = ErrorResponse{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Description: "authentication required", Challenge: challengeBare}
	default:
		return ErrorResponse{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the service cannot answer right now; retry later"}
	}
	var de *describedError
	if errors.As(err, &de) {
		e.Description = de.desc
	}
	return e
}

// SetHeaders writes e's headers (Content-Type, Cache-Control, and
// WWW-Authenticate, Retry-After and Allow when due) into h.
func (e ErrorResponse) SetHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.Challenge != "" {
		h.Set("WWW-Authenticate", e.Challenge)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
}

// Body returns e's JSON body.
func (e ErrorResponse) Body() ErrorBody {
	return ErrorBody{Error: e.Code, Description: e.Description}
}

// Write sends e as the whole response.
func (e ErrorResponse) Write(w http.ResponseWriter) {
	e.SetHeaders(w.Header())
	w.WriteHeader(e.Status)
	// The body is fixed text; a write error means the client has gone.
	_ = json.NewEncoder(w).Encode(e.Body())
}

// WriteError is the default [ErrorHandler]: it writes [ResponseFor](err).
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	ResponseFor(err).Write(w)
}
