// Package chi adapts gatekeep to github.com/go-chi/chi/v5 routers.
//
// chi takes net/http middleware, func(http.Handler) http.Handler, as it
// is, so [auth.Gate.Require], [auth.Gate.Optional], [auth.Gate.Authorize]
// and [auth.Gate.Guard] (of a verify-only Gate, or of an Authenticator,
// which is built on one) go straight into r.Use and r.With and answer
// exactly as on net/http. This package
// adds only what is chi's own: [Mount], which registers the auth handlers
// on a chi router, and [LogHandler], which puts chi's matched route
// pattern on log records (auth's audit events included).
//
// Inside this package go-chi is imported as gochi, since the package
// itself is named chi:
//
//	import (
//		gochi "github.com/go-chi/chi/v5"
//		gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
//	)
//
// # Usage
//
//	r := gochi.NewRouter()
//	gatekeepchi.Mount(r, a) // the auth handlers at /auth/..., /me, /healthz
//
//	r.Group(func(r gochi.Router) {
//		r.Use(a.Require) // any valid access token
//		r.Get("/notes", listNotes)
//		r.With(a.Authorize("admin")).Delete("/notes/{id}", deleteNote) // 401/403
//	})
//
// A handler behind a.Require reads the principal with [auth.FromContext]:
//
//	p, _ := auth.FromContext(r.Context())
//
// For audit events that name the route, give the Authenticator a logger
// whose handler is wrapped by [LogHandler]:
//
//	logger := slog.New(gatekeepchi.LogHandler(slog.NewJSONHandler(os.Stderr, nil)))
//	a, err := auth.New(signer, verifier, st, auth.WithLogger(logger))
package chi
