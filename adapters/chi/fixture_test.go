package chi_test

import "github.com/gatekeep/gatekeep/internal/adaptertest"

// The fixture is shared with the other adapter's tests.
var (
	newFixture    = adaptertest.New
	serve         = adaptertest.Serve
	newRequest    = adaptertest.NewRequest
	principalJSON = adaptertest.PrincipalJSON
)
