package gin_test

import "github.com/gatekeep/gatekeep/internal/adaptertest"

// The fixture is shared with the other adapter's tests.
type fixture = adaptertest.Fixture

var (
	newFixture    = adaptertest.New
	serve         = adaptertest.Serve
	newRequest    = adaptertest.NewRequest
	principalJSON = adaptertest.PrincipalJSON
)
