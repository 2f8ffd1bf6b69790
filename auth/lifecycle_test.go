package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

var client = Client{IP: netip.MustParseAddr("192.0.2.7"), UserAgent: "go-test"}

// TestLifecycleFromGo drives register, login, refresh, sessions, password
// change and logout through the Go API alone, with the sentinels a caller
// branches on.
func TestLifecycleFromGo(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := f.a

	reg, err := a.Register(ctx, Registration{Username: "Alice", Password: testPassword, Email: "alice@example.com"}, client)
	require.NoError(t, err)
	assert.Equal(t, "alice", reg.User.Username)
	assert.Equal(t, []string{"user"}, reg.User.Roles)
	assert.True(t, reg.AccessExpiresAt.After(f.clk.Now()))

	_, err = a.Register(ctx, Registration{Username: "ALICE", Password: testPassword}, client)
	assert.ErrorIs(t, err, ErrUserExists)
	_, err = a.Register(ctx, Registration{Username: "bob", Password: "short"}, client)
	assert.ErrorIs(t, err, ErrPasswordTooShort)
	_, err = a.Register(ctx, Registration{Username: "bob", Password: testPassword, Email: "not an address"}, client)
	assert.ErrorIs(t, err, ErrInvalidRequest)

	_, err = a.Login(ctx, "alice", "wrong password", client)
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = a.Login(ctx, "nobody", testPassword, client)
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = a.Login(ctx, "", testPassword, client)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	login, err := a.Login(ctx, "ALICE", testPassword, client)
	require.NoError(t, err)

	p, err := a.AuthenticateToken(ctx, login.AccessToken)
	require.NoError(t, err)
	sessions, err := a.ListSessions(ctx, p)
	require.NoError(t, err)
	require.Len(t, sessions.Sessions, 2)
	current := 0
	for _, s := range sessions.Sessions {
		if s.Current {
			current++
			assert.Equal(t, p.SessionID, s.ID)
			assert.Equal(t, "go-test", s.UserAgent)
			assert.Equal(t, "192.0.2.7", s.IP)
		}
	}
	assert.Equal(t, 1, current)

	f.clk.Advance(time.Minute)
	next, err := a.Refresh(ctx, login.RefreshToken, client)
	require.NoError(t, err)
	_, err = a.Refresh(ctx, login.RefreshToken, client)
	assert.ErrorIs(t, err, ErrInvalidToken, "a spent refresh token is reuse")
	_, err = a.Refresh(ctx, next.RefreshToken, client)
	assert.ErrorIs(t, err, ErrRevoked, "reuse ended the whole session")
	_, err = a.Refresh(ctx, reg.AccessToken, client)
	assert.ErrorIs(t, err, ErrInvalidToken, "an access token is not a refresh token")

	pr, err := a.AuthenticateToken(ctx, reg.AccessToken)
	require.NoError(t, err)
	assert.ErrorIs(t, a.ChangePassword(ctx, pr, "wrong password", "another good password", client), ErrInvalidCredentials)
	require.NoError(t, a.ChangePassword(ctx, pr, testPassword, "another good password", client))
	_, err = a.Login(ctx, "alice", testPassword, client)
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = a.Login(ctx, "alice", "another good password", client)
	require.NoError(t, err)

	require.NoError(t, a.Logout(ctx, pr))
	_, err = a.AuthenticateToken(ctx, reg.AccessToken)
	assert.ErrorIs(t, err, ErrRevoked)
	assert.ErrorIs(t, a.Logout(ctx, nil), ErrNoToken)
}

// TestLoginThrottledFromGo: the Go API is throttled like the handler, and
// the error says when to retry.
func TestLoginThrottledFromGo(t *testing.T) {
	f := newFixture(t, nil)
	f.register("alice")
	var err error
	for range DefaultMaxFailures + 1 {
		_, err = f.a.Login(t.Context(), "alice", "wrong password", client)
	}
	require.ErrorIs(t, err, ErrThrottled)
	var te *ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Positive(t, te.RetryAfter)
}

// TestIssueTokens: a session for a user the application authenticated
// itself is an ordinary session: it refreshes and logs out like any other.
func TestIssueTokens(t *testing.T) {
	f := newFixture(t, nil)
	alice := f.register("alice")
	ctx := t.Context()
	tr, err := f.a.IssueTokens(ctx, alice.User.ID, client)
	require.NoError(t, err)
	p, err := f.a.AuthenticateToken(ctx, tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", p.Username)
	assert.NotEqual(t, alice.User.ID, p.SessionID)
	assert.Contains(t, f.logs.all(), "auth.tokens_issued")

	f.clk.Advance(time.Minute)
	_, err = f.a.Refresh(ctx, tr.RefreshToken, client)
	require.NoError(t, err)

	_, err = f.a.IssueTokens(ctx, "no-such-user", client)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = f.a.IssueTokens(ctx, "", client)
	assert.ErrorIs(t, err, ErrNotFound)
}

type appClaims struct {
	Tenant string `json:"tenant"`
	Plan   string `json:"plan"`
}

// TestWithClaims: application claims are in every issued access token,
// readable behind the middleware (cache hit included), and a change to the
// user shows at the next refresh.
func TestWithClaims(t *testing.T) {
	var plan atomic.Value
	plan.Store("free")
	f := newFixture(t, nil, WithClaims(func(_ context.Context, u store.User) (map[string]any, error) {
		if u.PasswordHash != "" {
			return nil, errors.New("the hook must not see the password hash")
		}
		return map[string]any{"tenant": "acme", "plan": plan.Load(), "email": u.Email}, nil
	}))
	ctx := t.Context()
	tr, err := f.a.Register(ctx, Registration{Username: "alice", Password: testPassword, Email: "a@example.com"}, client)
	require.NoError(t, err)

	var seen []appClaims
	h := f.a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsAs[appClaims](r.Context())
		require.True(t, ok)
		seen = append(seen, c)
		m, ok := ClaimsAs[map[string]any](r.Context())
		require.True(t, ok)
		assert.Equal(t, "a@example.com", m["email"])
	}))
	for _, tok := range []string{tr.AccessToken, tr.AccessToken} { // the second is a cache hit
		serveBearer(h, tok)
	}
	plan.Store("pro")
	f.clk.Advance(time.Minute)
	next, err := f.a.Refresh(ctx, tr.RefreshToken, client)
	require.NoError(t, err)
	serveBearer(h, next.AccessToken)
	assert.Equal(t, []appClaims{{"acme", "free"}, {"acme", "free"}, {"acme", "pro"}}, seen)

	// The claims are in the token itself, for any verifier to read.
	c, err := f.verifier.Verify(ctx, token.Access, next.AccessToken)
	require.NoError(t, err)
	assert.Contains(t, string(c.Extra.(token.RawClaims)), `"tenant":"acme"`)
	// Refresh tokens carry none.
	rc, err := f.verifier.Verify(ctx, token.Refresh, next.RefreshToken)
	require.NoError(t, err)
	assert.Nil(t, rc.Extra)

	// Without a principal there is nothing to read.
	_, ok := ClaimsAs[appClaims](context.Background())
	assert.False(t, ok)
}

func serveBearer(h http.Handler, tok string) int {
	w := httptest.NewRecorder()
	r, _ := http.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(w, r)
	return w.Code
}

// TestWithClaimsRefused: a reserved name, an oversized set or a hook error
// fails the issue with 503 and issues nothing; the log names a refused
// claim but never a value.
func TestWithClaimsRefused(t *testing.T) {
	for name, fn := range map[string]ClaimsFunc{
		"reserved sub": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"sub": "admin-user-id"}, nil
		},
		"reserved roles": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"roles": []string{"admin"}}, nil
		},
		"reserved username": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"preferred_username": "root"}, nil
		},
		"reserved typ": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"typ": "at+jwt"}, nil
		},
		"too large": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"blob": strings.Repeat("x", MaxClaimsBytes)}, nil
		},
		"not encodable": func(context.Context, store.User) (map[string]any, error) {
			return map[string]any{"ch": make(chan int)}, nil
		},
		"hook error": func(context.Context, store.User) (map[string]any, error) {
			return nil, errors.New("billing service down: secret-detail")
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil, WithClaims(fn))
			w := f.do(req{method: "POST", path: "/auth/register", body: creds("alice", testPassword)})
			requireError(t, w, http.StatusServiceUnavailable, CodeUnavailable)
			assert.NotContains(t, w.Body.String(), "access_token")
			assert.NotContains(t, f.logs.all(), "secret-detail")
			assert.NotContains(t, f.logs.all(), "admin-user-id")
			assert.Contains(t, f.logs.all(), "auth.claims_failed")
			// The registration's session was abandoned: none is left.
			u, err := f.st.UserByUsername(t.Context(), "alice")
			require.NoError(t, err)
			ss, err := f.st.UserSessions(t.Context(), u.ID)
			require.NoError(t, err)
			assert.Empty(t, ss)
		})
	}
	err := CheckClaims(map[string]any{"tenant": "a", "aud": "x"})
	var rc *ReservedClaimError
	require.ErrorAs(t, err, &rc)
	assert.Equal(t, "aud", rc.Name)
	assert.ErrorIs(t, err, ErrReservedClaim)
	assert.NoError(t, CheckClaims(map[string]any{"tenant": "a"}))
}

// TestClaimsFailureOnRefreshSpendsNothing: a hook that fails at refresh
// leaves the refresh token usable once the hook recovers.
func TestClaimsFailureOnRefreshSpendsNothing(t *testing.T) {
	var fail atomic.Bool
	f := newFixture(t, nil, WithClaims(func(context.Context, store.User) (map[string]any, error) {
		if fail.Load() {
			return nil, errors.New("down")
		}
		return map[string]any{"tenant": "acme"}, nil
	}))
	tr := f.register("alice")
	fail.Store(true)
	requireError(t, f.refresh(tr.RefreshToken), http.StatusServiceUnavailable, CodeUnavailable)
	fail.Store(false)
	assert.Equal(t, http.StatusOK, f.refresh(tr.RefreshToken).Code)
}

// TestRevokePreviousOnRefresh: with the option, the access token of the
// spent pair stops at the refresh; without it, it works until it expires.
func TestRevokePreviousOnRefresh(t *testing.T) {
	for _, on := range []bool{false, true} {
		var opts []Option
		if on {
			opts = append(opts, WithRevokePreviousOnRefresh())
		}
		f := newFixture(t, nil, opts...)
		tr := f.register("alice")
		require.Equal(t, http.StatusOK, f.status(tr.AccessToken))
		f.clk.Advance(time.Minute)
		w := f.refresh(tr.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code)
		next := decodeTokens(t, w)
		want := http.StatusOK
		if on {
			want = http.StatusUnauthorized
		}
		assert.Equal(t, want, f.status(tr.AccessToken), "old access token, option %v", on)
		assert.Equal(t, http.StatusOK, f.status(next.AccessToken))
	}
}

// TestNewGate: a Gate needs a Verifier and a Revoker and nothing more; it
// accepts the Authenticator's access tokens, refuses its refresh and reset
// tokens, and sees the Authenticator's revocations through the shared store.
func TestNewGate(t *testing.T) {
	f := newFixture(t, nil)
	_, err := NewGate(nil, f.st)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewGate(f.verifier, nil)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	var nilStore *memory.Store
	_, err = NewGate(f.verifier, nilStore)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewGate(f.verifier, f.st, nil)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewGate(f.verifier, f.st, WithAudience(""))
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewGate(f.verifier, f.st, WithCookies(CookieConfig{AccessName: "a b"}))
	assert.ErrorIs(t, err, ErrInvalidConfig)

	// The Revoker alone: a type that is nothing but one.
	g, err := NewGate(f.verifier, revokerOnly{f.st}, WithIssuer(testIssuer), WithAudience(testAudience))
	require.NoError(t, err)
	tr := f.register("alice")
	p, err := g.AuthenticateToken(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", p.Username)
	_, err = g.AuthenticateToken(t.Context(), tr.RefreshToken)
	assert.ErrorIs(t, err, ErrInvalidToken)

	h := g.Authorize("admin")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	assert.Equal(t, http.StatusForbidden, serveBearer(h, tr.AccessToken))
	assert.Equal(t, http.StatusOK, serveBearer(g.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), tr.AccessToken))

	require.Equal(t, http.StatusNoContent, f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken}).Code)
	_, err = g.AuthenticateToken(t.Context(), tr.AccessToken)
	assert.ErrorIs(t, err, ErrRevoked)

	// The Gate's own issuer and audience are required too.
	strict, err := NewGate(f.verifier, f.st, WithIssuer("someone-else"))
	require.NoError(t, err)
	_, err = strict.AuthenticateToken(t.Context(), f.login("alice").AccessToken)
	assert.ErrorIs(t, err, ErrInvalidToken)
}

// revokerOnly hides every method of a store but IsRevoked.
type revokerOnly struct{ r store.Revoker }

func (v revokerOnly) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	return v.r.IsRevoked(ctx, c)
}
func (v revokerOnly) Revoke(ctx context.Context, id string, until time.Time) error {
	return v.r.Revoke(ctx, id, until)
}
func (v revokerOnly) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	return v.r.RevokeUserBefore(ctx, userID, before, until)
}
func (v revokerOnly) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	return v.r.UseOnce(ctx, id, until)
}
