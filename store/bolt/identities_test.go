package bolt_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestIdentityConformance(t *testing.T) {
	storetest.RunIdentityStore(t, func(t *testing.T) store.IdentityStore {
		s, _ := openTemp(t)
		return s
	})
}
