// Package storetest is the conformance suite every gatekeep store passes.
//
// Not implemented yet: see the store issue.
package storetest
