// Package serve is the part the three example servers share: load the
// configuration, build the stack, serve a router on ADDR, and shut down
// gracefully. Each example's main is only its router; an application that
// copies one copies this file too (it is a few dozen lines of net/http).
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatekeep/gatekeep/config"
)

// Main runs [Run] until SIGINT or SIGTERM, and exits 1 with the error on
// one line (naming the variable at fault) if it fails.
func Main(newHandler func(*config.Stack) http.Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, newHandler)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Run reads the configuration (the environment and ./.env), builds the
// stack and serves newHandler(stack) on ADDR until ctx ends; then it
// finishes the requests in flight (10 s at most) and closes the stack.
func Run(ctx context.Context, newHandler func(*config.Stack) http.Handler) error {
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
	return listen(ctx, st.Addr, string(cfg.Store), newHandler(st))
}

// MainGate is [Main] for a verify-only service ([RunGate]).
func MainGate(newHandler func(*config.GateStack) http.Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := RunGate(ctx, newHandler)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// RunGate is [Run] for a verify-only service: the stack is
// config.BuildGate's.
func RunGate(ctx context.Context, newHandler func(*config.GateStack) http.Handler) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	st, err := config.BuildGate(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			slog.Error("gatekeep: closing the store", "err", err)
		}
	}()
	return listen(ctx, st.Addr, string(cfg.Store), newHandler(st))
}

// listen serves h on addr until ctx ends, then shuts down gracefully.
func listen(ctx context.Context, addr, storeKind string, h http.Handler) error {
	ln, err := config.Listen(addr) // an error names ADDR, such as an address in use
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a body trickled byte by byte ends here
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	slog.Info("gatekeep: listening", "addr", "http://"+ln.Addr().String(), "store", storeKind)

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
