// Package bolt is a gatekeep store on a bbolt (go.etcd.io/bbolt) file, for a
// single instance whose state must survive restarts.
//
// Every record and its secondary indexes (canonical username to user ID,
// user to sessions) are written in one bbolt transaction, and bbolt runs one
// write transaction at a time, so uniqueness and the refresh rotation's
// compare-and-swap are atomic. Each commit is fsynced before the call
// returns: a write that returned survives a crash. Expired sessions,
// revocations, one-time ids and counter windows are treated as missing on
// read and deleted by a janitor goroutine that [Store.Close] stops.
//
// Revocations and valid-after marks are also kept in memory, read from the
// file at open and updated by each write once it has committed, so that
// [Store.IsRevoked], on every request's path, opens no transaction. That
// copy is authoritative because the store is the file's only writer: keep
// one Store per file, and write its buckets only through it.
//
// A damaged file is refused at open ([ErrCorrupt]). Damage met later fails
// that call with ErrCorrupt, and every call after it too without entering
// bbolt again, which may have been left holding its locks.
//
// bbolt locks its file: a second process opening it waits at most the open
// timeout ([WithOpenTimeout], default one second) and then fails with
// [ErrLocked], which also matches [store.ErrUnavailable].
//
// # Usage
//
//	st, err := bolt.Open("gatekeep.db")
//	if err != nil {
//		return err // errors.Is(err, bolt.ErrLocked): another process has the file
//	}
//	defer st.Close()
//	// hand st (a store.Store) to the Authenticator
//
// To share an existing *bbolt.DB, use [New]; the caller then keeps closing
// the DB.
package bolt
