package readme

import (
	"context"
	"net/http"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/rbac"
)

func withPolicy(ctx context.Context, cfg config.Config) (*config.Stack, http.Handler, error) {
	policy, err := rbac.NewPolicy( // or rbac.LoadPolicyFile("policy.json")
		rbac.Role{Name: "user", Permissions: []string{"notes:read"}},
		rbac.Role{Name: "editor", Inherits: []string{"user"}, Permissions: []string{"notes:*"}},
		rbac.Role{Name: "admin", Inherits: []string{"editor"}, Permissions: []string{"*"}},
	)
	if err != nil {
		return nil, nil, err
	}
	st, err := config.Build(ctx, cfg, config.WithAuthOptions(auth.WithPolicy(policy)))
	if err != nil {
		return nil, nil, err
	}
	canWrite, err := rbac.NewRequirement(policy, rbac.AnyPermission, "notes:write")
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	mux.Handle("GET /notes", st.Auth.Authorize("user")(listNotes))           // user, editor or admin: roles inherit
	mux.Handle("POST /notes", st.Auth.Guard(canWrite)(createNote))           // by permission: editor or admin
	mux.Handle("DELETE /notes/{id}", st.Auth.Authorize("admin")(deleteNote)) // by role
	return st, mux, nil
}
