package rbac

import (
	"fmt"
	"strings"
)

// Kind says what a [Requirement] asks of a principal's roles.
type Kind uint8

// The kinds of requirement. Role kinds honour inheritance: a principal holding
// "admin" that inherits "editor" meets a requirement for "editor".
const (
	// AnyRole is met when the principal has at least one of the roles.
	AnyRole Kind = iota + 1
	// AllRoles is met when the principal has every one of the roles.
	AllRoles
	// AllPermissions is met when the principal's roles grant every one of the
	// permissions.
	AllPermissions
	// AnyPermission is met when the principal's roles grant at least one of
	// the permissions.
	AnyPermission
)

// String returns the kind's name, e.g. "AnyRole".
func (k Kind) String() string {
	switch k {
	case AnyRole:
		return "AnyRole"
	case AllRoles:
		return "AllRoles"
	case AllPermissions:
		return "AllPermissions"
	case AnyPermission:
		return "AnyPermission"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) any() bool         { return k == AnyRole || k == AnyPermission }
func (k Kind) permissions() bool { return k == AllPermissions || k == AnyPermission }

// Requirement is one authorization decision, resolved against a [Policy]
// when it is built: for each role of the policy it holds the bitmask of the
// requirement's items that role satisfies, so [Requirement.Check] is a few
// map lookups and bit operations, with no allocation. It is router-neutral:
// package auth's guards use it, and so can any other code. A Requirement
// is immutable and safe for concurrent use.
type Requirement struct {
	kind  Kind
	items []string
	scope string
	index map[string]int32 // the policy's role index
	words int              // uint64 words per policy role in cover
	cover []uint64         // roles*words: the items each policy role satisfies
	full  []uint64         // words: every item
}

// NewRequirement resolves a requirement of the given kind against p.
//
// Role items must be roles p defines ([ErrUnknownRole] otherwise).
// Permission items must be concrete ("articles:write"; a wildcard is
// [ErrInvalidPermission]) and known to p: granted by some role by name or
// by a resource wildcard such as "articles:*" ([ErrUnknownPermission]
// otherwise). A bare "*" grant does not make a permission known, so that a
// misspelt permission fails here rather than quietly becoming admin-only.
// Duplicate items count once; no items at all is [ErrInvalidRequirement].
func NewRequirement(p *Policy, kind Kind, items ...string) (*Requirement, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil policy", ErrInvalidRequirement)
	}
	if kind < AnyRole || kind > AnyPermission {
		return nil, fmt.Errorf("%w: unknown kind %v", ErrInvalidRequirement, kind)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: %v names nothing", ErrInvalidRequirement, kind)
	}
	uniq := make([]string, 0, len(items))
	seen := make(map[string]struct{}, len(items))
	for _, it := range items {
		if err := checkItem(p, kind, it); err != nil {
			return nil, err
		}
		if _, dup := seen[it]; !dup {
			seen[it] = struct{}{}
			uniq = append(uniq, it)
		}
	}
	n := len(p.names)
	words := (len(uniq) + 63) / 64
	r := &Requirement{
		kind:  kind,
		items: uniq,
		scope: strings.Join(uniq, " "),
		index: p.index,
		words: words,
		cover: make([]uint64, n*words),
		full:  make([]uint64, words),
	}
	grantors := make([]uint64, p.words) // roles that list the permission
	for k, it := range uniq {
		r.full[k/64] |= 1 << (k % 64)
		if kind.permissions() {
			clear(grantors)
			for j := range p.perms {
				if p.perms[j].grants(it) {
					grantors[j/64] |= 1 << (j % 64)
				}
			}
		}
		for i := range int32(n) {
			var ok bool
			if kind.permissions() {
				ok = p.includesAny(i, grantors)
			} else {
				ok = p.includes(i, p.index[it])
			}
			if ok {
				r.cover[int(i)*words+k/64] |= 1 << (k % 64)
			}
		}
	}
	return r, nil
}

// MustNewRequirement is [NewRequirement] that panics on error, for
// requirements fixed in the program's source at start-up.
func MustNewRequirement(p *Policy, kind Kind, items ...string) *Requirement {
	r, err := NewRequirement(p, kind, items...)
	if err != nil {
		panic(err)
	}
	return r
}

func checkItem(p *Policy, kind Kind, it string) error {
	if !kind.permissions() {
		if _, ok := p.index[it]; !ok {
			return fmt.Errorf("%w: %q", ErrUnknownRole, it)
		}
		return nil
	}
	if err := validPermission(it); err != nil {
		return fmt.Errorf("%w: %q: %s", ErrInvalidPermission, it, err)
	}
	if it == "*" || strings.HasSuffix(it, ":*") {
		return fmt.Errorf("%w: %q: a requirement names a concrete permission, not a wildcard", ErrInvalidPermission, it)
	}
	for i := range p.perms {
		if p.perms[i].grantsNamed(it) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is granted by no role", ErrUnknownPermission, it)
}

// Check reports whether a principal holding roles meets the requirement.
// Names are compared exactly. A role the policy does not define grants
// nothing but itself, and since every requirement names only what the
// policy defines, it never meets one. A nil Requirement is never met.
// Check does not allocate.
func (r *Requirement) Check(roles []string) bool {
	if r == nil {
		return false
	}
	if r.words == 1 {
		var acc uint64
		for _, name := range roles {
			i, ok := r.index[name]
			if !ok {
				continue
			}
			acc |= r.cover[i]
			if r.kind.any() && acc != 0 {
				return true
			}
		}
		return !r.kind.any() && acc == r.full[0]
	}
	for w := range r.words {
		var acc uint64
		for _, name := range roles {
			if i, ok := r.index[name]; ok {
				acc |= r.cover[int(i)*r.words+w]
			}
		}
		if r.kind.any() && acc != 0 {
			return true
		}
		if !r.kind.any() && acc != r.full[w] {
			return false
		}
	}
	return !r.kind.any()
}

// Kind returns what the requirement asks.
func (r *Requirement) Kind() Kind { return r.kind }

// Items returns the required roles or permissions, duplicates removed, in
// the order given.
func (r *Requirement) Items() []string { return append([]string(nil), r.items...) }

// Scope returns the items separated by spaces, as the scope parameter of a
// WWW-Authenticate challenge (RFC 6750, section 3). Every item was
// validated against the policy, so it holds no quote, backslash or space.
func (r *Requirement) Scope() string { return r.scope }

// String describes the requirement, e.g. `AnyRole(admin editor)`.
func (r *Requirement) String() string { return r.kind.String() + "(" + r.scope + ")" }
