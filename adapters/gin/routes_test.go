package gin_test

import (
	"testing"

	ginpkg "github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/internal/adaptertest"
)

// TestMountRoutesWithIDs: the {id} and admin routes reach their handlers
// through Mount, with gin's :id turned back into the path value.
func TestMountRoutesWithIDs(t *testing.T) {
	f := newFixture(t)
	r := ginpkg.New()
	gatekeepgin.Mount(r, f.A)
	adaptertest.CheckRoutesWithIDs(t, r)
}
