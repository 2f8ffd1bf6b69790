package postgres_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestIdentityConformance(t *testing.T) {
	pool := needPool(t)
	storetest.RunIdentityStore(t, func(t *testing.T) store.IdentityStore { return newStore(t, pool) })
}
