package chi_test

import (
	"net/http"
	"testing"

	gochi "github.com/go-chi/chi/v5"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/adaptertest"
)

// TestMountWith: chi keeps the application's /healthz, /me and
// /auth/sessions/{sid} (where it would replace their handlers without a
// word), and mounts a subset under a prefix.
func TestMountWith(t *testing.T) {
	adaptertest.CheckMount(t, adaptertest.Router{Name: "chi", New: func(app bool) (http.Handler, func(*auth.Authenticator, *auth.MountOptions) error) {
		r := gochi.NewRouter()
		if app {
			own := func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(adaptertest.AppBody(r.URL.Path))) }
			r.Get("/healthz", own)
			r.Get("/me", own)
			r.Get("/auth/sessions/{sid}", own)
		}
		return r, func(a *auth.Authenticator, opts *auth.MountOptions) error {
			if opts == nil {
				gatekeepchi.Mount(r, a)
				return nil
			}
			return gatekeepchi.MountWith(r, a, *opts)
		}
	}})
}
