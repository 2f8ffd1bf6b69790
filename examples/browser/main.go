// Command browser serves gatekeep's HTTP API in cookie mode together with
// a small page (static/index.html, static/app.js) that uses it from a
// browser: register, log in, "who am I", refresh and log out, with plain
// fetch calls that never see a token. The tokens live in HttpOnly cookies;
// the page's script only sends requests with credentials: 'same-origin'.
//
//	go run ./examples/browser   # then open http://127.0.0.1:8080/
//
// It is configured like examples/nethttp (the environment and a .env file;
// memory store by default), except that COOKIE_MODE defaults to true here,
// as the page needs it. The cookies are Secure unless COOKIE_INSECURE=true:
// Chromium keeps Secure cookies on http://127.0.0.1 (loopback counts as a
// secure context; the test relies on it); a browser that drops them over
// plain http needs COOKIE_INSECURE=true, for development only.
//
// No CSRF token is needed: the API refuses unsafe requests authenticated by
// a cookie, and logins and registrations, that come from another origin
// (Sec-Fetch-Site, then Origin against Host), with 403 invalid_request.
// Same-origin fetch calls pass that check as they are.
package main

import (
	_ "embed"
	"log/slog"
	"net/http"
	"os"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
	"github.com/gatekeep/gatekeep/token"
)

// The page and its script, served as they are.
var (
	//go:embed static/index.html
	indexHTML []byte
	//go:embed static/app.js
	appJS []byte
)

func main() {
	cookieModeByDefault()
	serve.Main(newHandler)
}

// cookieModeByDefault sets COOKIE_MODE=true in the process environment
// unless the environment or ./.env sets it already (config.FromEnv then
// reads whichever as usual).
func cookieModeByDefault() {
	if os.Getenv("COOKIE_MODE") == "" && !dotEnvSets("COOKIE_MODE") {
		_ = os.Setenv("COOKIE_MODE", "true")
	}
}

// dotEnvSets reports whether ./.env sets name (to anything).
func dotEnvSets(name string) bool {
	f, err := os.Open(config.DotEnvFile)
	if err != nil {
		return false
	}
	defer f.Close()
	vars, err := config.ParseDotEnv(f)
	if err != nil {
		return false // serve.Main reads .env again and reports the error
	}
	_, ok := vars[name]
	return ok
}

// newHandler is the API of examples/nethttp plus the page at / and its
// script at /app.js.
func newHandler(st *config.Stack) http.Handler {
	if !st.Config.CookieMode {
		slog.Warn("examples/browser: COOKIE_MODE is off: the page's requests carry no token and fail with 401")
	}
	mux := http.NewServeMux()
	st.Auth.Mount(mux) // /auth/*, /me, /healthz, and /admin/users* for role admin
	mux.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	mux.Handle("GET /{$}", page(indexHTML, "text/html; charset=utf-8"))
	mux.Handle("GET /app.js", page(appJS, "text/javascript; charset=utf-8"))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound) // JSON, as every error of the API
	}))
	return mux
}

// page serves body with headers that keep the page to itself: its own
// script only (no inline script, so an injected one does not run), no
// framing (clickjacking), requests to this origin only.
func page(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}
