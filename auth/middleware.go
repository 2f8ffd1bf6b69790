package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatekeep/gatekeep/rbac"
)

// Authenticate returns the principal of r, from the access token in its
// Authorization header (`Bearer <token>`, the scheme in any case). Tokens
// are never read from the URL. It checks, in order: exactly one
// Authorization header of the Bearer scheme with one well-formed token; the
// token's signature, type (at+jwt only), expiry, issuer and audience (the
// Verifier); sub, jti, sid and iat present; then the Revoker (token,
// session and user's valid-after time). Errors wrap ErrNoToken,
// ErrInvalidToken, ErrRevoked or, when the store cannot answer,
// ErrUnavailable: map them with [ResponseFor].
//
// In cookie mode ([WithCookies]) a request without an Authorization header
// is authenticated by its access-token cookie instead, and then refused
// with an error wrapping ErrCrossOrigin when its method is unsafe and it
// comes from another origin.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	tok, err := bearerToken(r)
	if errors.Is(err, ErrNoToken) && a.cookies != nil {
		tok, err = a.accessFromCookie(r)
	}
	if err != nil {
		return nil, err
	}
	return a.AuthenticateToken(r.Context(), tok)
}

// bearerToken extracts the token of the single Authorization header
// (RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", describe(ErrInvalidToken, "more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", describe(ErrInvalidToken, "the Authorization header is not a Bearer token")
	}
	if !isB64Token(tok) {
		return "", describe(ErrInvalidToken, "the Authorization header is not a Bearer token")
	}
	return tok, nil
}

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// fail writes err through the configured error handler.
func (a *Authenticator) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.cfg.errorHandler(w, r, err)
}

// Require is middleware that lets a request through only with a valid
// access token, putting its [Principal] in the request context (read it
// with [FromContext]). Otherwise it answers 401 (503 when the store cannot
// answer) through the error handler.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
	})
}

// Optional is middleware that lets requests without credentials through
// anonymously (no principal in the context) and treats requests with
// credentials as [Authenticator.Require] does: a presented token that fails
// is refused, never ignored.
func (a *Authenticator) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		switch {
		case errors.Is(err, ErrNoToken):
			next.ServeHTTP(w, r)
		case err != nil:
			a.fail(w, r, err)
		default:
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		}
	})
}

// principal returns the request's principal from the context, or
// authenticates it, so that guards and handlers are safe whether or not
// Require runs before them.
func (a *Authenticator) principal(r *http.Request) (*Principal, *http.Request, error) {
	if p, ok := FromContext(r.Context()); ok {
		return p, r, nil
	}
	p, err := a.Authenticate(r)
	if err != nil {
		return nil, r, err
	}
	return p, r.WithContext(NewContext(r.Context(), p)), nil
}

// Authorize returns a guard that lets a request through when its principal
// has any one of roles: 401 without a valid access token, 403
// insufficient_scope otherwise. It authenticates the request itself when
// no earlier [Authenticator.Require] did, so it is safe on its own.
//
// The decision is an [rbac.Requirement]: with [WithPolicy], roles honour
// the policy's inheritance and must be roles it defines; without, roles
// match exactly. A guard that cannot be built (no roles, a role the policy
// does not define, an invalid role name) denies every request with 403 and
// logs an error once, here.
func (a *Authenticator) Authorize(roles ...string) func(http.Handler) http.Handler {
	p := a.cfg.policy
	var err error
	if p == nil {
		// Each named role on its own, with no inheritance: an exact match.
		rs := make([]rbac.Role, len(roles))
		for i, name := range roles {
			rs[i] = rbac.Role{Name: name}
		}
		p, err = rbac.NewPolicy(rs...)
	}
	var req *rbac.Requirement
	if err == nil {
		req, err = rbac.NewRequirement(p, rbac.AnyRole, roles...)
	}
	if err != nil {
		a.log.LogAttrs(context.Background(), slog.LevelError, "auth.guard_invalid",
			slog.String("error", err.Error()))
		req = nil // Check on a nil requirement is false: deny.
	}
	return a.guard(req)
}

// Guard returns middleware that lets a request through only when its
// principal meets req (roles or permissions, see [rbac.NewRequirement]);
// it answers as [Authenticator.Authorize] does. A nil req denies every
// request.
func (a *Authenticator) Guard(req *rbac.Requirement) func(http.Handler) http.Handler {
	return a.guard(req)
}

type scopeError struct{ scope string }

func (e *scopeError) Error() string { return ErrInsufficientScope.Error() }
func (e *scopeError) Unwrap() error { return ErrInsufficientScope }

func (a *Authenticator) guard(req *rbac.Requirement) func(http.Handler) http.Handler {
	denied := error(ErrInsufficientScope)
	if req != nil {
		denied = &scopeError{scope: req.Scope()}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, r, err := a.principal(r)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			if !req.Check(p.Roles) {
				a.fail(w, r, denied)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
