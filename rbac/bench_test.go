package rbac

import (
	"fmt"
	"testing"
)

// policy50 is 50 roles in five chains of ten (rK_J inherits rK_J-1), each
// with two permissions of its own and a resource wildcard at the top.
func policy50(b *testing.B) *Policy {
	b.Helper()
	var roles []Role
	for k := range 5 {
		for j := range 10 {
			r := Role{
				Name:        fmt.Sprintf("team%d-level%d", k, j),
				Permissions: []string{fmt.Sprintf("res%d:read%d", k, j), fmt.Sprintf("res%d:write%d", k, j)},
			}
			if j > 0 {
				r.Inherits = []string{fmt.Sprintf("team%d-level%d", k, j-1)}
			}
			if j == 9 {
				r.Permissions = append(r.Permissions, fmt.Sprintf("res%d:*", k))
			}
			roles = append(roles, r)
		}
	}
	p, err := NewPolicy(roles...)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCheck runs each kind of requirement against a 3-role principal
// and a 50-role policy, in the worst case for each: the principal's match,
// if any, is its last role.
func BenchmarkCheck(b *testing.B) {
	p := policy50(b)
	principal := []string{"team0-level3", "team1-level5", "team2-level9"}
	cases := []struct {
		name  string
		kind  Kind
		items []string
		want  bool
	}{
		{"AnyRole/met", AnyRole, []string{"team2-level4", "team4-level1"}, true},
		{"AnyRole/denied", AnyRole, []string{"team3-level0", "team4-level1"}, false},
		{"AllRoles/met", AllRoles, []string{"team0-level1", "team1-level5", "team2-level0"}, true},
		{"AllPermissions/met", AllPermissions, []string{"res0:read2", "res2:anything9"}, true},
		{"AnyPermission/denied", AnyPermission, []string{"res3:read0", "res4:write9"}, false},
	}
	for _, c := range cases {
		req, err := NewRequirement(p, c.kind, c.items...)
		if err != nil {
			b.Fatal(err)
		}
		if req.Check(principal) != c.want {
			b.Fatalf("%v.Check = %v, want %v", req, !c.want, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if req.Check(principal) != c.want {
					b.Fatal("wrong decision")
				}
			}
		})
	}
}
