package storetest_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/storetest"
)

// newMemory returns a memory store closed at the end of the subtest.
func newMemory(t *testing.T) *memory.Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// Each Run function takes a value that has its one interface and nothing
// else: the struct embeds only that interface, so a clause that reached
// for another method would not compile, and one that asserted to another
// interface (store.Pinger, store.Store) would find nothing.
func TestOneInterfaceEach(t *testing.T) {
	t.Run("UserStore", func(t *testing.T) {
		storetest.RunUserStore(t, func(t *testing.T) store.UserStore {
			return struct{ store.UserStore }{newMemory(t)}
		})
	})
	t.Run("SessionStore", func(t *testing.T) {
		storetest.RunSessionStore(t, func(t *testing.T) store.SessionStore {
			return struct{ store.SessionStore }{newMemory(t)}
		})
	})
	t.Run("Revoker", func(t *testing.T) {
		storetest.RunRevoker(t, func(t *testing.T) store.Revoker {
			return struct{ store.Revoker }{newMemory(t)}
		})
	})
	t.Run("Counter", func(t *testing.T) {
		storetest.RunCounter(t, func(t *testing.T) store.Counter {
			return struct{ store.Counter }{newMemory(t)}
		})
	})
	t.Run("TOTPStore", func(t *testing.T) {
		storetest.RunTOTPStore(t, func(t *testing.T) store.TOTPStore {
			return struct{ store.TOTPStore }{newMemory(t)}
		})
	})
}
