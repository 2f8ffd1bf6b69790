// Command chi serves gatekeep's HTTP API on a chi router: the same API,
// configuration and behaviour as examples/nethttp.
//
//	go run ./examples/chi
//
// With no variables at all it listens on 127.0.0.1:8080 with the memory
// store and a random per-start secret (and says so on stderr). See
// .env.example for every variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	gochi "github.com/go-chi/chi/v5"

	chiadapter "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // one line, naming the variable at fault
		os.Exit(1)
	}
}

// newHandler is the whole API: the auth handlers, the JWKS and JSON
// errors for unknown routes.
func newHandler(st *config.Stack) http.Handler {
	r := gochi.NewRouter()
	chiadapter.Mount(r, st.Auth) // /auth/*, /me, /healthz, and /admin/users* for role admin
	r.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound) // JSON, as every error of the API
	})
	return r
}

// run serves until ctx ends, then finishes in-flight requests and closes
// the store.
func run(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	st, err := config.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { // after the last request: password-reset sends, then the store
		if err := st.Close(); err != nil {
			slog.Error("gatekeep: closing the store", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", st.Addr)
	if err != nil {
		return fmt.Errorf("config: ADDR: %w", err) // such as an address in use
	}
	srv := &http.Server{
		Handler:           newHandler(st),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a body trickled byte by byte ends here
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	slog.Info("gatekeep: listening", "addr", "http://"+ln.Addr().String(), "store", cfg.Store)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	slog.Info("gatekeep: shutting down; finishing requests in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
