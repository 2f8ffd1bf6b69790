package rbac

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// blog is admin ⊇ editor ⊇ viewer, plus unrelated billing and moderator roles.
func blog(t testing.TB) *Policy {
	t.Helper()
	p, err := NewPolicy(
		Role{Name: "viewer", Permissions: []string{"articles:read", "comments:read"}},
		Role{Name: "editor", Inherits: []string{"viewer"}, Permissions: []string{"articles:*"}},
		Role{Name: "admin", Inherits: []string{"editor"}, Permissions: []string{"*"}},
		Role{Name: "billing", Permissions: []string{"invoices:read", "invoices:pay"}},
		Role{Name: "moderator", Permissions: []string{"comments:*"}},
	)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func manyRoles(n int) []Role {
	roles := make([]Role, n)
	for i := range roles {
		roles[i].Name = fmt.Sprintf("r%d", i)
	}
	return roles
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		name    string
		roles   []Role
		wantErr error
		wantMsg string // a substring naming the offending entry
	}{
		{"no roles", nil, ErrInvalidPolicy, "no roles"},
		// Memory grows with the square of the role count.
		{"too many roles", manyRoles(MaxRoles + 1), ErrInvalidPolicy, "more than 4096"},
		{"empty name", []Role{{Name: "a"}, {Name: ""}}, ErrInvalidRoleName, "entry 1"},
		// Lookalike names must not be definable: a trailing space would
		// render differently from what a reviewer reads.
		{"name with space", []Role{{Name: "admin "}}, ErrInvalidRoleName, `"admin "`},
		// A quote in a name would break out of the scope="..." header value.
		{"name with quote", []Role{{Name: `a"b`}}, ErrInvalidRoleName, `a\"b`},
		{"name with newline", []Role{{Name: "a\nb"}}, ErrInvalidRoleName, `a\nb`},
		{"name with non-ASCII", []Role{{Name: "аdmin"}}, ErrInvalidRoleName, "not allowed"}, // Cyrillic а
		{"name too long", []Role{{Name: strings.Repeat("a", 129)}}, ErrInvalidRoleName, "longer than"},
		{"duplicate", []Role{{Name: "a"}, {Name: "b"}, {Name: "a"}}, ErrDuplicateRole, `"a" (entries 0 and 2)`},
		{"unknown parent", []Role{{Name: "editor", Inherits: []string{"viewr"}}}, ErrUnknownParent, `role "editor" inherits "viewr"`},
		// Parents are matched exactly, as principals' roles are.
		{"parent differs in case", []Role{{Name: "viewer"}, {Name: "editor", Inherits: []string{"Viewer"}}}, ErrUnknownParent, `"Viewer"`},
		{"self cycle", []Role{{Name: "a", Inherits: []string{"a"}}}, ErrCycle, "a -> a"},
		{"two-role cycle", []Role{{Name: "a", Inherits: []string{"b"}}, {Name: "b", Inherits: []string{"a"}}}, ErrCycle, "a -> b -> a"},
		{"cycle below an acyclic root", []Role{
			{Name: "root", Inherits: []string{"x"}},
			{Name: "x", Inherits: []string{"y"}},
			{Name: "y", Inherits: []string{"z"}},
			{Name: "z", Inherits: []string{"x"}},
		}, ErrCycle, "x -> y -> z -> x"},
		{"empty permission", []Role{{Name: "a", Permissions: []string{""}}}, ErrInvalidPermission, `role "a": ""`},
		{"empty segment", []Role{{Name: "a", Permissions: []string{"a::b"}}}, ErrInvalidPermission, `"a::b"`},
		{"leading colon", []Role{{Name: "a", Permissions: []string{":read"}}}, ErrInvalidPermission, "empty segment"},
		{"trailing colon", []Role{{Name: "a", Permissions: []string{"articles:"}}}, ErrInvalidPermission, "empty segment"},
		{"wildcard first", []Role{{Name: "a", Permissions: []string{"*:x"}}}, ErrInvalidPermission, `"*:x"`},
		{"wildcard middle", []Role{{Name: "a", Permissions: []string{"a:*:b"}}}, ErrInvalidPermission, "last segment"},
		{"partial wildcard", []Role{{Name: "a", Permissions: []string{"articles:wr*"}}}, ErrInvalidPermission, "not allowed"},
		{"space in permission", []Role{{Name: "a", Permissions: []string{"articles: write"}}}, ErrInvalidPermission, "not allowed"},
		// A scope list is space-separated; a permission must not smuggle in a second one.
		{"two permissions in one", []Role{{Name: "a", Permissions: []string{"a:read b:write"}}}, ErrInvalidPermission, "not allowed"},
		{"permission too long", []Role{{Name: "a", Permissions: []string{strings.Repeat("a", 257)}}}, ErrInvalidPermission, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(tt.roles...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if p != nil {
				t.Errorf("policy = %v, want nil with an error", p)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	diamond, err := NewPolicy(
		Role{Name: "base"},
		Role{Name: "left", Inherits: []string{"base"}},
		Role{Name: "right", Inherits: []string{"base"}},
		Role{Name: "top", Inherits: []string{"left", "right", "left"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		policy *Policy
		role   string
		want   []string // nil means unknown
	}{
		{"leaf", blog(t), "viewer", []string{"viewer"}},
		{"one level", blog(t), "editor", []string{"editor", "viewer"}},
		{"chain", blog(t), "admin", []string{"admin", "viewer", "editor"}},
		{"unrelated", blog(t), "billing", []string{"billing"}},
		{"diamond", diamond, "top", []string{"top", "base", "left", "right"}},
		{"unknown", blog(t), "root", nil},
		{"wrong case", blog(t), "Admin", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.policy.Includes(tt.role)
			if ok != (tt.want != nil) || !slices.Equal(got, tt.want) {
				t.Errorf("Includes(%q) = %q, %v; want %q", tt.role, got, ok, tt.want)
			}
		})
	}
}

// TestLongChain is the largest policy: a chain of MaxRoles roles, each with
// its own permission, loads and decides quickly.
func TestLongChain(t *testing.T) {
	roles := manyRoles(MaxRoles)
	for i := range roles {
		roles[i].Permissions = []string{fmt.Sprintf("p%d:use", i)}
		if i > 0 {
			roles[i].Inherits = []string{roles[i-1].Name}
		}
	}
	p, err := NewPolicy(roles...)
	if err != nil {
		t.Fatal(err)
	}
	top := []string{roles[MaxRoles-1].Name}
	if !MustNewRequirement(p, AllPermissions, "p0:use", "p4095:use").Check(top) {
		t.Error("the top of the chain lacks the bottom's permission")
	}
	if MustNewRequirement(p, AnyPermission, "p4095:use").Check([]string{"r4094"}) {
		t.Error("a role holds its child's permission")
	}
}

func TestNewPolicyCopiesInput(t *testing.T) {
	roles := []Role{{Name: "viewer", Permissions: []string{"articles:read"}}}
	p, err := NewPolicy(roles...)
	if err != nil {
		t.Fatal(err)
	}
	roles[0].Name = "admin"
	roles[0].Permissions[0] = "*"
	if got := p.Roles(); !slices.Equal(got, []string{"viewer"}) {
		t.Errorf("Roles() = %q after mutating the input", got)
	}
	req := MustNewRequirement(p, AllPermissions, "articles:read")
	if !req.Check([]string{"viewer"}) {
		t.Error("viewer lost articles:read after mutating the input")
	}
}

func TestLoadPolicy(t *testing.T) {
	const good = `{"roles": [
		{"name": "viewer", "permissions": ["articles:read"]},
		{"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]}
	]}`
	p, err := LoadPolicy(strings.NewReader(good))
	if err != nil {
		t.Fatalf("LoadPolicy: %v", err)
	}
	if got := p.Roles(); !slices.Equal(got, []string{"viewer", "editor"}) {
		t.Errorf("Roles() = %q", got)
	}
	if !MustNewRequirement(p, AnyRole, "viewer").Check([]string{"editor"}) {
		t.Error("editor does not include viewer")
	}

	tests := []struct {
		name    string
		doc     string
		wantErr error
		wantMsg string
	}{
		{"not JSON", `roles: []`, ErrInvalidPolicy, "invalid character"},
		{"empty", ``, ErrInvalidPolicy, "EOF"},
		{"null", `null`, ErrInvalidPolicy, "no roles"},
		{"no roles", `{"roles": []}`, ErrInvalidPolicy, "no roles"},
		// A misspelt field must not silently drop a restriction or a grant.
		{"unknown top-level field", `{"roles": [{"name": "a"}], "rolez": []}`, ErrInvalidPolicy, `unknown field "rolez"`},
		{"unknown role field", `{"roles": [{"name": "a", "perms": ["x"]}]}`, ErrInvalidPolicy, `unknown field "perms"`},
		{"wrong type", `{"roles": [{"name": "a", "inherits": "b"}]}`, ErrInvalidPolicy, "inherits"},
		{"trailing data", `{"roles": [{"name": "a"}]} {"roles": []}`, ErrInvalidPolicy, "trailing data"},
		{"too large", `{"roles": [{"name": "a"}]}` + strings.Repeat(" ", maxPolicyBytes), ErrInvalidPolicy, "larger than"},
		{"unknown parent", `{"roles": [{"name": "a", "inherits": ["b"]}]}`, ErrUnknownParent, `role "a" inherits "b"`},
		{"cycle", `{"roles": [{"name": "a", "inherits": ["b"]}, {"name": "b", "inherits": ["a"]}]}`, ErrCycle, "a -> b -> a"},
		{"malformed permission", `{"roles": [{"name": "a", "permissions": ["a::b"]}]}`, ErrInvalidPermission, `"a::b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := LoadPolicy(strings.NewReader(tt.doc))
			if !errors.Is(err, tt.wantErr) || p != nil {
				t.Fatalf("LoadPolicy = %v, %v; want nil, %v", p, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(good, []byte(`{"roles": [{"name": "viewer"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicyFile(good); err != nil {
		t.Errorf("LoadPolicyFile(good) = %v", err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"roles": [{"name": "a", "inherits": ["a"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPolicyFile(bad)
	if !errors.Is(err, ErrCycle) || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadPolicyFile(bad) = %v, want ErrCycle naming the file", err)
	}

	_, err = LoadPolicyFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, ErrInvalidPolicy) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadPolicyFile(missing) = %v, want ErrInvalidPolicy and os.ErrNotExist", err)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	f.Add(`{"roles": [{"name": "viewer", "permissions": ["articles:read"]}, {"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]}]}`)
	f.Add(`{"roles": [{"name": "a", "inherits": ["b"]}, {"name": "b", "inherits": ["a"]}]}`)
	f.Add(`{"roles": [{"name": "a", "permissions": ["*", "a:b:*", "x::y"]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := LoadPolicy(strings.NewReader(doc))
		if (p == nil) == (err == nil) {
			t.Fatalf("LoadPolicy = %v, %v: want exactly one of policy and error", p, err)
		}
		if err != nil {
			return
		}
		for _, r := range p.Roles() {
			if validRoleName(r) != nil {
				t.Fatalf("accepted invalid role name %q", r)
			}
			inc, ok := p.Includes(r)
			if !ok || inc[0] != r {
				t.Fatalf("Includes(%q) = %q, %v", r, inc, ok)
			}
			// A role always meets a requirement for itself, and no
			// requirement is met by nobody.
			req := MustNewRequirement(p, AnyRole, r)
			if !req.Check([]string{r}) || req.Check(nil) {
				t.Fatalf("requirement %v misjudges %q or no roles", req, r)
			}
		}
	})
}
