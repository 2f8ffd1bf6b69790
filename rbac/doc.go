// Package rbac holds role-based access control policies: roles with
// inheritance, permissions with wildcards, and guards precomputed when the
// policy loads. It imports nothing else of gatekeep.
//
// Not implemented yet: see the rbac issue.
package rbac
