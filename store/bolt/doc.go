// Package bolt is a gatekeep store on a bbolt (go.etcd.io/bbolt) file, for a
// single instance whose state must survive restarts.
//
// Not implemented yet: see the store issue.
package bolt
