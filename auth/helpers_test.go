package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// fakeClock is a settable clock shared by the Authenticator, the token
// Signer and Verifier and the memory store.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	// 100ms into a second, so that same-second tests know where they are.
	return &fakeClock{t: time.Now().Truncate(time.Second).Add(100 * time.Millisecond)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logSink records every log record, and every attribute as text, so tests
// can look for audit events and for leaked secrets.
type logSink struct {
	mu      sync.Mutex
	records []slog.Record
	text    strings.Builder
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, r.Clone())
	s.text.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		s.text.WriteString(" " + a.Key + "=" + a.Value.Resolve().String())
		return true
	})
	s.text.WriteString("\n")
	return nil
}

// events returns the messages logged, in order.
func (s *logSink) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.records))
	for i, r := range s.records {
		out[i] = r.Message
	}
	return out
}

func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text.String()
}

// fastHasher is argon2id with parameters far below what NewArgon2id
// accepts, so tests are quick; the code path is the real one.
func fastHasher() *Argon2id {
	return &Argon2id{p: Argon2idParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}
}

type fixture struct {
	t        testing.TB
	clk      *fakeClock
	st       store.Store
	a        *Authenticator
	mux      *http.ServeMux
	logs     *logSink
	signer   *token.JWTSigner
	verifier *token.JWTVerifier
}

const (
	testIssuer   = "gatekeep-test"
	testAudience = "gatekeep-test-api"
	testPassword = "correct horse battery staple"
)

// newFixture builds an Authenticator on st (a memory store on the fake
// clock when nil) with a fast hasher and the routes of the HTTP API plus
// GET /private (Require) and GET /admin (Authorize("admin")).
func newFixture(t testing.TB, st store.Store, opts ...Option) *fixture {
	t.Helper()
	clk := newClock()
	if st == nil {
		m := memory.New(memory.WithClock(clk.Now))
		t.Cleanup(func() { _ = m.Close() })
		st = m
	}
	key, err := token.NewHMACKey(token.HS256, "test-key", bytes.Repeat([]byte("k"), 32))
	require.NoError(t, err)
	ks, err := token.NewKeySet(key)
	require.NoError(t, err)
	topts := []token.Option{token.WithIssuer(testIssuer), token.WithAudience(testAudience), token.WithClock(clk.Now)}
	signer, err := token.NewSigner(ks, topts...)
	require.NoError(t, err)
	verifier, err := token.NewVerifier(ks, topts...)
	require.NoError(t, err)
	logs := &logSink{}
	all := append([]Option{
		WithHasher(fastHasher()), WithClock(clk.Now), WithLogger(slog.New(logs)),
		WithIssuer(testIssuer), WithAudience(testAudience),
	}, opts...)
	// The verified-token cache, as config builds it: the Authenticator
	// adds none of its own.
	cache, err := token.NewCache(0)
	require.NoError(t, err)
	cached, err := verifier.Cached(cache)
	require.NoError(t, err)
	a, err := New(signer, cached, st, all...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	mux := http.NewServeMux()
	a.Mount(mux)
	private := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": p.UserID, "username": p.Username, "session_id": p.SessionID})
	})
	mux.Handle("GET /private", a.Require(private))
	mux.Handle("GET /optional", a.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := FromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]bool{"authenticated": ok})
	})))
	mux.Handle("GET /admin", a.Authorize("admin")(private))
	return &fixture{t: t, clk: clk, st: st, a: a, mux: mux, logs: logs, signer: signer, verifier: verifier}
}

// req is one request to the fixture's mux.
type req struct {
	method, path string
	body         string
	bearer       string
	header       http.Header
	remote       string
}

func (f *fixture) do(r req) *httptest.ResponseRecorder {
	f.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" && r.header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, hr)
	return w
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func creds(username, password string) string {
	return jsonBody(map[string]string{"username": username, "password": password})
}

// register creates a user and returns its tokens.
func (f *fixture) register(username string) TokenResponse {
	f.t.Helper()
	w := f.do(req{method: "POST", path: "/auth/register", body: creds(username, testPassword)})
	require.Equal(f.t, http.StatusCreated, w.Code, w.Body.String())
	return decodeTokens(f.t, w)
}

func (f *fixture) login(username string) TokenResponse {
	f.t.Helper()
	w := f.do(req{method: "POST", path: "/auth/login", body: creds(username, testPassword)})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	return decodeTokens(f.t, w)
}

func (f *fixture) refresh(tok string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(req{method: "POST", path: "/auth/refresh", body: jsonBody(map[string]string{"refresh_token": tok})})
}

// status returns the status of GET /private with tok.
func (f *fixture) status(tok string) int {
	f.t.Helper()
	return f.do(req{method: "GET", path: "/private", bearer: tok}).Code
}

func decodeTokens(t testing.TB, w *httptest.ResponseRecorder) TokenResponse {
	t.Helper()
	var tr TokenResponse
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&tr))
	return tr
}

// requireError checks the HTTP API's error shape.
func requireError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
	require.Len(t, body, 2, w.Body.String())
	require.Equal(t, code, body["error"])
	require.NotEmpty(t, body["error_description"])
	switch status {
	case http.StatusUnauthorized:
		require.True(t, strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer realm="gatekeep"`))
	case http.StatusForbidden:
		require.Contains(t, w.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`)
	}
}
