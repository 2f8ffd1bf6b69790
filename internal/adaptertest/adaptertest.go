// Package adaptertest is the fixture the chi and gin adapter tests share:
// an Authenticator on a memory store with a settable clock, a store whose
// revocation check can be made to fail, and helpers that serve a request
// and capture what a client sees. Test code only; it uses the standard
// library's testing, not testify.
package adaptertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

const (
	testIssuer   = "gatekeep-test"
	testAudience = "gatekeep-test-api"
)

// Clock is a settable clock shared by the Authenticator, the token Signer
// and Verifier and the memory store.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// FlakyStore is a memory store whose revocation check fails while Down
// is set, as a store that cannot answer does.
type FlakyStore struct {
	*memory.Store
	Down atomic.Bool
}

// IsRevoked fails while Down is set.
func (s *FlakyStore) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if s.Down.Load() {
		return false, errors.New("connection refused")
	}
	return s.Store.IsRevoked(ctx, c)
}

// plainHasher keeps tests fast; the adapters never see a hash.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "plain$" + pw, nil }
func (plainHasher) Verify(pw, enc string) (bool, bool, error) {
	return enc == "plain$"+pw, false, nil
}

// Fixture is an Authenticator with everything behind it.
type Fixture struct {
	T      testing.TB
	Clock  *Clock
	Store  *FlakyStore
	Signer *token.JWTSigner
	// Verifier verifies what Signer signs; Gate is a verify-only
	// auth.Gate over it and Store, configured as A's request side.
	Verifier *token.JWTVerifier
	Gate     *auth.Gate
	A        *auth.Authenticator
	Policy   *rbac.Policy
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// New returns a Fixture: HS256 tokens, a policy where admin inherits user,
// a plain hasher, and opts last.
func New(t testing.TB, opts ...auth.Option) *Fixture {
	t.Helper()
	clk := &Clock{t: time.Now().Truncate(time.Second)}
	m := memory.New(memory.WithClock(clk.Now))
	t.Cleanup(func() { _ = m.Close() })
	st := &FlakyStore{Store: m}
	key, err := token.NewHMACKey(token.HS256, "test-key", bytes.Repeat([]byte("k"), 32))
	must(t, err)
	ks, err := token.NewKeySet(key)
	must(t, err)
	topts := []token.Option{token.WithIssuer(testIssuer), token.WithAudience(testAudience), token.WithClock(clk.Now)}
	signer, err := token.NewSigner(ks, topts...)
	must(t, err)
	verifier, err := token.NewVerifier(ks, topts...)
	must(t, err)
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "user", Permissions: []string{"notes:read"}},
		rbac.Role{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"reports:read"}},
	)
	must(t, err)
	all := append([]auth.Option{
		auth.WithHasher(plainHasher{}), auth.WithClock(clk.Now),
		auth.WithLogger(slog.New(slog.DiscardHandler)), auth.WithPolicy(policy),
		auth.WithIssuer(testIssuer), auth.WithAudience(testAudience),
	}, opts...)
	a, err := auth.New(signer, verifier, st, all...)
	must(t, err)
	gate, err := auth.NewGate(verifier, st, auth.WithLogger(slog.New(slog.DiscardHandler)), auth.WithPolicy(policy),
		auth.WithIssuer(testIssuer), auth.WithAudience(testAudience))
	must(t, err)
	return &Fixture{T: t, Clock: clk, Store: st, Signer: signer, Verifier: verifier, Gate: gate, A: a, Policy: policy}
}

// Sign returns a token of typ for user "u1" with roles, issued now and
// expiring after ttl (negative: already expired), and its claims.
func (f *Fixture) Sign(typ token.Type, ttl time.Duration, roles ...string) (string, *token.Claims) {
	f.T.Helper()
	now := f.Clock.Now()
	iat := now
	if ttl < 0 {
		iat = now.Add(2 * ttl)
	}
	c := &token.Claims{
		Subject: "u1", SessionID: "s1", Roles: roles,
		IssuedAt: iat, ExpiresAt: now.Add(ttl),
		Extra: map[string]string{"preferred_username": "alice"},
	}
	tok, err := f.Signer.Sign(typ, c)
	must(f.T, err)
	return tok, c
}

// Response is what a client can observe of an answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Serve runs req through h.
func Serve(h http.Handler, req *http.Request) Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	return Response{Status: res.StatusCode, Header: res.Header, Body: rec.Body.String()}
}

// NewRequest builds a request with each header of hdr ("Name: value").
func NewRequest(method, target, body string, hdr ...string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Add(k, v)
	}
	return r
}

// PrincipalJSON is the final handler of the guarded test routes: it echoes
// the principal the middleware left on the request context.
var PrincipalJSON = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	out := map[string]any{"authenticated": ok}
	if ok {
		out["user_id"], out["username"], out["roles"] = p.UserID, p.Username, p.Roles
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
})

// CheckRoutesWithIDs walks the routes with a path wildcard ({id}) and the
// admin routes through h, a router with the Authenticator's routes mounted:
// the session id must reach DeleteSession intact, and the admin routes
// must answer 403 to a plain user.
func CheckRoutesWithIDs(t *testing.T, h http.Handler) {
	t.Helper()
	tokens := func(path string, status int) auth.TokenResponse {
		t.Helper()
		res := Serve(h, NewRequest(http.MethodPost, path, `{"username":"alice","password":"correct horse"}`))
		if res.Status != status {
			t.Fatalf("POST %s = %d %s, want %d", path, res.Status, res.Body, status)
		}
		var tr auth.TokenResponse
		must(t, json.Unmarshal([]byte(res.Body), &tr))
		return tr
	}
	first := tokens("/auth/register", http.StatusCreated)
	second := tokens("/auth/login", http.StatusOK)
	bearer := "Authorization: Bearer " + first.AccessToken

	res := Serve(h, NewRequest(http.MethodGet, "/auth/sessions", "", bearer))
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	must(t, json.Unmarshal([]byte(res.Body), &list))
	if res.Status != http.StatusOK || len(list.Sessions) != 2 {
		t.Fatalf("GET /auth/sessions = %d %s, want 200 with 2 sessions", res.Status, res.Body)
	}
	other := ""
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	for _, row := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodDelete, "/auth/sessions/no-such-session", "", http.StatusNotFound},
		{http.MethodDelete, "/auth/sessions/" + other, "", http.StatusNoContent},
		{http.MethodGet, "/admin/users", "", http.StatusForbidden},
		{http.MethodPut, "/admin/users/" + first.User.ID + "/roles", `{"roles":["admin"]}`, http.StatusForbidden},
	} {
		if res := Serve(h, NewRequest(row.method, row.path, row.body, bearer)); res.Status != row.want {
			t.Errorf("%s %s = %d %s, want %d", row.method, row.path, res.Status, res.Body, row.want)
		}
	}
	if res := Serve(h, NewRequest(http.MethodGet, "/me", "", "Authorization: Bearer "+second.AccessToken)); res.Status != http.StatusUnauthorized {
		t.Errorf("the ended session's access token still works: GET /me = %d", res.Status)
	}
}
