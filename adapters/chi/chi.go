package chi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	gochi "github.com/go-chi/chi/v5"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/routepath"
)

// Mount registers the handlers of [auth.Authenticator] on r at the paths of
// gatekeep's HTTP API, relative to r (mount them under a prefix with
// r.Route, or with [MountWith]'s Prefix):
//
//	every path of [auth.Authenticator.Routes] (/auth/..., /admin/users...,
//	/me, /healthz)
//
// A path the application registered on r first (its own /healthz or /me,
// for any method) is left out and logged (auth.route_conflict, level
// Error), the application's route kept: chi would otherwise replace the
// application's handler without a word. [MountWith] returns the conflicts.
//
// Each path is registered for every method: the handlers check the method
// themselves and answer any other with the API's JSON 405 and its Allow
// header, as the contract asks of every 4xx (chi's own 405 has no body).
// The routes are registered one by one, not as a sub-router, so the
// application may add routes of its own under /auth.
//
// chi registers a path for the methods it knows only, and answers a method
// it does not know ("FOO", or "post" in lower case) with its own empty 405
// before any handler runs. So Mount also sets r's MethodNotAllowed handler:
// a request for one of the API's paths goes to that path's handler, which
// answers the JSON 405 with Allow as net/http and gin do; any other path
// gets the handler r had before (chi's default, or the application's own
// if it set one before calling Mount). chi answers an unknown method at the
// top router, before any sub-router: when the API is mounted under r.Route,
// unknown methods there get the top router's 405 handler.
func Mount(r gochi.Router, a *auth.Authenticator) {
	a.LogMountError(MountWith(r, a, auth.MountOptions{}))
}

// MountWith is [Mount] for the routes opts selects, under its prefix (see
// [auth.MountOptions]). A route at a path r already routes (chi's Find
// names a pattern of the same path, whatever its wildcard names) is left
// out and the application's route kept; the error is then an
// [*auth.RouteConflictError] naming every such path, and the other routes
// are registered all the same. A broader pattern of the application
// ("/*", "/{page}") is no conflict: chi gives the API's static paths
// precedence. A bad opts is an error wrapping auth.ErrInvalidConfig, and
// nothing is registered.
func MountWith(r gochi.Router, a *auth.Authenticator, opts auth.MountOptions) error {
	routes, err := a.MountRoutes(opts)
	if err != nil {
		return err
	}
	api := http.NewServeMux()
	var conflicts []string
	for _, rt := range routes {
		if routesPath(r, rt.Pattern) || !handleNoPanic(r, rt) {
			conflicts = append(conflicts, rt.Pattern)
			continue
		}
		api.Handle(rt.Pattern, rt.Handler)
	}
	var prev http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMethodNotAllowed)
	})
	if mx, ok := r.(*gochi.Mux); ok {
		prev = mx.MethodNotAllowedHandler()
	}
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		// ServeMux patterns without a method match every method, so
		// this finds the API's handler for the path whatever the method.
		// Under a sub-router (r.Route), chi routes by what remains
		// of the path.
		path := req.URL.Path
		if rctx := gochi.RouteContext(req.Context()); rctx != nil && rctx.RoutePath != "" {
			path = rctx.RoutePath
		}
		lookup := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: req.Host}
		if h, pattern := api.Handler(lookup); pattern != "" {
			h.ServeHTTP(w, req)
			return
		}
		prev.ServeHTTP(w, req)
	})
	if len(conflicts) > 0 {
		return &auth.RouteConflictError{Paths: conflicts}
	}
	return nil
}

// routesPath reports whether r already routes some method of pattern's
// path to a pattern of the same path.
func routesPath(r gochi.Router, pattern string) bool {
	want, probe := routepath.Normalize(pattern), routepath.Probe(pattern)
	for _, m := range routepath.Methods {
		if got := r.Find(gochi.NewRouteContext(), m, probe); got != "" && routepath.Normalize(got) == want {
			return true
		}
	}
	return false
}

// handleNoPanic registers rt, reporting false where chi panics.
func handleNoPanic(r gochi.Router, rt auth.Route) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	r.Handle(rt.Pattern, rt.Handler)
	return true
}

// RouteKey is the attribute key under which [LogHandler] records the
// matched route pattern (OpenTelemetry's name for it).
const RouteKey = "http.route"

// LogHandler returns a slog.Handler that passes every record on to h,
// adding the attribute [RouteKey] with chi's matched route pattern (such as
// "/notes/{id}", never the request's path, so no identifier or token from
// the URL reaches the log) when the record is logged with the context of a
// request routed by chi. The Authenticator logs its audit events (login,
// logout, refresh reuse, throttling) with the request's context, so
// auth.WithLogger(slog.New(LogHandler(h))) names the route in each.
//
// The attribute goes where h puts a record's own attributes: inside the
// current group of a logger made with WithGroup.
func LogHandler(h slog.Handler) slog.Handler {
	return routeHandler{h}
}

type routeHandler struct{ next slog.Handler }

func (h routeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h routeHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rc := gochi.RouteContext(ctx); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			rec.AddAttrs(slog.String(RouteKey, p))
		}
	}
	return h.next.Handle(ctx, rec)
}

func (h routeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return routeHandler{h.next.WithAttrs(as)}
}

func (h routeHandler) WithGroup(name string) slog.Handler {
	return routeHandler{h.next.WithGroup(name)}
}
