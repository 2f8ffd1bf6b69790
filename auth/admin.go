package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
)

// Limits of GET /admin/users.
const (
	DefaultUsersPageSize = 100
	MaxUsersPageSize     = 1000
)

// DefaultAdminRole is the role the admin handlers require unless
// [WithAdminRole] names another.
const DefaultAdminRole = "admin"

// UserList is the body of GET /admin/users.
type UserList struct {
	Users []UserInfo `json:"users"`
	// NextCursor is set only when more users remain: pass it as cursor to
	// get the next page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListUsers returns up to limit users (1 to 1000) ordered by id, starting
// after cursor ("" for the first page), and the cursor of the next page,
// "" when no more remain. A limit out of range or a cursor the store did not
// issue gives an error wrapping ErrInvalidRequest. The users are the
// store's records, password hashes included: never send them as they are.
func (a *Authenticator) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	if limit < 1 || limit > MaxUsersPageSize {
		return nil, "", describe(ErrInvalidRequest, "limit must be between 1 and 1000")
	}
	users, next, err := a.st.ListUsers(ctx, cursor, limit)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return nil, "", describe(ErrInvalidRequest, "the cursor is not valid")
	case err != nil:
		return nil, "", storeErr("listing users", err)
	}
	return users, next, nil
}

// SetRoles replaces the roles of user userID with roles and returns the
// updated user. Roles must be valid role names without duplicates and,
// with [WithPolicy], roles the policy defines; otherwise the error wraps
// ErrInvalidRequest and nothing changes. An empty list leaves the user
// without roles. An unknown user gives an error wrapping ErrNotFound.
//
// The change takes effect no later than the user's next request: every
// session and token the user holds ends ([Authenticator.RevokeUser]), so
// no token carrying the old roles is accepted again and the user logs in
// to get the new ones. If that revocation fails, the roles are already
// stored: the error (ErrUnavailable) means "call again", which is
// idempotent and completes it.
func (a *Authenticator) SetRoles(ctx context.Context, userID string, roles []string) (*store.User, error) {
	if err := a.checkRoles(roles); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, describe(ErrNotFound, "no such user")
	}
	set := append(make([]string, 0, len(roles)), roles...)
	u, err := a.st.UpdateUser(ctx, userID, store.UserUpdate{Roles: set})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrNotFound, "no such user")
	case err != nil:
		return nil, storeErr("updating the user", err)
	}
	if err := a.RevokeUser(ctx, userID); err != nil {
		// The roles changed but the old tokens still stand: say so loudly.
		// The caller sees 503; calling SetRoles again with the same roles
		// completes the revocation.
		a.log.LogAttrs(ctx, slog.LevelError, "auth.roles_changed_tokens_not_revoked",
			slog.String("user_id", userID), slog.Any("roles", set))
		return nil, err
	}
	attrs := []slog.Attr{slog.String("user_id", userID), slog.Any("roles", set)}
	if p, ok := FromContext(ctx); ok {
		attrs = append(attrs, slog.String("by_user_id", p.UserID))
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.roles_changed", attrs...)
	return u, nil
}

// checkRoles validates a role list to store.
func (a *Authenticator) checkRoles(roles []string) error {
	if len(roles) > rbac.MaxRoles {
		return describe(ErrInvalidRequest, "too many roles")
	}
	seen := make(map[string]bool, len(roles))
	for _, name := range roles {
		switch {
		case name == "":
			return describe(ErrInvalidRequest, "a role is empty")
		case seen[name]:
			return describe(ErrInvalidRequest, "a role is listed twice")
		}
		seen[name] = true
		if a.cfg.policy != nil {
			if _, ok := a.cfg.policy.Includes(name); !ok {
				return describe(ErrInvalidRequest, "a role is not defined by the policy")
			}
		} else if _, err := rbac.NewPolicy(rbac.Role{Name: name}); err != nil {
			return describe(ErrInvalidRequest, "a role name is not valid")
		}
	}
	return nil
}

// Users returns the handler of GET /admin/users?limit=&cursor=, for
// principals with the admin role ([WithAdminRole]; 401 without a valid
// access token, 403 without the role): 200 [UserList], limit defaulting to
// 100 and at most 1000; 400 invalid_request for a bad limit or cursor.
func (a *Authenticator) Users() http.Handler {
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := DefaultUsersPageSize
		if vs, ok := q["limit"]; ok {
			n, err := strconv.Atoi(vs[0])
			if len(vs) != 1 || err != nil || n < 1 || n > MaxUsersPageSize {
				a.fail(w, r, describe(ErrInvalidRequest, "limit must be between 1 and 1000"))
				return
			}
			limit = n
		}
		cursor := ""
		if vs, ok := q["cursor"]; ok {
			if len(vs) != 1 || vs[0] == "" {
				a.fail(w, r, describe(ErrInvalidRequest, "the cursor is not valid"))
				return
			}
			cursor = vs[0]
		}
		users, next, err := a.ListUsers(r.Context(), cursor, limit)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := UserList{Users: make([]UserInfo, len(users)), NextCursor: next}
		for i, u := range users {
			out.Users[i] = userInfo(u.ID, u.Username, u.Roles)
		}
		writeJSON(w, http.StatusOK, out)
	})
	return a.adminOnly(http.MethodGet, list)
}

// UserRoles returns the handler of PUT /admin/users/{id}/roles, body
// {"roles":[...]}, for principals with the admin role (401/403 otherwise):
// 200 with the user ({"id","username","roles"}) after
// [Authenticator.SetRoles]; 400 invalid_request for a bad body or bad
// roles; 404 not_found for an unknown id.
//
// The id is read from the request's path value "id" (ServeMux, chi), or
// else from the path segment before the last (gin and other routers).
func (a *Authenticator) UserRoles() http.Handler {
	set := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Roles []string `json:"roles"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			a.fail(w, r, err)
			return
		}
		if in.Roles == nil {
			a.fail(w, r, describe(ErrInvalidRequest, "roles is required"))
			return
		}
		u, err := a.SetRoles(r.Context(), pathID(r, 1), in.Roles)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, userInfo(u.ID, u.Username, u.Roles))
	})
	return a.adminOnly(http.MethodPut, set)
}

// adminOnly checks the method, then the admin role, then serves next.
func (a *Authenticator) adminOnly(method string, next http.Handler) http.Handler {
	guarded := a.Authorize(a.cfg.adminRole)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, method) {
			return
		}
		guarded.ServeHTTP(w, r)
	})
}
