package config

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

// AdminRole is the role [BootstrapAdmin] gives the user it creates: the
// role the admin handlers require (auth.DefaultAdminRole).
const AdminRole = auth.DefaultAdminRole

// BootstrapAdmin makes sure an administrator exists, through a's
// [auth.Authenticator.EnsureUser]: when no user has username's canonical
// form it creates one with role "admin" and the password hashed by a's
// hasher, and reports created. A user that exists already is returned as
// it is (its password and roles untouched), so calling it at every start
// is safe, also from several instances at once. The username must be one
// PRECIS allows and the password 8 to 1024 bytes; errors name
// ADMIN_USERNAME or ADMIN_PASSWORD and never hold the password.
func BootstrapAdmin(ctx context.Context, a *auth.Authenticator, username, password string) (u *store.User, created bool, err error) {
	if a == nil {
		return nil, false, &VarError{Var: "ADMIN_USERNAME", Want: "an Authenticator to create the admin with"}
	}
	if _, err := store.CanonicalUsername(username); err != nil {
		return nil, false, varErr("ADMIN_USERNAME", "a username that PRECIS UsernameCaseMapped allows (RFC 8265)", "")
	}
	if err := checkAdminPassword(password, ""); err != nil {
		return nil, false, err
	}
	u, created, err = a.EnsureUser(ctx, username, password, []string{AdminRole})
	switch {
	case err == nil:
		return u, created, nil
	case errors.Is(err, auth.ErrPasswordTooShort), errors.Is(err, auth.ErrPasswordTooLong):
		// The hasher's limit (72 bytes with bcrypt); never the password.
		return nil, false, &VarError{Var: "ADMIN_PASSWORD", Want: "a password the hasher accepts", Err: err}
	case errors.Is(err, auth.ErrInvalidRequest):
		return nil, false, varErr("ADMIN_USERNAME", "a username that PRECIS UsernameCaseMapped allows (RFC 8265), at most 128 bytes", "")
	}
	return nil, false, fmt.Errorf("config: ADMIN_USERNAME: creating the admin user: %w", err)
}

func hasRole(u *store.User, role string) bool { return slices.Contains(u.Roles, role) }
