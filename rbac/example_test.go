package rbac_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatekeep/gatekeep/rbac"
)

// rolesKey carries the principal's roles in the request context. In a
// gatekeep application the auth package puts its Principal there and
// provides the RolesFunc.
type rolesKey struct{}

// demoAuthenticate stands in for gatekeep's authentication middleware: it
// maps two fixed bearer tokens to roles. Never do this in a real service.
func demoAuthenticate(next http.Handler) http.Handler {
	users := map[string][]string{"alice-token": {"admin"}, "victor-token": {"viewer"}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if roles, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
			r = r.WithContext(context.WithValue(r.Context(), rolesKey{}, roles))
		}
		next.ServeHTTP(w, r)
	})
}

func rolesFromContext(r *http.Request) ([]string, bool) {
	roles, ok := r.Context().Value(rolesKey{}).([]string)
	return roles, ok
}

// Example guards three routes: reading articles needs the viewer role
// (which editor and admin inherit), writing needs the articles:write
// permission, and the admin area needs the admin role.
func Example() {
	policy, err := rbac.LoadPolicy(strings.NewReader(`{"roles": [
		{"name": "viewer", "permissions": ["articles:read"]},
		{"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]},
		{"name": "admin",  "inherits": ["editor"], "permissions": ["*"]}
	]}`))
	if err != nil {
		log.Fatal(err)
	}
	guards, err := rbac.NewGuards(policy, rolesFromContext)
	if err != nil {
		log.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "welcome to", r.URL.Path)
	})

	mux := http.NewServeMux()
	mux.Handle("GET /articles", guards.MustAuthorize("viewer")(ok))
	mux.Handle("POST /articles", guards.MustRequirePermission("articles:write")(ok))
	mux.Handle("GET /admin", guards.MustAuthorize("admin")(ok))
	server := demoAuthenticate(mux)

	for _, c := range []struct{ method, path, token string }{
		{"GET", "/articles", ""},
		{"GET", "/articles", "victor-token"},
		{"POST", "/articles", "victor-token"},
		{"POST", "/articles", "alice-token"},
		{"GET", "/admin", "victor-token"},
		{"GET", "/admin", "alice-token"},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		server.ServeHTTP(rec, req)
		detail := rec.Header().Get("WWW-Authenticate")
		if rec.Code == http.StatusOK {
			detail = strings.TrimSpace(rec.Body.String())
		}
		fmt.Printf("%s %s as %q: %d %s\n", c.method, c.path, c.token, rec.Code, detail)
	}
	// Output:
	// GET /articles as "": 401 Bearer realm="gatekeep"
	// GET /articles as "victor-token": 200 welcome to /articles
	// POST /articles as "victor-token": 403 Bearer realm="gatekeep", error="insufficient_scope", scope="articles:write"
	// POST /articles as "alice-token": 200 welcome to /articles
	// GET /admin as "victor-token": 403 Bearer realm="gatekeep", error="insufficient_scope", scope="admin"
	// GET /admin as "alice-token": 200 welcome to /admin
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
