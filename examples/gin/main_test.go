package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/examples/internal/e2e"
)

// The API of docs/http-api.md, row by row, on memory, bolt and Redis.
func TestE2E(t *testing.T) { e2e.Run(t, newHandler) }

// Bad configuration, serving and graceful shutdown.
func TestRun(t *testing.T) { e2e.RunMain(t, newHandler) }

// A panicking handler answers 503 in the API's JSON, and the log line
// carries neither the request's cookies nor its Authorization header.
func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	cfg := config.Default()
	cfg.MailDir = t.TempDir()
	st, err := config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := newHandler(st).(*gin.Engine)
	r.GET("/boom", func(*gin.Context) { panic("boom") })

	req := httptest.NewRequest(http.MethodGet, "/boom", nil)
	req.Header.Set("Cookie", "access_token=secret-cookie-value")
	req.Header.Set("Authorization", "Bearer secret-header-value")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"error":"unavailable"`) {
		t.Errorf("panic answered %d %s, want 503 unavailable", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "panic recovered") {
		t.Errorf("the panic was not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "secret-") {
		t.Errorf("the log holds a credential: %q", logs.String())
	}
}
