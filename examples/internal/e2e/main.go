package e2e

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/serve"
)

// RunMain tests an example's main (serve.Run with its router, without the
// signal handling) in this process: a bad variable is one line naming it, and
// with no configuration but ADDR the server answers, then returns nil
// soon after its context ends (graceful shutdown).
func RunMain(t *testing.T, newHandler func(*config.Stack) http.Handler) {
	run := func(ctx context.Context) error { return serve.Run(ctx, newHandler) }
	// Variables of the test's own environment must not leak in.
	for _, k := range []string{"JWT_SECRET", "JWT_ALG", "ADMIN_USERNAME", "ADMIN_PASSWORD", "MAIL_DIR", "COOKIE_MODE", "BOLT_PATH", "REDIS_URL", "DATABASE_URL"} {
		t.Setenv(k, "")
	}

	t.Run("bad_config", func(t *testing.T) {
		for _, bad := range []struct{ name, value, want string }{
			{"AUTH_STORE", "mysql", `config: AUTH_STORE: want memory, bolt, redis or postgres, got "mysql"`},
			{"JWT_LEEWAY", "10m", "config: JWT_LEEWAY: "},
			{"JWT_SECRET", "short", "config: JWT_SECRET: "},
		} {
			t.Run(bad.name, func(t *testing.T) {
				t.Setenv(bad.name, bad.value)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := run(ctx)
				if err == nil {
					t.Fatal("run accepted a bad value")
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, bad.want) || strings.ContainsAny(msg, "\r\n") {
					t.Errorf("error %q, want one line starting %q", msg, bad.want)
				}
				if bad.name == "JWT_SECRET" && strings.Contains(msg, bad.value) {
					t.Errorf("error %q shows the secret", msg)
				}
			})
		}
	})

	t.Run("serve_and_shutdown", func(t *testing.T) {
		addr := freeAddr(t)
		t.Setenv("ADDR", addr)
		t.Setenv("AUTH_STORE", "memory")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- run(ctx) }()

		url := "http://" + addr
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(url + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("healthz %d", resp.StatusCode)
				}
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run returned before serving: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer on %s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		resp, err := http.Post(url+"/auth/register", "application/json", strings.NewReader(`{"username":"alice","password":"alice-password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("register %d, want 201", resp.StatusCode)
		}

		cancel() // what SIGINT or SIGTERM does through signal.NotifyContext
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after shutdown: %v, want nil", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("run did not return after its context ended")
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Error("still listening after shutdown")
		}
	})
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
