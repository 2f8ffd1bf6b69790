package routepath_test

import (
	"fmt"
	"testing"

	"github.com/gatekeep/gatekeep/internal/routepath"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"/auth/sessions/{id}", "/auth/sessions/{sid}"},
		{"/auth/sessions/{id}", "/auth/sessions/:sid"},
		{"/auth/sessions/{id}", "/auth/sessions/{id:[0-9]+}"},
		{"/files/{rest...}", "/files/*"},
		{"/files/{rest...}", "/files/*path"},
	} {
		if routepath.Normalize(c.a) != routepath.Normalize(c.b) {
			t.Errorf("%s and %s differ: %s, %s", c.a, c.b, routepath.Normalize(c.a), routepath.Normalize(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{{"/me", "/{page}"}, {"/me", "/me/"}, {"/a/{id}", "/a/{id...}"}} {
		if routepath.Normalize(c.a) == routepath.Normalize(c.b) {
			t.Errorf("%s and %s compare equal", c.a, c.b)
		}
	}
}

func ExampleProbe() {
	fmt.Println(routepath.Probe("/admin/users/{id}/roles"), routepath.Normalize("/admin/users/:id/roles"))
	// Output: /admin/users/gatekeep-probe/roles /admin/users/{}/roles
}
