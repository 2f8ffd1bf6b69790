package rbac

import (
	"fmt"
	"strings"
)

// Limits on names, chosen so that every name is a valid RFC 6750
// scope-token and can be written into a WWW-Authenticate header as it is.
const (
	maxRoleNameLen   = 128
	maxPermissionLen = 256
)

// MaxRoles bounds the roles of a policy. Each role keeps a bitset of the
// roles it includes, so memory grows with the square of the count: 4096
// roles take 2 MiB.
const MaxRoles = 4096

// Role is one entry of a policy. A role holds its own permissions and, through
// Inherits, every role and permission of its parents: an "admin" that
// inherits "editor" satisfies any requirement "editor" satisfies.
type Role struct {
	// Name is compared exactly, byte for byte: "Admin" and "admin " are not
	// "admin".
	Name string `json:"name"`
	// Inherits lists the parents whose roles and permissions this role
	// includes. Every parent must be defined in the same policy.
	Inherits []string `json:"inherits,omitempty"`
	// Permissions lists "resource:action" permissions granted to this role;
	// "resource:*" grants every action on the resource and "*" grants
	// everything.
	Permissions []string `json:"permissions,omitempty"`
}

// Policy is a validated, immutable set of roles with every decision
// precomputed: which roles each role includes and which permissions it
// grants. Build one with [NewPolicy], [LoadPolicy] or [LoadPolicyFile], then
// derive [Requirement]s from it. A Policy is safe for concurrent
// use.
type Policy struct {
	names []string         // declaration order
	index map[string]int32 // name -> position in names
	words int              // uint64 words per role in eff
	eff   []uint64         // len(names)*words: the effective role set of each role
	perms []grantSet       // permissions each role grants itself, before inheritance
}

// grantSet is the permissions one role lists.
type grantSet struct {
	all      bool                // "*"
	exact    map[string]struct{} // "articles:write"
	prefixes []string            // "articles:" for "articles:*"
}

func (g *grantSet) add(perm string) {
	switch {
	case perm == "*":
		g.all = true
	case strings.HasSuffix(perm, ":*"):
		prefix := perm[:len(perm)-1]
		for _, p := range g.prefixes {
			if p == prefix {
				return
			}
		}
		g.prefixes = append(g.prefixes, prefix)
	default:
		if g.exact == nil {
			g.exact = make(map[string]struct{})
		}
		g.exact[perm] = struct{}{}
	}
}

// grants reports whether the set grants the concrete permission perm.
func (g *grantSet) grants(perm string) bool {
	if g.all {
		return true
	}
	return g.grantsNamed(perm)
}

// grantsNamed is grants without the "*" wildcard: the permission is granted
// by name or by a resource wildcard.
func (g *grantSet) grantsNamed(perm string) bool {
	if _, ok := g.exact[perm]; ok {
		return true
	}
	for _, p := range g.prefixes {
		if strings.HasPrefix(perm, p) {
			return true
		}
	}
	return false
}

// NewPolicy validates roles and precomputes every decision. It rejects an
// empty list, more than [MaxRoles] roles, an invalid or duplicate name, a parent the list does not
// define, an inheritance cycle (a role inheriting itself included) and a
// malformed permission; the error wraps the matching sentinel and names the
// offending entry. The roles are copied: later changes to them do not reach
// the policy.
func NewPolicy(roles ...Role) (*Policy, error) {
	if len(roles) == 0 {
		return nil, fmt.Errorf("%w: no roles", ErrInvalidPolicy)
	}
	if len(roles) > MaxRoles {
		return nil, fmt.Errorf("%w: %d roles, more than %d", ErrInvalidPolicy, len(roles), MaxRoles)
	}
	n := len(roles)
	p := &Policy{
		names: make([]string, n),
		index: make(map[string]int32, n),
		words: (n + 63) / 64,
		perms: make([]grantSet, n),
	}
	for i, r := range roles {
		if err := validRoleName(r.Name); err != nil {
			return nil, fmt.Errorf("%w: role entry %d: %q: %s", ErrInvalidRoleName, i, r.Name, err)
		}
		if j, dup := p.index[r.Name]; dup {
			return nil, fmt.Errorf("%w: %q (entries %d and %d)", ErrDuplicateRole, r.Name, j, i)
		}
		p.names[i] = r.Name
		p.index[r.Name] = int32(i)
	}
	parents := make([][]int32, n)
	for i, r := range roles {
		for _, perm := range r.Permissions {
			if err := validPermission(perm); err != nil {
				return nil, fmt.Errorf("%w: role %q: %q: %s", ErrInvalidPermission, r.Name, perm, err)
			}
			p.perms[i].add(perm)
		}
		for _, parent := range r.Inherits {
			j, ok := p.index[parent]
			if !ok {
				return nil, fmt.Errorf("%w: role %q inherits %q", ErrUnknownParent, r.Name, parent)
			}
			parents[i] = append(parents[i], j)
		}
	}
	if err := p.resolve(parents); err != nil {
		return nil, err
	}
	return p, nil
}

// resolve finds cycles and, in the same depth-first walk, computes each
// role's effective role set from its parents'. Permissions are not merged:
// a requirement finds the roles that list a permission and then every role
// that includes one of them, which keeps a long chain of roles linear in
// memory.
func (p *Policy) resolve(parents [][]int32) error {
	n := len(p.names)
	p.eff = make([]uint64, n*p.words)
	const (
		unvisited = iota
		active
		done
	)
	state := make([]uint8, n)
	var stack []int32
	var visit func(i int32) error
	visit = func(i int32) error {
		state[i] = active
		stack = append(stack, i)
		for _, j := range parents[i] {
			switch state[j] {
			case active:
				return fmt.Errorf("%w: %s", ErrCycle, p.cyclePath(stack, j))
			case unvisited:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		set := p.roleSet(i)
		set[i/64] |= 1 << (i % 64)
		for _, j := range parents[i] {
			for w, bits := range p.roleSet(j) {
				set[w] |= bits
			}
		}
		return nil
	}
	for i := range n {
		if state[i] == unvisited {
			if err := visit(int32(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// cyclePath renders the loop that closes at role j, e.g. "a -> b -> a".
func (p *Policy) cyclePath(stack []int32, j int32) string {
	start := 0
	for k, s := range stack {
		if s == j {
			start = k
			break
		}
	}
	var b strings.Builder
	for _, s := range stack[start:] {
		b.WriteString(p.names[s])
		b.WriteString(" -> ")
	}
	b.WriteString(p.names[j])
	return b.String()
}

// roleSet is the bitset of roles that role i includes (itself and every
// ancestor).
func (p *Policy) roleSet(i int32) []uint64 {
	return p.eff[int(i)*p.words : int(i+1)*p.words]
}

// includesAny reports whether role i includes any role of set.
func (p *Policy) includesAny(i int32, set []uint64) bool {
	for w, bits := range p.roleSet(i) {
		if bits&set[w] != 0 {
			return true
		}
	}
	return false
}

// includes reports whether role i includes role j.
func (p *Policy) includes(i, j int32) bool {
	return p.eff[int(i)*p.words+int(j/64)]&(1<<(j%64)) != 0
}

// Roles returns the names of the policy's roles in declaration order.
func (p *Policy) Roles() []string {
	return append([]string(nil), p.names...)
}

// Includes returns every role that role includes, itself first and the rest
// in declaration order, and false if the policy does not define role.
func (p *Policy) Includes(role string) ([]string, bool) {
	i, ok := p.index[role]
	if !ok {
		return nil, false
	}
	out := []string{role}
	for j := range p.names {
		if int32(j) != i && p.includes(i, int32(j)) {
			out = append(out, p.names[j])
		}
	}
	return out, true
}

// validRoleName reports why name cannot be a role name, or nil.
func validRoleName(name string) error {
	switch {
	case name == "":
		return errString("empty name")
	case len(name) > maxRoleNameLen:
		return errString("longer than 128 bytes")
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) && name[i] != ':' {
			return fmt.Errorf("byte %q at %d not allowed", name[i], i)
		}
	}
	return nil
}

// validPermission reports why perm cannot be a granted permission, or nil.
// A permission is ":"-separated segments of name bytes; "*" may stand alone
// or as the whole last segment.
func validPermission(perm string) error {
	switch {
	case perm == "":
		return errString("empty permission")
	case len(perm) > maxPermissionLen:
		return errString("longer than 256 bytes")
	case perm == "*":
		return nil
	}
	segStart := 0
	for i := 0; i <= len(perm); i++ {
		if i < len(perm) && perm[i] != ':' {
			continue
		}
		seg := perm[segStart:i]
		switch {
		case seg == "":
			return fmt.Errorf("empty segment at %d", segStart)
		case seg == "*":
			if i != len(perm) {
				return errString("wildcard \"*\" only as the last segment")
			}
		default:
			for k := 0; k < len(seg); k++ {
				if !nameByte(seg[k]) {
					return fmt.Errorf("byte %q at %d not allowed", seg[k], segStart+k)
				}
			}
		}
		segStart = i + 1
	}
	return nil
}

// nameByte reports whether c may appear in a role name or a permission
// segment: ASCII letters, digits and _ - . / @ +. Nothing that could end a
// quoted header value or split a scope list.
func nameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '_', '-', '.', '/', '@', '+':
		return true
	}
	return false
}

type errString string

func (e errString) Error() string { return string(e) }
