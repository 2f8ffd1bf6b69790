// Package memory is the in-process gatekeep store: the default, with no
// dependencies, for a single instance and for tests.
//
// Not implemented yet: see the store issue.
package memory
