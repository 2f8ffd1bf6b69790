package rbac

import "errors"

// Sentinel errors. Every error this package returns wraps one of them
// (fmt.Errorf("...: %w", ErrCycle)), and its text names the offending entry;
// callers match them with errors.Is.
var (
	// ErrInvalidPolicy means a policy document cannot be read: bad JSON, an
	// unknown field, trailing data, a document over 1 MiB, no roles at all or
	// more than [MaxRoles].
	ErrInvalidPolicy = errors.New("rbac: invalid policy")
	// ErrInvalidRoleName means a role name is empty, too long or holds a
	// character outside the allowed set (see the package documentation).
	ErrInvalidRoleName = errors.New("rbac: invalid role name")
	// ErrDuplicateRole means two entries of a policy have the same name.
	ErrDuplicateRole = errors.New("rbac: duplicate role")
	// ErrUnknownParent means a role inherits a role the policy does not define.
	ErrUnknownParent = errors.New("rbac: unknown parent role")
	// ErrCycle means role inheritance loops; the error text shows the loop,
	// such as "a -> b -> a".
	ErrCycle = errors.New("rbac: inheritance cycle")
	// ErrInvalidPermission means a permission is malformed ("", "a::b",
	// "*:x", spaces), or a requirement names a wildcard instead of a
	// concrete permission.
	ErrInvalidPermission = errors.New("rbac: invalid permission")
	// ErrUnknownRole means a requirement names a role the policy does not
	// define.
	ErrUnknownRole = errors.New("rbac: unknown role")
	// ErrUnknownPermission means a requirement names a permission that no
	// role of the policy grants by name or by a resource wildcard.
	ErrUnknownPermission = errors.New("rbac: unknown permission")
	// ErrInvalidRequirement means a requirement cannot be built: no roles
	// or permissions given, an unknown [Kind] or a nil policy.
	ErrInvalidRequirement = errors.New("rbac: invalid requirement")
)
