package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/token"
)

// resourceRows are the rows RunResource runs, each with its golden
// transcript.
var resourceRows = []string{"resource_server"}

// GateHandler builds a verify-only service's HTTP API from its stack.
type GateHandler func(*config.GateStack) http.Handler

// resourceLag is REVOCATION_MAX_LAG on both services of the resource rows:
// a revocation acknowledged by the issuer is refused by the verify-only
// service once this long has passed, whatever the load (the view's bound).
const resourceLag = 100 * time.Millisecond

// issuerHandler is the issuing service of the resource rows: the HTTP API
// and its JWK Set, as examples/nethttp serves them.
func issuerHandler(st *config.Stack) http.Handler {
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	mux.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	return mux
}

// RunResource runs the resource-server rows: service A (an issuer, with an
// Ed25519 key and an admin) issues tokens; service B, built by newResource
// from config.BuildGate with JWKS_URL pointing at A and A's store, accepts
// A's access tokens and nothing else, and stops accepting them within
// REVOCATION_MAX_LAG of a logout, a logout-all or a role change on A. On
// Redis and PostgreSQL, the stores that share revocations.
func RunResource(t *testing.T, newResource GateHandler) {
	for _, kind := range []string{"redis", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var rc *goredis.Client
			var pg *pgxpool.Pool
			switch kind {
			case "redis":
				rc = needRedis(t)
			case "postgres":
				pg = pgtest.Pool(t)
			}
			t.Run(resourceRows[0], func(t *testing.T) {
				a, b := newResourcePair(t, kind, rc, pg, newResource)
				resourceRow(t, a, b)
				a.compareTranscript(resourceRows[0])
			})
		})
	}
}

// newResourcePair starts A and B on one store; B's exchanges go into A's
// transcript.
func newResourcePair(t *testing.T, kind string, rc *goredis.Client, pg *pgxpool.Pool, newResource GateHandler) (a, b *client) {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "issuer.pem")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{
		"JWT_ALG": "EdDSA", "AUTH_STORE": kind, "REDIS_URL": redistest.URL(),
		"REVOCATION_MAX_LAG": resourceLag.String(),
	}
	if kind == "postgres" {
		shared["DATABASE_URL"], shared["POSTGRES_SCHEMA"] = pgtest.URL(), pgtest.Schema(t, pg)
	}
	opts := buildOptions(t, kind, rc) // A and B share the prefix
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	httpClient := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	envA := map[string]string{
		"JWT_PRIVATE_KEY_FILE": keyFile, "ADMIN_USERNAME": AdminUser, "ADMIN_PASSWORD": AdminPassword,
		"MAIL_DIR": filepath.Join(dir, "mail"),
	}
	for k, v := range shared {
		envA[k] = v
	}
	cfgA, err := config.FromLookup(lookup(envA))
	if err != nil {
		t.Fatalf("config A: %v", err)
	}
	stA, err := config.Build(context.Background(), cfgA, opts...)
	if err != nil {
		t.Fatalf("build A: %v", err)
	}
	srvA := httptest.NewServer(issuerHandler(stA))
	t.Cleanup(func() {
		srvA.Close()
		if err := stA.Close(); err != nil {
			t.Errorf("closing A: %v", err)
		}
	})
	a = &client{t: t, srv: srvA, stack: stA, mailDir: envA["MAIL_DIR"], http: httpClient}

	envB := map[string]string{"JWKS_URL": srvA.URL + "/.well-known/jwks.json"}
	for k, v := range shared {
		envB[k] = v
	}
	cfgB, err := config.FromLookup(lookup(envB))
	if err != nil {
		t.Fatalf("config B: %v", err)
	}
	stB, err := config.BuildGate(context.Background(), cfgB, opts...)
	if err != nil {
		t.Fatalf("build B: %v", err)
	}
	srvB := httptest.NewServer(newResource(stB))
	t.Cleanup(func() {
		srvB.Close()
		if err := stB.Close(); err != nil {
			t.Errorf("closing B: %v", err)
		}
	})
	b = &client{t: t, srv: srvB, http: httpClient, root: a}
	return a, b
}

// refusedAfterLag asserts that B refuses tok once the lag bound has passed
// since the revocation on A was acknowledged.
func refusedAfterLag(t *testing.T, b *client, what, tok string) {
	t.Helper()
	time.Sleep(resourceLag + 10*time.Millisecond)
	wantError(t, b.do(req{method: "GET", path: "/me", header: bearer(tok)}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
	if t.Failed() {
		t.Fatalf("B still accepted the access token %s more than REVOCATION_MAX_LAG (%v) later", what, resourceLag)
	}
}

func resourceRow(t *testing.T, a, b *client) {
	alice := a.register("alice", pw)
	if h := jwtHeader(t, alice.AccessToken); h["alg"] != "EdDSA" {
		t.Fatalf("A signs with %v, want EdDSA", h["alg"])
	}
	// B accepts A's access token, and only that.
	me := b.do(req{method: "GET", path: "/me", header: bearer(alice.AccessToken)})
	wantStatus(t, me, http.StatusOK)
	if m := me.JSON(t); m["id"] != alice.User.ID || m["username"] != "alice" {
		t.Errorf("B's /me %v, want alice's id and name", m)
	}
	wantError(t, b.do(req{method: "GET", path: "/me"}), http.StatusUnauthorized, "invalid_token", challengeBare)
	wantError(t, b.do(req{method: "GET", path: "/me", header: bearer(alice.RefreshToken)}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
	wantError(t, b.do(req{method: "GET", path: "/admin/ping", header: bearer(alice.AccessToken)}), http.StatusForbidden, "insufficient_scope")

	// A reset token of A is never an access token at B.
	wantStatus(t, a.do(req{method: "POST", path: "/auth/password/forgot", body: map[string]string{"username": "alice"}}), http.StatusAccepted)
	reset := a.waitToken(1)
	wantError(t, b.do(req{method: "GET", path: "/me", header: bearer(reset)}), http.StatusUnauthorized, "invalid_token", challengeInvalidToken)

	// The admin reaches B's admin route.
	root := a.login(AdminUser, AdminPassword)
	wantStatus(t, b.do(req{method: "GET", path: "/admin/ping", header: bearer(root.AccessToken)}), http.StatusOK)

	// Logout on A: refused on B within the lag.
	wantStatus(t, a.do(req{method: "POST", path: "/auth/logout", header: bearer(alice.AccessToken)}), http.StatusNoContent)
	refusedAfterLag(t, b, "after its logout on A", alice.AccessToken)

	// Logout-all on A: every token of the user, refused on B.
	s1, s2 := a.login("alice", pw), a.login("alice", pw)
	wantStatus(t, b.do(req{method: "GET", path: "/me", header: bearer(s2.AccessToken)}), http.StatusOK)
	wantStatus(t, a.do(req{method: "POST", path: "/auth/logout-all", header: bearer(s1.AccessToken)}), http.StatusNoContent)
	refusedAfterLag(t, b, "of another session after logout-all on A", s2.AccessToken)

	// A role change on A ends the user's tokens: refused on B.
	s3 := a.login("alice", pw)
	wantStatus(t, b.do(req{method: "GET", path: "/me", header: bearer(s3.AccessToken)}), http.StatusOK)
	r := a.do(req{method: "PUT", path: "/admin/users/" + s3.User.ID + "/roles", header: bearer(root.AccessToken),
		body: map[string]any{"roles": []string{"user", "admin"}}})
	wantStatus(t, r, http.StatusOK)
	refusedAfterLag(t, b, "after a role change on A", s3.AccessToken)
	// The new login carries the new role, which B honours.
	s4 := a.login("alice", pw)
	wantStatus(t, b.do(req{method: "GET", path: "/admin/ping", header: bearer(s4.AccessToken)}), http.StatusOK)
}
