package postgres_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestKeyStoreConformance(t *testing.T) {
	pool := needPool(t)
	storetest.RunKeyStore(t, func(t *testing.T) store.KeyStore { return newStore(t, pool) })
}
