// Package store defines the storage contracts of gatekeep: [UserStore],
// [SessionStore], [Revoker] and [Counter], the records they keep, and the
// sentinel errors every implementation returns.
//
// The implementations are store/memory (in-process, the default),
// store/bolt (a bbolt file) and store/redis (single node, Sentinel or
// Cluster); all of them pass the conformance suite in store/storetest, and a
// third-party store can run it too.
//
// Optional capabilities are interfaces of their own, found by type
// assertion: [Pinger], [WriteChecker], and [KeyStore], the signing key
// ring that token/rotation shares between instances (proven by
// storetest.RunKeyStore).
//
// # Usage
//
// Pick an implementation and hand it to the Authenticator; nothing else
// changes when the implementation does:
//
//	st := memory.New()
//	defer st.Close()
//	var _ store.Store = st
package store
