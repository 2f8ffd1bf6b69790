package postgres_test

import (
	"testing"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
	"github.com/gatekeep/gatekeep/store/storetest"
)

func TestConformance(t *testing.T) {
	pool := needPool(t)
	rows := []struct {
		name string
		opts []postgres.Option
	}{
		{"local view", nil},
		{"no local view", []postgres.Option{postgres.WithoutLocalView()}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, pool, r.opts...) })
		})
	}
}
