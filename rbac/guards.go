package rbac

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Realm is the realm of the challenges the default renderer writes.
const Realm = "gatekeep"

// RolesFunc returns the roles of the principal a request carries. ok is
// false when the request has no authenticated principal, which the guards
// answer with 401; a principal with no roles is ok with nil roles, and gets
// 403 from any guard. The auth package provides one that reads its
// Principal from the request context.
type RolesFunc func(r *http.Request) (roles []string, ok bool)

// Decision describes a denied request, for a [Renderer].
type Decision struct {
	// Authenticated is false when the request carried no principal (401)
	// and true when the principal did not meet Requirement (403).
	Authenticated bool
	// Requirement is the requirement that guarded the route.
	Requirement *Requirement
}

// Status returns the HTTP status of the decision: 401 without a principal,
// 403 otherwise.
func (d Decision) Status() int {
	if !d.Authenticated {
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

// Renderer writes the response to a denied request. It is only called on
// denial.
type Renderer func(w http.ResponseWriter, r *http.Request, d Decision)

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// RenderError is the default [Renderer], writing gatekeep's HTTP error
// contract. Without a principal: 401, `WWW-Authenticate: Bearer
// realm="gatekeep"` and {"error":"invalid_token","error_description":
// "authentication required"}. Otherwise: 403, `WWW-Authenticate: Bearer
// realm="gatekeep", error="insufficient_scope", scope="<required roles or
// permissions>"` and {"error":"insufficient_scope",...}. Nothing from the
// request is written back; the scope comes from the requirement, whose items
// the policy validated.
func RenderError(w http.ResponseWriter, _ *http.Request, d Decision) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	body := errorBody{Error: "invalid_token", Description: "authentication required"}
	if d.Authenticated {
		body.Error = "insufficient_scope"
		body.Description = "the principal lacks the required role"
		if d.Requirement != nil && d.Requirement.kind.permissions() {
			body.Description = "the principal lacks the required permission"
		}
		scope := ""
		if d.Requirement != nil {
			scope = d.Requirement.scope
		}
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope", scope="`+scope+`"`)
	} else {
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
	}
	w.WriteHeader(d.Status())
	// The body is fixed text; encoding it cannot fail, and a write error
	// means the client has gone.
	_ = json.NewEncoder(w).Encode(body)
}

// Guards builds net/http middleware from a [Policy]: each guard is a
// func(http.Handler) http.Handler, so chi's r.Use and r.With take it as it
// is. Guards is safe for concurrent use.
type Guards struct {
	policy *Policy
	roles  RolesFunc
	render Renderer
}

// NewGuards returns guards that check the roles rolesFn finds on each
// request against p. A nil policy, rolesFn or renderer is
// [ErrInvalidRequirement].
func NewGuards(p *Policy, rolesFn RolesFunc, opts ...Option) (*Guards, error) {
	c := config{render: RenderError}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	switch {
	case p == nil:
		return nil, fmt.Errorf("%w: nil policy", ErrInvalidRequirement)
	case rolesFn == nil:
		return nil, fmt.Errorf("%w: nil RolesFunc", ErrInvalidRequirement)
	case c.render == nil:
		return nil, fmt.Errorf("%w: nil Renderer", ErrInvalidRequirement)
	}
	return &Guards{policy: p, roles: rolesFn, render: c.render}, nil
}

// Require returns middleware that lets a request through only when its
// principal meets req; it answers 401 without a principal and 403 when req
// is not met, through the renderer. A nil req is [ErrInvalidRequirement].
func (g *Guards) Require(req *Requirement) (func(http.Handler) http.Handler, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: nil requirement", ErrInvalidRequirement)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			roles, ok := g.roles(r)
			if !ok {
				g.render(w, r, Decision{Authenticated: false, Requirement: req})
				return
			}
			if !req.Check(roles) {
				g.render(w, r, Decision{Authenticated: true, Requirement: req})
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

func (g *Guards) guard(kind Kind, items []string) (func(http.Handler) http.Handler, error) {
	req, err := NewRequirement(g.policy, kind, items...)
	if err != nil {
		return nil, err
	}
	return g.Require(req)
}

// Authorize returns a guard met by any one of roles, honouring inheritance.
// Errors are those of [NewRequirement].
func (g *Guards) Authorize(roles ...string) (func(http.Handler) http.Handler, error) {
	return g.guard(AnyRole, roles)
}

// RequireAll returns a guard met only by a principal that has every one of
// roles, directly or by inheritance.
func (g *Guards) RequireAll(roles ...string) (func(http.Handler) http.Handler, error) {
	return g.guard(AllRoles, roles)
}

// RequirePermission returns a guard met only when the principal's roles
// grant every one of perms.
func (g *Guards) RequirePermission(perms ...string) (func(http.Handler) http.Handler, error) {
	return g.guard(AllPermissions, perms)
}

// RequireAnyPermission returns a guard met when the principal's roles grant
// at least one of perms.
func (g *Guards) RequireAnyPermission(perms ...string) (func(http.Handler) http.Handler, error) {
	return g.guard(AnyPermission, perms)
}

func must(mw func(http.Handler) http.Handler, err error) func(http.Handler) http.Handler {
	if err != nil {
		panic(err)
	}
	return mw
}

// MustAuthorize is [Guards.Authorize] that panics on error, for guards
// fixed in the program's source and set up at start-up.
func (g *Guards) MustAuthorize(roles ...string) func(http.Handler) http.Handler {
	return must(g.Authorize(roles...))
}

// MustRequireAll is [Guards.RequireAll] that panics on error.
func (g *Guards) MustRequireAll(roles ...string) func(http.Handler) http.Handler {
	return must(g.RequireAll(roles...))
}

// MustRequirePermission is [Guards.RequirePermission] that panics on error.
func (g *Guards) MustRequirePermission(perms ...string) func(http.Handler) http.Handler {
	return must(g.RequirePermission(perms...))
}

// MustRequireAnyPermission is [Guards.RequireAnyPermission] that panics on
// error.
func (g *Guards) MustRequireAnyPermission(perms ...string) func(http.Handler) http.Handler {
	return must(g.RequireAnyPermission(perms...))
}
