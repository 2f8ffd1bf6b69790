package auth

import (
	"context"
	"errors"
	"log/slog"

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

// EnsureUser makes sure a user named username exists: when none has its
// canonical form, it creates one with password (hashed by the configured
// hasher, in a hashing slot) and roles, and reports created. A user that
// exists already is returned as it is, password and roles untouched, so
// calling it at every start is safe, also from several instances at once
// (of concurrent creations exactly one reports created). An unusable
// username is ErrInvalidRequest; a bad password, ErrPasswordTooShort or
// ErrPasswordTooLong; bad roles, ErrInvalidRequest. The returned user is
// the store's record, password hash included: never send it as it is.
// Bootstrapping an administrator from configuration goes through it.
func (a *Authenticator) EnsureUser(ctx context.Context, username, password string, roles []string) (u *store.User, created bool, err error) {
	name, err := store.CanonicalUsername(username)
	if err != nil || len(name) > maxUsernameLen {
		return nil, false, describe(ErrInvalidRequest, "the username is missing or not allowed")
	}
	if err := checkNewPassword(password); err != nil {
		return nil, false, err
	}
	if err := a.checkRoles(roles); err != nil {
		return nil, false, err
	}
	existing := func() (*store.User, error) {
		u, err := a.st.UserByUsername(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, storeErr("loading the user", err)
		}
		return u, nil
	}
	if u, err := existing(); u != nil || err != nil {
		return u, false, err
	}
	hash, err := a.hashPassword(ctx, password)
	if err != nil {
		return nil, false, err
	}
	u = &store.User{ID: store.NewID(), Username: name, PasswordHash: hash, Roles: append([]string{}, roles...)}
	switch err := a.st.CreateUser(ctx, u); {
	case errors.Is(err, store.ErrConflict):
		// Another instance created it between our read and write.
		if u, err := existing(); u != nil || err != nil {
			return u, false, err
		}
		return nil, false, storeErr("creating the user", err)
	case err != nil:
		return nil, false, storeErr("creating the user", err)
	}
	// The stored copy carries what the store set (CreatedAt, UpdatedAt).
	if stored, err := a.st.User(ctx, u.ID); err == nil {
		u = stored
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.user_created", slog.String("user_id", u.ID), slog.Any("roles", u.Roles))
	return u, true, nil
}
