// Package storetest is the conformance suite every gatekeep store passes.
//
// [Run] checks an implementation of [store.Store] against every clause of the
// contracts in package store: one subtest per clause, each on a fresh store,
// each failure naming the clause it broke. [RunUserStore], [RunSessionStore],
// [RunRevoker] and [RunCounter] check one interface each, so a store that
// implements only some of them (a revocation list for a service that only
// verifies tokens, a user directory) is proven one interface at a time; Run
// calls all four, then the clauses that span interfaces. The suite uses the
// standard library's testing package only, so a third-party store can run it
// without inheriting any test dependency.
//
// Expiry is checked with short real lifetimes (a few hundred milliseconds)
// and short waits, because a store such as Redis keeps time itself and no
// clock can be injected through the interface. Those subtests call
// [testing.T.Parallel], so newStore must be safe to call from several
// goroutines and the stores it returns must not share state (give each its
// own key prefix, file or database).
//
// # Usage
//
// In the store's own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := memory.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A store with one interface only:
//
//	func TestRevoker(t *testing.T) {
//		storetest.RunRevoker(t, func(t *testing.T) store.Revoker {
//			return newRevoker(t)
//		})
//	}
//
// Optional abilities are found by type assertion: under Run, a store that
// implements [store.Pinger] or [store.WriteChecker] has its Ping or its
// write probe checked too, and one that implements [store.TOTPStore] the
// clauses of second-factor enrolments ([RunTOTPStore] runs those alone).
package storetest
