package chi_test

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

	"github.com/stretchr/testify/require"

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

// clock is a settable clock shared by the Authenticator, the token Signer
// and Verifier and the memory store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// flakyStore is a memory store whose revocation check fails while down
// is set, as a store that cannot answer does.
type flakyStore struct {
	*memory.Store
	down atomic.Bool
}

func (s *flakyStore) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if s.down.Load() {
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

type fixture struct {
	t      testing.TB
	clk    *clock
	st     *flakyStore
	signer *token.JWTSigner
	a      *auth.Authenticator
	policy *rbac.Policy
}

func newFixture(t testing.TB, opts ...auth.Option) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().Truncate(time.Second)}
	m := memory.New(memory.WithClock(clk.Now))
	t.Cleanup(func() { _ = m.Close() })
	st := &flakyStore{Store: m}
	key, err := token.NewHMACKey(token.HS256, "test-key", bytes.Repeat([]byte("k"), 32))
	require.NoError(t, err)
	ks, err := token.NewKeySet(key)
	require.NoError(t, err)
	topts := []token.Option{token.WithIssuer(testIssuer), token.WithAudience(testAudience), token.WithClock(clk.Now)}
	signer, err := token.NewSigner(ks, topts...)
	require.NoError(t, err)
	verifier, err := token.NewVerifier(ks, topts...)
	require.NoError(t, err)
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "user", Permissions: []string{"notes:read"}},
		rbac.Role{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"reports:read"}},
	)
	require.NoError(t, err)
	all := append([]auth.Option{
		auth.WithHasher(plainHasher{}), auth.WithClock(clk.Now),
		auth.WithLogger(slog.New(slog.DiscardHandler)), auth.WithPolicy(policy),
		auth.WithIssuer(testIssuer), auth.WithAudience(testAudience),
	}, opts...)
	a, err := auth.New(signer, verifier, st, all...)
	require.NoError(t, err)
	return &fixture{t: t, clk: clk, st: st, signer: signer, a: a, policy: policy}
}

// sign returns a token of typ for user "u1" with roles, issued now and
// expiring after ttl (negative: already expired), and its claims.
func (f *fixture) sign(typ token.Type, ttl time.Duration, roles ...string) (string, *token.Claims) {
	f.t.Helper()
	now := f.clk.Now()
	iat := now
	if ttl < 0 {
		iat = now.Add(2 * ttl)
	}
	c := &token.Claims{
		Subject: "u1", SessionID: "s1", Roles: roles,
		IssuedAt: iat, ExpiresAt: now.Add(ttl),
		Extra: map[string]string{"preferred_username": "alice"},
	}
	tok, err := f.signer.Sign(typ, c)
	require.NoError(f.t, err)
	return tok, c
}

// response is what a client can observe of an answer.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func serve(h http.Handler, req *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	return response{Status: res.StatusCode, Header: res.Header, Body: rec.Body.String()}
}

// newRequest builds a request with each header of hdr ("Name: value").
func newRequest(method, target, body string, hdr ...string) *http.Request {
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

// principalJSON is the final handler of the guarded test routes: it echoes
// the principal the middleware left on the request context.
var principalJSON = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	out := map[string]any{"authenticated": ok}
	if ok {
		out["user_id"], out["username"], out["roles"] = p.UserID, p.Username, p.Roles
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
})
