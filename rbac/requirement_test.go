package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRequirementCheck(t *testing.T) {
	p := blog(t)
	tests := []struct {
		name  string
		kind  Kind
		items []string
		roles []string
		want  bool
	}{
		{"any role: direct", AnyRole, []string{"editor"}, []string{"editor"}, true},
		{"any role: inherited one level", AnyRole, []string{"viewer"}, []string{"editor"}, true},
		{"any role: inherited two levels", AnyRole, []string{"viewer"}, []string{"admin"}, true},
		// Inheritance runs one way: a viewer is not an editor.
		{"any role: no upward inheritance", AnyRole, []string{"editor"}, []string{"viewer"}, false},
		{"any role: second of two", AnyRole, []string{"admin", "billing"}, []string{"viewer", "billing"}, true},
		{"any role: none held", AnyRole, []string{"admin"}, nil, false},
		{"any role: empty list held", AnyRole, []string{"admin"}, []string{}, false},
		// Names compare exactly: case, padding and lookalikes are other roles.
		{"any role: wrong case", AnyRole, []string{"admin"}, []string{"Admin"}, false},
		{"any role: trailing space", AnyRole, []string{"admin"}, []string{"admin "}, false},
		{"any role: NUL suffix", AnyRole, []string{"admin"}, []string{"admin\x00"}, false},
		{"any role: Cyrillic lookalike", AnyRole, []string{"admin"}, []string{"аdmin"}, false},
		{"any role: empty name", AnyRole, []string{"viewer"}, []string{""}, false},
		// Roles unknown to the policy grant only themselves: nothing here.
		{"any role: unknown held role", AnyRole, []string{"viewer"}, []string{"root", "superuser"}, false},
		{"any role: unknown beside known", AnyRole, []string{"viewer"}, []string{"root", "viewer"}, true},
		{"all roles: both held", AllRoles, []string{"editor", "billing"}, []string{"billing", "editor"}, true},
		{"all roles: both through inheritance", AllRoles, []string{"viewer", "editor"}, []string{"admin"}, true},
		{"all roles: one missing", AllRoles, []string{"editor", "billing"}, []string{"admin"}, false},
		{"all roles: duplicate items count once", AllRoles, []string{"viewer", "viewer"}, []string{"viewer"}, true},
		{"all permissions: direct", AllPermissions, []string{"articles:read"}, []string{"viewer"}, true},
		{"all permissions: inherited", AllPermissions, []string{"comments:read"}, []string{"admin"}, true},
		{"all permissions: resource wildcard", AllPermissions, []string{"articles:write", "articles:delete"}, []string{"editor"}, true},
		{"all permissions: wildcard across roles", AllPermissions, []string{"articles:write", "invoices:pay"}, []string{"editor", "billing"}, true},
		// articles:* is scoped to its resource.
		{"all permissions: wildcard other resource", AllPermissions, []string{"comments:write"}, []string{"editor"}, false},
		{"all permissions: star grants all", AllPermissions, []string{"comments:write", "invoices:pay"}, []string{"admin"}, true},
		{"all permissions: one missing", AllPermissions, []string{"articles:read", "invoices:read"}, []string{"viewer"}, false},
		{"all permissions: none held", AllPermissions, []string{"articles:read"}, nil, false},
		{"any permission: one granted", AnyPermission, []string{"invoices:pay", "articles:read"}, []string{"viewer"}, true},
		{"any permission: none granted", AnyPermission, []string{"invoices:pay", "articles:write"}, []string{"viewer"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := NewRequirement(p, tt.kind, tt.items...)
			if err != nil {
				t.Fatalf("NewRequirement: %v", err)
			}
			if got := req.Check(tt.roles); got != tt.want {
				t.Errorf("%v.Check(%q) = %v, want %v", req, tt.roles, got, tt.want)
			}
		})
	}
}

func TestWildcardSegments(t *testing.T) {
	p, err := NewPolicy(
		Role{Name: "nested", Permissions: []string{"a:b:*"}},
		Role{Name: "top", Permissions: []string{"a:*"}},
		Role{Name: "known", Permissions: []string{"a", "a:b", "ab:c", "a:b:c:d", "a:bc"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role, perm string
		want       bool
	}{
		{"nested", "a:b:c", true},
		{"nested", "a:b:c:d", true},
		// A wildcard stands for one or more segments, never zero.
		{"nested", "a:b", false},
		// Prefixes match whole segments: a:b:* does not cover a:bc.
		{"nested", "a:bc", false},
		{"top", "a:b", true},
		{"top", "a:b:c:d", true},
		{"top", "a", false},
		{"top", "ab:c", false},
	}
	for _, tt := range tests {
		t.Run(tt.role+" "+tt.perm, func(t *testing.T) {
			req := MustNewRequirement(p, AllPermissions, tt.perm)
			if got := req.Check([]string{tt.role}); got != tt.want {
				t.Errorf("%s holds %s: got %v, want %v", tt.role, tt.perm, got, tt.want)
			}
		})
	}
}

func TestNewRequirementErrors(t *testing.T) {
	p := blog(t)
	tests := []struct {
		name    string
		policy  *Policy
		kind    Kind
		items   []string
		wantErr error
	}{
		{"nil policy", nil, AnyRole, []string{"admin"}, ErrInvalidRequirement},
		{"zero kind", p, 0, []string{"admin"}, ErrInvalidRequirement},
		{"kind out of range", p, AnyPermission + 1, []string{"admin"}, ErrInvalidRequirement},
		// An empty guard must not mean "anyone" (nor silently "no one").
		{"no items", p, AnyRole, nil, ErrInvalidRequirement},
		{"unknown role", p, AnyRole, []string{"admin", "root"}, ErrUnknownRole},
		{"role wrong case", p, AllRoles, []string{"Admin"}, ErrUnknownRole},
		{"role padded", p, AnyRole, []string{"admin "}, ErrUnknownRole},
		{"permission for a role kind", p, AnyRole, []string{"articles:read"}, ErrUnknownRole},
		{"unknown permission", p, AllPermissions, []string{"articles:read", "artcles:read"}, ErrUnknownPermission},
		// Only admin's "*" covers it: that does not make a typo known.
		{"permission only under star", p, AllPermissions, []string{"users:delete"}, ErrUnknownPermission},
		{"wildcard required", p, AllPermissions, []string{"articles:*"}, ErrInvalidPermission},
		{"star required", p, AnyPermission, []string{"*"}, ErrInvalidPermission},
		{"malformed permission", p, AnyPermission, []string{"articles::read"}, ErrInvalidPermission},
		{"injection in permission", p, AnyPermission, []string{`articles:read", error="x`}, ErrInvalidPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := NewRequirement(tt.policy, tt.kind, tt.items...)
			if !errors.Is(err, tt.wantErr) || req != nil {
				t.Fatalf("NewRequirement = %v, %v; want nil, %v", req, err, tt.wantErr)
			}
		})
	}
	t.Run("error names the item", func(t *testing.T) {
		_, err := NewRequirement(p, AnyRole, "admin", "root")
		if !strings.Contains(err.Error(), `"root"`) {
			t.Errorf("err = %q, want it to name \"root\"", err)
		}
	})
	t.Run("Must panics", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil {
				t.Error("MustNewRequirement did not panic on an unknown role")
			}
		}()
		MustNewRequirement(p, AnyRole, "root")
	})
}

func TestRequirementAccessors(t *testing.T) {
	req := MustNewRequirement(blog(t), AnyRole, "editor", "admin", "editor")
	if got := req.Scope(); got != "editor admin" {
		t.Errorf("Scope() = %q", got)
	}
	if got := req.String(); got != "AnyRole(editor admin)" {
		t.Errorf("String() = %q", got)
	}
	if req.Kind() != AnyRole {
		t.Errorf("Kind() = %v", req.Kind())
	}
	items := req.Items()
	items[0] = "root"
	if req.Items()[0] != "editor" {
		t.Error("Items() shares its slice with the requirement")
	}
	var nilReq *Requirement
	if nilReq.Check([]string{"admin"}) {
		t.Error("a nil requirement was met")
	}
}

// TestManyItems covers requirements and policies past one 64-bit word.
func TestManyItems(t *testing.T) {
	var roles []Role
	var names []string
	for i := range 150 {
		r := Role{Name: fmt.Sprintf("r%d", i), Permissions: []string{fmt.Sprintf("p%d:use", i)}}
		if i > 0 {
			r.Inherits = []string{fmt.Sprintf("r%d", i-1)}
		}
		roles = append(roles, r)
		names = append(names, r.Name)
	}
	p, err := NewPolicy(roles...)
	if err != nil {
		t.Fatal(err)
	}
	perms := make([]string, len(names))
	for i := range names {
		perms[i] = fmt.Sprintf("p%d:use", i)
	}
	tests := []struct {
		name  string
		kind  Kind
		items []string
		roles []string
		want  bool
	}{
		{"all roles: top of chain", AllRoles, names, []string{"r149"}, true},
		{"all roles: one short", AllRoles, names, []string{"r148"}, false},
		{"all roles: unknown only", AllRoles, names, []string{"r150"}, false},
		{"any role: few items", AnyRole, names[140:], []string{"r145"}, true},
		{"any role: below all", AnyRole, names[140:], []string{"r139"}, false},
		{"any role: many items, hit in first word", AnyRole, names, []string{"r0"}, true},
		// r0 inherits nothing, so only the last item (in the last word) matches.
		{"any role: many items, hit in last word", AnyRole, reversed(names), []string{"r0"}, true},
		{"all permissions: top of chain", AllPermissions, perms, []string{"r149"}, true},
		{"all permissions: one short", AllPermissions, perms, []string{"r100"}, false},
		{"any permission: none", AnyPermission, perms, []string{"nobody"}, false},
		{"any permission: bottom", AnyPermission, perms, []string{"r0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := MustNewRequirement(p, tt.kind, tt.items...)
			if got := req.Check(tt.roles); got != tt.want {
				t.Errorf("Check(%q) = %v, want %v", tt.roles, got, tt.want)
			}
		})
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}
