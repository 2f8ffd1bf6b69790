// Package chi adapts gatekeep to github.com/go-chi/chi/v5 routers.
//
// Not implemented yet: see the adapters issue.
package chi
