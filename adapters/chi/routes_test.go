package chi_test

import (
	"testing"

	gochi "github.com/go-chi/chi/v5"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/internal/adaptertest"
)

// TestMountRoutesWithIDs: the {id} and admin routes reach their handlers
// through Mount, with the id intact.
func TestMountRoutesWithIDs(t *testing.T) {
	f := newFixture(t)
	r := gochi.NewRouter()
	gatekeepchi.Mount(r, f.A)
	adaptertest.CheckRoutesWithIDs(t, r)
}
