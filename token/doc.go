// Package token signs and verifies gatekeep's JSON Web Tokens: typed claims,
// explicit token types, algorithms pinned to keys, key rotation by kid, and
// JWKS.
package token
