package auth_test

import (
	"net/http"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/adaptertest"
)

// TestMountWith: net/http's ServeMux keeps the application's /healthz,
// /me and /auth/sessions/{sid} (where it would panic, or silently share
// the path), and mounts a subset under a prefix.
func TestMountWith(t *testing.T) {
	adaptertest.CheckMount(t, adaptertest.Router{Name: "net/http", New: func(app bool) (http.Handler, func(*auth.Authenticator, *auth.MountOptions) error) {
		mux := http.NewServeMux()
		if app {
			own := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(adaptertest.AppBody(r.URL.Path))) })
			mux.Handle("/healthz", own) // every method: ServeMux would panic on the API's /healthz
			mux.Handle("GET /me", own)
			mux.Handle("GET /auth/sessions/{sid}", own)
		}
		return mux, func(a *auth.Authenticator, opts *auth.MountOptions) error {
			if opts == nil {
				a.Mount(mux)
				return nil
			}
			return a.MountWith(mux, *opts)
		}
	}})
}
