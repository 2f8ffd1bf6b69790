package config

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

// AdminRole is the role [BootstrapAdmin] gives the user it creates.
const AdminRole = "admin"

// BootstrapAdmin makes sure an administrator exists: when no user has
// username's canonical form it creates one with role "admin" and password
// hashed by h, and reports created. A user that exists already is
// returned as it is (its password and roles untouched), so calling it at
// every start is safe, also from several instances at once. The username
// must be one PRECIS allows and the password 8 to 1024 bytes; errors name
// ADMIN_USERNAME or ADMIN_PASSWORD and never hold the password.
func BootstrapAdmin(ctx context.Context, users store.UserStore, h auth.Hasher, username, password string) (u *store.User, created bool, err error) {
	if users == nil || h == nil {
		return nil, false, &VarError{Var: "ADMIN_USERNAME", Want: "a user store and a hasher to create the admin with"}
	}
	canon, err := store.CanonicalUsername(username)
	if err != nil {
		return nil, false, varErr("ADMIN_USERNAME", "a username that PRECIS UsernameCaseMapped allows (RFC 8265)", "")
	}
	if err := checkAdminPassword(password, ""); err != nil {
		return nil, false, err
	}
	if u, err := existingUser(ctx, users, canon); u != nil || err != nil {
		return u, false, err
	}
	hash, err := h.Hash(password)
	if err != nil {
		// Hashers' errors never hold the password.
		return nil, false, &VarError{Var: "ADMIN_PASSWORD", Want: "a password the hasher accepts", Err: err}
	}
	u = &store.User{ID: store.NewID(), Username: canon, PasswordHash: hash, Roles: []string{AdminRole}}
	switch err := users.CreateUser(ctx, u); {
	case errors.Is(err, store.ErrConflict):
		// Another instance created it between our read and write.
		if u, err := existingUser(ctx, users, canon); u != nil || err != nil {
			return u, false, err
		}
		return nil, false, fmt.Errorf("config: ADMIN_USERNAME: creating the admin user: %w", err)
	case err != nil:
		return nil, false, fmt.Errorf("config: ADMIN_USERNAME: creating the admin user: %w", err)
	}
	// The stored copy carries what the store set (CreatedAt, UpdatedAt).
	if stored, err := users.User(ctx, u.ID); err == nil {
		u = stored
	}
	return u, true, nil
}

func existingUser(ctx context.Context, users store.UserStore, canon string) (*store.User, error) {
	u, err := users.UserByUsername(ctx, canon)
	switch {
	case err == nil:
		return u, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	}
	return nil, fmt.Errorf("config: ADMIN_USERNAME: looking up the admin user: %w", err)
}

func hasRole(u *store.User, role string) bool { return slices.Contains(u.Roles, role) }
