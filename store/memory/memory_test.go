package memory_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memory.New()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestIdentityConformance(t *testing.T) {
	storetest.RunIdentityStore(t, func(t *testing.T) store.IdentityStore {
		s := memory.New()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
