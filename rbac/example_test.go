package rbac_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/gatekeep/gatekeep/rbac"
)

// Example decides three routes' access for two principals: reading
// articles needs the viewer role (which editor and admin inherit), writing
// needs the articles:write permission, and the admin area needs the admin
// role. The auth package turns such decisions into middleware
// (auth.Gate.Guard), with the HTTP API's 401/403 responses.
func Example() {
	policy, err := rbac.LoadPolicy(strings.NewReader(`{"roles": [
		{"name": "viewer", "permissions": ["articles:read"]},
		{"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]},
		{"name": "admin",  "inherits": ["editor"], "permissions": ["*"]}
	]}`))
	if err != nil {
		log.Fatal(err)
	}
	routes := []struct {
		name string
		req  *rbac.Requirement
	}{
		{"GET /articles", rbac.MustNewRequirement(policy, rbac.AnyRole, "viewer")},
		{"POST /articles", rbac.MustNewRequirement(policy, rbac.AllPermissions, "articles:write")},
		{"GET /admin", rbac.MustNewRequirement(policy, rbac.AnyRole, "admin")},
	}
	for _, who := range []struct {
		name  string
		roles []string
	}{{"victor", []string{"viewer"}}, {"alice", []string{"admin"}}} {
		for _, r := range routes {
			fmt.Printf("%s %s: %v (scope %q)\n", who.name, r.name, r.req.Check(who.roles), r.req.Scope())
		}
	}
	// Output:
	// victor GET /articles: true (scope "viewer")
	// victor POST /articles: false (scope "articles:write")
	// victor GET /admin: false (scope "admin")
	// alice GET /articles: true (scope "viewer")
	// alice POST /articles: true (scope "articles:write")
	// alice GET /admin: true (scope "admin")
}

// ExampleRequirement shows the router-neutral decision an adapter uses.
func ExampleRequirement() {
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "viewer", Permissions: []string{"articles:read"}},
		rbac.Role{Name: "editor", Inherits: []string{"viewer"}, Permissions: []string{"articles:*"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	canEdit, err := rbac.NewRequirement(policy, rbac.AllPermissions, "articles:write")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(canEdit, canEdit.Check([]string{"editor"}), canEdit.Check([]string{"viewer"}), canEdit.Check([]string{"Editor"}))

	_, err = rbac.NewRequirement(policy, rbac.AnyRole, "admin")
	fmt.Println(err)
	// Output:
	// AllPermissions(articles:write) true false false
	// rbac: unknown role: "admin"
}

// ExampleNewPolicy shows a validation error naming the cycle.
func ExampleNewPolicy() {
	_, err := rbac.NewPolicy(
		rbac.Role{Name: "viewer", Inherits: []string{"admin"}},
		rbac.Role{Name: "editor", Inherits: []string{"viewer"}},
		rbac.Role{Name: "admin", Inherits: []string{"editor"}},
	)
	fmt.Println(err)
	// Output:
	// rbac: inheritance cycle: viewer -> admin -> editor -> viewer
}
