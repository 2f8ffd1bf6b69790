package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatekeep/gatekeep/internal/routepath"
)

// ErrRouteConflict means a route of the HTTP API was not mounted because
// the application had already registered a route at that path (its own
// /healthz or /me, say). See [RouteConflictError] for the paths.
var ErrRouteConflict = errors.New("auth: route already registered by the application")

// RouteConflictError lists the paths [Authenticator.MountWith] (and the
// chi and gin adapters' MountWith) left out because the router already
// had a route there. It matches ErrRouteConflict with errors.Is.
type RouteConflictError struct {
	// Paths are the paths left out, as mounted (with the prefix).
	Paths []string
}

func (e *RouteConflictError) Error() string {
	return fmt.Sprintf("auth: %s already registered by the application: left out (the application's route is kept; use MountOptions.Except or Prefix)",
		strings.Join(e.Paths, ", "))
}

// Unwrap makes the error match ErrRouteConflict.
func (e *RouteConflictError) Unwrap() error { return ErrRouteConflict }

// MountOptions choose which routes of [Authenticator.Routes] are mounted,
// and where. The zero value mounts them all at the paths of the HTTP API.
type MountOptions struct {
	// Prefix is put before every path: "/api" mounts /api/auth/login,
	// /api/me, ... It is empty or starts with "/", does not end with "/",
	// and holds no wildcard. Default empty.
	Prefix string
	// Only, when not empty, names the routes to mount by their paths in
	// [Authenticator.Routes] ("/auth/login", "/me", "/auth/sessions/{id}"),
	// without the prefix; the others are left out.
	Only []string
	// Except names routes to leave out, as Only does; it applies after
	// Only.
	Except []string
}

// MountRoutes returns the routes opts selects, with the prefix put before
// each pattern: the list the Mount functions register. A prefix that is
// not a plain path, or a name in Only or Except that is not a route (a
// typo would otherwise mount everything), is an error wrapping
// ErrInvalidConfig.
func (a *Authenticator) MountRoutes(opts MountOptions) ([]Route, error) {
	p := opts.Prefix
	if p != "" && (p[0] != '/' || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "{}:*? \t") ||
		(&url.URL{Path: p}).EscapedPath() != p) {
		return nil, fmt.Errorf("%w: mount prefix %q: want empty or a path such as /api", ErrInvalidConfig, p)
	}
	all := a.Routes()
	known := func(names []string) error {
		for _, n := range names {
			if !slices.ContainsFunc(all, func(r Route) bool { return r.Pattern == n }) {
				return fmt.Errorf("%w: %q names no route of the HTTP API", ErrInvalidConfig, n)
			}
		}
		return nil
	}
	if err := errors.Join(known(opts.Only), known(opts.Except)); err != nil {
		return nil, err
	}
	out := make([]Route, 0, len(all))
	for _, r := range all {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, r.Pattern) || slices.Contains(opts.Except, r.Pattern) {
			continue
		}
		out = append(out, Route{Pattern: p + r.Pattern, Handler: r.Handler})
	}
	return out, nil
}

// MountWith registers the routes opts selects ([Authenticator.MountRoutes])
// on mux. A route whose path the application already registered on mux —
// for any method, with any wildcard names (its "GET /me", its
// "/auth/sessions/{sid}") — is left out, the application's route kept, and
// the error is a [*RouteConflictError] naming every such path (it matches
// ErrRouteConflict); the other routes are registered all the same. A
// broader pattern of the application ("/", "/{page}") is no conflict:
// ServeMux gives the API's more specific paths precedence, as it would to
// any other.
func (a *Authenticator) MountWith(mux *http.ServeMux, opts MountOptions) error {
	routes, err := a.MountRoutes(opts)
	if err != nil {
		return err
	}
	var conflicts []string
	for _, rt := range routes {
		if muxHasPath(mux, rt.Pattern) || !handleNoPanic(mux, rt) {
			conflicts = append(conflicts, rt.Pattern)
		}
	}
	return conflictError(conflicts)
}

// conflictError is nil without conflicts.
func conflictError(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	return &RouteConflictError{Paths: paths}
}

// LogMountError logs err, an error of a MountWith, as the audit event
// auth.route_conflict (or auth.mount_failed) at level Error: what Mount,
// which cannot return it, does. Router adapters call it.
func (a *Authenticator) LogMountError(err error) {
	if err == nil {
		return
	}
	var rc *RouteConflictError
	if errors.As(err, &rc) {
		a.log.LogAttrs(context.Background(), slog.LevelError, "auth.route_conflict",
			slog.Any("paths", rc.Paths), slog.String("kept", "the application's route"))
		return
	}
	a.log.LogAttrs(context.Background(), slog.LevelError, "auth.mount_failed", slog.String("error", err.Error()))
}

// muxHasPath reports whether mux already routes some method of pattern's
// path (a ServeMux pattern without method or host) to a pattern of the
// same path.
func muxHasPath(mux *http.ServeMux, pattern string) bool {
	want, probe := routepath.Normalize(pattern), routepath.Probe(pattern)
	for _, m := range routepath.Methods {
		_, got := mux.Handler(&http.Request{Method: m, URL: &url.URL{Path: probe}, Host: ""})
		if got == "" {
			continue
		}
		if _, rest, ok := strings.Cut(got, " "); ok { // "GET /me"
			got = rest
		}
		if i := strings.IndexByte(got, '/'); i > 0 { // "host/me"
			got = got[i:]
		}
		if routepath.Normalize(got) == want {
			return true
		}
	}
	return false
}

// handleNoPanic registers rt, reporting false where ServeMux panics (a
// conflict the probe could not see, such as a host pattern).
func handleNoPanic(mux *http.ServeMux, rt Route) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	mux.Handle(rt.Pattern, rt.Handler)
	return true
}
