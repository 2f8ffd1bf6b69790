// Package memory is the in-process gatekeep store: the default, with no
// dependencies, for a single instance and for tests.
//
// A [Store] keeps users, sessions, revocations and counters in maps guarded
// by locks; revocations, the per-request hot path, are spread over 64
// independently locked shards and checked without allocating. Expired
// entries are treated as missing on every read and removed by a janitor
// goroutine that [Store.Close] stops. Nothing survives a restart: use
// store/bolt or store/redis for that.
//
// # Usage
//
//	st := memory.New()
//	defer st.Close()
//	// hand st (a store.Store) to the Authenticator
//
// Tests move time with [WithClock] instead of sleeping.
package memory
