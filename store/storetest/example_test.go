package storetest_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/storetest"
)

// The examples below are test functions: each needs the *testing.T of a
// test, so they are compiled but have no output to compare. suite_test.go
// runs the same calls against the memory store.

// A store's own test runs the whole suite in a few lines.
func ExampleRun() {
	_ = func(t *testing.T) { // func TestConformance(t *testing.T)
		storetest.Run(t, func(t *testing.T) store.Store {
			s := memory.New()
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
}

// A service that only verifies tokens holds a Revoker and nothing else;
// its revocation list is proven alone.
func ExampleRunRevoker() {
	_ = func(t *testing.T) { // func TestRevoker(t *testing.T)
		storetest.RunRevoker(t, func(t *testing.T) store.Revoker {
			s := memory.New()
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
}

// A user directory backed by an existing database proves the UserStore
// contract without sessions, revocations or counters.
func ExampleRunUserStore() {
	_ = func(t *testing.T) { // func TestUsers(t *testing.T)
		storetest.RunUserStore(t, func(t *testing.T) store.UserStore {
			s := memory.New()
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
}

// Sessions and throttling counters can live in different backends; each
// is proven on its own.
func ExampleRunSessionStore() {
	_ = func(t *testing.T) { // func TestSessions(t *testing.T)
		storetest.RunSessionStore(t, func(t *testing.T) store.SessionStore {
			s := memory.New()
			t.Cleanup(func() { s.Close() })
			return s
		})
		storetest.RunCounter(t, func(t *testing.T) store.Counter {
			s := memory.New()
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
}
