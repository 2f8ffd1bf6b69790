// Package config builds a whole gatekeep stack (keys, lifetimes, store,
// Authenticator) from environment variables or a Go struct, so that moving
// from the memory store to Redis is a change of one variable.
//
// Not implemented yet: see the account lifecycle issue.
package config
