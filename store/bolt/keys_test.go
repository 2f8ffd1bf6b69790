package bolt_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestKeyStoreConformance(t *testing.T) {
	storetest.RunKeyStore(t, func(t *testing.T) store.KeyStore {
		s, _ := openTemp(t)
		return s
	})
}
