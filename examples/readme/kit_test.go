package readme

import (
	"context"
	"expvar"
	"net/http"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/gatekeeptest"
)

// The README's "Testing your handlers" block, run as the test it is.
func TestListNotes(t *testing.T) {
	kit := gatekeeptest.New(t)
	mux := http.NewServeMux()
	mux.Handle("GET /notes", kit.Auth.Authorize("editor")(listNotes))

	w := gatekeeptest.Serve(mux, kit.RequestAs(t, "GET", "/notes", "user-1", "editor"))
	if w.Code != http.StatusOK {
		t.Fatalf("an editor got %d", w.Code)
	}
	w = gatekeeptest.Serve(mux, kit.RequestAs(t, "GET", "/notes", "user-2", "viewer"))
	if w.Code != http.StatusForbidden {
		t.Fatalf("a viewer got %d", w.Code)
	}
}

// The README's "Metrics and store outages" block.
var (
	authOutcomes = expvar.NewMap("gatekeep_authentications")
	authEvents   = expvar.NewMap("gatekeep_events")
	storeErrors  = expvar.NewMap("gatekeep_store_errors")
)

// metrics publishes gatekeep's counts on /debug/vars.
type metrics struct{ auth.NopObserver }

func (metrics) Authentication(_ context.Context, o auth.AuthOutcome) {
	authOutcomes.Add(o.String(), 1)
}

func (metrics) Event(_ context.Context, e auth.Event) { authEvents.Add(e.String(), 1) }

func (metrics) StoreCall(_ context.Context, c auth.StoreCall) {
	if c.Failed() {
		storeErrors.Add(c.Op, 1)
	}
}

func withMetrics(ctx context.Context, cfg config.Config) (*config.Stack, error) {
	return config.Build(ctx, cfg, config.WithAuthOptions(auth.WithObserver(metrics{})))
}

// TestWithMetrics runs the block: a login and a protected request are
// counted.
func TestWithMetrics(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = "readme-secret-0123456789abcdef-0123456789"
	cfg.MailDir = t.TempDir()
	st, err := withMetrics(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr, err := st.Auth.Register(t.Context(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Auth.AuthenticateToken(t.Context(), tr.AccessToken); err != nil {
		t.Fatal(err)
	}
	if got := authEvents.Get("register"); got == nil || got.String() != "1" {
		t.Errorf("register events: %v", got)
	}
	if got := authOutcomes.Get("ok"); got == nil || got.String() != "1" {
		t.Errorf("ok authentications: %v", got)
	}
	if storeErrors.Get("IsRevoked") != nil {
		t.Error("a store error was counted")
	}
}
