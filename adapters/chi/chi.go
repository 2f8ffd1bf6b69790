package chi

import (
	"context"
	"log/slog"

	gochi "github.com/go-chi/chi/v5"

	"github.com/gatekeep/gatekeep/auth"
)

// Mount registers the handlers of [auth.Authenticator] on r at the paths of
// gatekeep's HTTP API, relative to r (mount them under a prefix with
// r.Route):
//
//	every path of [auth.Authenticator.Routes] (/auth/..., /admin/users...,
//	/me, /healthz)
//
// Each path is registered for every method: the handlers check the method
// themselves and answer any other with the API's JSON 405 and its Allow
// header, as the contract asks of every 4xx (chi's own 405 has no body).
// The routes are registered one by one, not as a sub-router, so the
// application may add routes of its own under /auth.
func Mount(r gochi.Router, a *auth.Authenticator) {
	for _, rt := range a.Routes() {
		r.Handle(rt.Pattern, rt.Handler)
	}
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
