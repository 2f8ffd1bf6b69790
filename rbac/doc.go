// Package rbac is role-based access control for gatekeep: roles with
// inheritance, permissions with wildcards, and guards whose decisions are
// precomputed when the policy loads.
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
// name. Guards and requirements may only name roles and permissions the
// policy knows (building one that does not is an error), so such a role
// never meets a guard.
//
// Every decision is resolved when a [Requirement] is built; checking one is a
// few map lookups and bit operations with no allocation. [Guards] wraps
// requirements as net/http middleware; other routers' adapters call
// [Requirement.Check] themselves and share the decision logic.
//
// Denials follow gatekeep's HTTP contract: 401 with `WWW-Authenticate:
// Bearer realm="gatekeep"` when there is no principal, 403 with
// error="insufficient_scope" and the required roles or permissions as scope
// otherwise, each with a JSON body {"error","error_description"}.
// [WithRenderer] replaces the rendering.
//
// This package imports nothing else of gatekeep; the auth package plugs its
// principal in through a [RolesFunc].
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
// then build guards once at start-up and wrap routes with them:
//
//	policy, err := rbac.LoadPolicyFile("policy.json")
//	if err != nil { ... }
//	guards, err := rbac.NewGuards(policy, rolesFromContext)
//	if err != nil { ... }
//	editOnly, err := guards.RequirePermission("articles:write")
//	if err != nil { ... }
//	mux.Handle("POST /articles", editOnly(createArticle))
//
// Loading fails, naming the offending entry, on an unknown parent role, an
// inheritance cycle ("a -> b -> a"), a malformed permission, a duplicate or
// invalid role name, or an unknown JSON field; each error wraps a sentinel
// such as [ErrCycle] for errors.Is.
package rbac
