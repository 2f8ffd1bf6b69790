// Package rbac is role-based access control for gatekeep: roles with
// inheritance, permissions with wildcards, and decisions precomputed when
// the policy loads. It decides only; package auth turns a decision into
// middleware and renders its 401 and 403 (auth.Gate.Guard,
// auth.Gate.Authorize with auth.WithPolicy), so every router answers alike.
//
// A [Policy] is a list of [Role]s. A role inherits every role and permission
// of its parents, so with admin ⊇ editor ⊇ viewer a principal holding
// "admin" meets a guard for "viewer". Permissions are ":"-separated segments
// such as "articles:write"; a grant of "articles:*" covers every permission
// under "articles:" ("articles:read", "articles:write", not
// "comments:write"), and "*" covers everything. Names are compared exactly,
// byte for byte: "Admin" and "admin " are not "admin". Role names and
// permission segments use ASCII letters, digits and _ - . / @ + (role names
// may also hold ":"), so any of them can be written into a
// WWW-Authenticate header as it is.
//
// A principal's roles come from its token and need not all be in the
// policy: a role the policy does not define grants only itself, by exact
// name. Requirements may only name roles and permissions the policy knows
// (building one that does not is an error), so such a role never meets
// one.
//
// Every decision is resolved when a [Requirement] is built; checking one is a
// few map lookups and bit operations with no allocation. [Requirement.Scope]
// is the scope a 403's WWW-Authenticate challenge names.
//
// This package imports nothing else of gatekeep.
//
// # Usage
//
// Define the policy in Go with [NewPolicy], or in a JSON file read by
// [LoadPolicyFile]:
//
//	{"roles": [
//	  {"name": "viewer", "permissions": ["articles:read"]},
//	  {"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]},
//	  {"name": "admin",  "inherits": ["editor"], "permissions": ["*"]}
//	]}
//
// then build requirements once at start-up and guard routes with them:
//
//	policy, err := rbac.LoadPolicyFile("policy.json")
//	if err != nil { ... }
//	canEdit, err := rbac.NewRequirement(policy, rbac.AllPermissions, "articles:write")
//	if err != nil { ... }
//	mux.Handle("POST /articles", a.Guard(canEdit)(createArticle)) // a: an auth.Gate or Authenticator
//
// Loading fails, naming the offending entry, on an unknown parent role, an
// inheritance cycle ("a -> b -> a"), a malformed permission, a duplicate or
// invalid role name, or an unknown JSON field; each error wraps a sentinel
// such as [ErrCycle] for errors.Is.
package rbac
