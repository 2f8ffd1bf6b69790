package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func openTemp(t testing.TB, opts ...bolt.Option) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatekeep.db")
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}
