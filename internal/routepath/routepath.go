// Package routepath compares route paths across routers' syntaxes, for
// the conflict checks of auth's and the adapters' MountWith.
package routepath

import (
	"net/http"
	"strings"
)

// Methods are the methods a router registers a route for by name, GET
// first (the method an application's own route most often holds): a path
// is probed with each for an existing route, and gin's Any is registered
// in this order.
var Methods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace,
}

// Normalize writes every wildcard segment of a route path the same way,
// whatever the router's syntax or the wildcard's name, so that two routes
// of one path compare equal: {id}, {sid}, {id:[0-9]+} and :id become {};
// {rest...}, * and *rest become {...}.
func Normalize(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "...}"), strings.HasPrefix(s, "*"):
			segs[i] = "{...}"
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"), strings.HasPrefix(s, ":"):
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// Probe is a concrete path that route path p matches (each wildcard
// segment replaced by a value), to ask a router which route it would
// choose for it.
func Probe(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "gatekeep-probe"
		}
	}
	return strings.Join(segs, "/")
}
