package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

func TestNewValidates(t *testing.T) {
	f := newFixture(t, nil)
	var nilSigner *token.JWTSigner
	var nilVerifier *token.JWTVerifier
	var nilStore *memory.Store
	tests := []struct {
		name string
		s    token.Signer
		v    token.Verifier
		st   store.Store
		opts []Option
	}{
		{"nil signer", nil, f.verifier, f.st, nil},
		{"typed nil signer", nilSigner, f.verifier, f.st, nil},
		{"nil verifier", f.signer, nil, f.st, nil},
		{"typed nil verifier", f.signer, nilVerifier, f.st, nil},
		{"nil store", f.signer, f.verifier, nil, nil},
		{"typed nil store", f.signer, f.verifier, nilStore, nil},
		{"nil option", f.signer, f.verifier, f.st, []Option{nil}},
		{"zero access TTL", f.signer, f.verifier, f.st, []Option{WithAccessTTL(0)}},
		{"access TTL over 24h", f.signer, f.verifier, f.st, []Option{WithAccessTTL(25 * time.Hour)}},
		{"refresh shorter than access", f.signer, f.verifier, f.st, []Option{WithAccessTTL(time.Hour), WithRefreshTTL(time.Minute)}},
		{"session shorter than access", f.signer, f.verifier, f.st, []Option{WithSessionMaxAge(time.Minute)}},
		{"negative leeway", f.signer, f.verifier, f.st, []Option{WithLeeway(-time.Second)}},
		{"leeway over 5m", f.signer, f.verifier, f.st, []Option{WithLeeway(6 * time.Minute)}},
		{"grace over 60s", f.signer, f.verifier, f.st, []Option{WithRefreshReuseGrace(61 * time.Second)}},
		{"negative grace", f.signer, f.verifier, f.st, []Option{WithRefreshReuseGrace(-1)}},
		{"no hash slots", f.signer, f.verifier, f.st, []Option{WithMaxConcurrentHashes(0, time.Second)}},
		{"no hash wait", f.signer, f.verifier, f.st, []Option{WithMaxConcurrentHashes(1, 0)}},
		{"zero failures", f.signer, f.verifier, f.st, []Option{WithLoginThrottle(0, time.Minute)}},
		{"zero window", f.signer, f.verifier, f.st, []Option{WithLoginThrottle(5, 0)}},
		{"nil clock", f.signer, f.verifier, f.st, []Option{WithClock(nil)}},
		{"nil logger", f.signer, f.verifier, f.st, []Option{WithLogger(nil)}},
		{"nil hasher", f.signer, f.verifier, f.st, []Option{WithHasher(nil)}},
		{"typed nil hasher", f.signer, f.verifier, f.st, []Option{WithHasher((*Bcrypt)(nil))}},
		{"nil error handler", f.signer, f.verifier, f.st, []Option{WithErrorHandler(nil)}},
		{"empty audience", f.signer, f.verifier, f.st, []Option{WithAudience("")}},
		{"invalid proxy prefix", f.signer, f.verifier, f.st, []Option{WithTrustedProxies([]netip.Prefix{{}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.s, tt.v, tt.st, append([]Option{WithHasher(fastHasher())}, tt.opts...)...)
			assert.Nil(t, a)
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	t.Run("limits are inclusive", func(t *testing.T) {
		_, err := New(f.signer, f.verifier, f.st, WithHasher(fastHasher()),
			WithAccessTTL(MaxAccessTTL), WithRefreshTTL(MaxAccessTTL), WithSessionMaxAge(MaxAccessTTL),
			WithLeeway(MaxLeeway), WithRefreshReuseGrace(MaxRefreshReuseGrace))
		assert.NoError(t, err)
	})
}

func TestResponseFor(t *testing.T) {
	secretText := "redis: dial tcp 10.0.0.5:6379: password=hunter2"
	tests := []struct {
		name      string
		err       error
		status    int
		code      string
		challenge string
	}{
		{"no token", ErrNoToken, 401, CodeInvalidToken, `Bearer realm="gatekeep"`},
		{"invalid token", fmt.Errorf("%w: %w", ErrInvalidToken, token.ErrExpired), 401, CodeInvalidToken, challengeInvalidToken},
		{"revoked", ErrRevoked, 401, CodeInvalidToken, challengeInvalidToken},
		{"credentials", ErrInvalidCredentials, 401, CodeInvalidCredentials, `Bearer realm="gatekeep"`},
		{"scope", ErrInsufficientScope, 403, CodeInsufficientScope, challengeInsufficiency},
		{"scope with roles", &scopeError{scope: "admin editor"}, 403, CodeInsufficientScope, challengeInsufficiency + `, scope="admin editor"`},
		{"request", ErrInvalidRequest, 400, CodeInvalidRequest, ""},
		{"too large", ErrPayloadTooLarge, 413, CodePayloadTooLarge, ""},
		{"exists", ErrUserExists, 409, CodeUserExists, ""},
		{"not found", ErrNotFound, 404, CodeNotFound, ""},
		{"cross origin", ErrCrossOrigin, 403, CodeInvalidRequest, challengeInsufficiency}, // docs/http-api.md: every 403 carries it
		{"throttled", &ThrottledError{RetryAfter: 1500 * time.Millisecond}, 429, CodeTooManyAttempts, ""},
		{"unavailable", fmt.Errorf("%w: %s", ErrUnavailable, secretText), 503, CodeUnavailable, ""},
		// Anything unknown fails closed, and its text never reaches the client.
		{"unknown error", errors.New(secretText), 503, CodeUnavailable, ""},
		{"store error", fmt.Errorf("x: %w", store.ErrUnavailable), 503, CodeUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ResponseFor(tt.err)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.challenge, e.Challenge)
			w := httptest.NewRecorder()
			WriteError(w, nil, tt.err)
			requireError(t, w, tt.status, tt.code)
			assert.NotContains(t, w.Body.String(), "hunter2")
			assert.NotContains(t, w.Body.String(), "10.0.0.5")
			if tt.status == 429 {
				assert.Equal(t, "2", w.Header().Get("Retry-After"))
			}
		})
	}
}

func TestErrorHandlerHook(t *testing.T) {
	var got error
	f := newFixture(t, nil, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(599)
	}))
	w := f.do(req{method: "GET", path: "/private"})
	assert.Equal(t, 599, w.Code)
	assert.ErrorIs(t, got, ErrNoToken)
}

func TestMethodsAndRoutes(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	for _, h := range []struct {
		name  string
		h     http.Handler
		allow string
	}{
		{"register", f.a.RegisterHandler(), "POST"}, {"login", f.a.LoginHandler(), "POST"},
		{"refresh", f.a.RefreshHandler(), "POST"}, {"logout", f.a.LogoutHandler(), "POST"},
		{"logout-all", f.a.LogoutAllHandler(), "POST"}, {"me", f.a.MeHandler(), "GET"}, {"health", f.a.HealthHandler(), "GET"},
		{"sessions", f.a.SessionsHandler(), "GET"}, {"delete session", f.a.DeleteSessionHandler(), "DELETE"},
		{"change", f.a.ChangePasswordHandler(), "POST"}, {"forgot", f.a.ForgotPasswordHandler(), "POST"},
		{"reset", f.a.ResetPasswordHandler(), "POST"}, {"users", f.a.UsersHandler(), "GET"},
	} {
		t.Run(h.name, func(t *testing.T) {
			// Mounted anywhere (a router without method patterns), a
			// handler still refuses other methods.
			w := httptest.NewRecorder()
			h.h.ServeHTTP(w, httptest.NewRequest("PUT", "/x", nil))
			requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
			assert.Equal(t, h.allow, w.Header().Get("Allow"))
		})
	}
	// Through the mounted routes too: every error body is JSON.
	for _, r := range []req{{method: "GET", path: "/auth/login"}, {method: "DELETE", path: "/me"}, {method: "POST", path: "/healthz"}} {
		requireError(t, f.do(r), http.StatusMethodNotAllowed, CodeInvalidRequest)
	}
	w := f.do(req{method: "GET", path: "/healthz"})
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, 200, f.do(req{method: "HEAD", path: "/healthz"}).Code)
	assert.JSONEq(t, `{"status":"ok"}`, w.Body.String())
	requireError(t, f.do(req{method: "GET", path: "/me"}), 401, CodeInvalidToken)
	assert.Equal(t, 200, f.do(req{method: "GET", path: "/me", bearer: tr.AccessToken}).Code)
}

// plainVerifier hides the concrete verifier, as a third-party Verifier would.
type plainVerifier struct{ token.Verifier }

// anonymousVerifier is a Verifier that does not pass the username claim on.
type anonymousVerifier struct{ token.Verifier }

func (v anonymousVerifier) Verify(ctx context.Context, typ token.Type, tok string) (*token.Claims, error) {
	c, err := v.Verifier.Verify(ctx, typ, tok)
	if c != nil {
		c.Username = ""
	}
	return c, err
}

// TestMeWithVerifierThatCannotReadTheUsername: /me names the user from the
// store when the token's claims come without a username.
func TestMeWithVerifierThatCannotReadTheUsername(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	a, err := New(f.signer, anonymousVerifier{f.verifier}, f.st, WithHasher(fastHasher()), WithClock(f.clk.Now), WithLogger(slog.New(&logSink{})))
	require.NoError(t, err)
	p, err := a.AuthenticateToken(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "", p.Username)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	a.MeHandler().ServeHTTP(w, r)
	assert.JSONEq(t, `{"id":"`+tr.User.ID+`","username":"alice","roles":["user"],"mfa":false}`, w.Body.String())
}

func TestAuthorizeWithPolicy(t *testing.T) {
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "user"},
		rbac.Role{Name: "editor", Inherits: []string{"user"}},
		rbac.Role{Name: "admin", Inherits: []string{"editor"}},
	)
	require.NoError(t, err)
	f := newFixture(t, nil, WithPolicy(policy))
	tr := f.register("alice")
	adm := f.register("root")
	_, err = f.st.UpdateUser(t.Context(), adm.User.ID, store.UserUpdate{Roles: []string{"admin"}})
	require.NoError(t, err)
	admin := f.login("root")
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	tests := []struct {
		name   string
		guard  func(http.Handler) http.Handler
		tok    string
		status int
	}{
		{"admin inherits editor", f.a.Authorize("editor"), admin.AccessToken, 204},
		{"user is not editor", f.a.Authorize("editor"), tr.AccessToken, 403},
		{"any of", f.a.Authorize("admin", "user"), tr.AccessToken, 204},
		{"no token", f.a.Authorize("user"), "", 401},
		// A guard that cannot be built denies everyone rather than no one.
		{"unknown role", f.a.Authorize("superuser"), admin.AccessToken, 403},
		{"no roles", f.a.Authorize(), admin.AccessToken, 403},
		{"nil requirement", f.a.Guard(nil), admin.AccessToken, 403},
		{"requirement", f.a.Guard(rbac.MustNewRequirement(policy, rbac.AllRoles, "user", "editor")), admin.AccessToken, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.tok != "" {
				r.Header.Set("Authorization", "Bearer "+tt.tok)
			}
			w := httptest.NewRecorder()
			tt.guard(ok).ServeHTTP(w, r)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
		})
	}
	assert.Contains(t, f.logs.all(), "auth.guard_invalid")

	t.Run("without policy roles match exactly", func(t *testing.T) {
		g := newFixture(t, nil)
		u := g.register("carol")
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+u.AccessToken)
		g.a.Authorize("User")(ok).ServeHTTP(w, r)
		assert.Equal(t, 403, w.Code)
	})
}

func TestRevokedAccessToken(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	c, err := f.verifier.Verify(t.Context(), token.Access, tr.AccessToken)
	require.NoError(t, err)
	require.NoError(t, f.st.Revoke(t.Context(), c.ID, c.ExpiresAt))
	w := f.do(req{method: "GET", path: "/private", bearer: tr.AccessToken})
	requireError(t, w, 401, CodeInvalidToken)
	assert.Equal(t, challengeInvalidToken, w.Header().Get("WWW-Authenticate"))
}

// TestNothingSecretIsLogged runs every flow and looks for passwords and
// tokens in every audit attribute.
func TestNothingSecretIsLogged(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(2, time.Minute))
	first := f.register("alice")
	second := f.login("alice")
	f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password 1")})
	f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password 2")})
	f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password 3")})
	// A user who types a password into the username field.
	f.do(req{method: "POST", path: "/auth/login", body: creds("Pa55word-in-name", "wrong password 4")})
	w := f.refresh(second.RefreshToken)
	third := decodeTokens(t, w)
	f.refresh(second.RefreshToken) // reuse
	f.do(req{method: "POST", path: "/auth/logout", bearer: first.AccessToken})
	f.do(req{method: "POST", path: "/auth/logout-all", bearer: f.login2("alice").AccessToken})
	logs := f.logs.all()
	for _, want := range []string{"auth.register", "auth.login", "auth.login_failed", "auth.login_throttled",
		"auth.refresh", "auth.refresh_reuse_detected", "auth.logout", "auth.logout_all"} {
		assert.Contains(t, logs, want)
	}
	for _, secret := range []string{testPassword, "wrong password", "Pa55word", first.AccessToken, first.RefreshToken,
		second.AccessToken, second.RefreshToken, third.AccessToken, third.RefreshToken} {
		assert.NotContains(t, logs, secret)
	}
	// Request bodies redact their secrets whatever prints them.
	c := Registration{Username: "u", Password: testPassword}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, testPassword)
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "creds", c, "tokens", third)
	assert.NotContains(t, b.String(), testPassword)
	assert.NotContains(t, b.String(), third.AccessToken)
}

// login2 logs in after the throttle window has passed.
func (f *fixture) login2(username string) TokenResponse {
	f.clk.Advance(2 * time.Minute)
	return f.login(username)
}

// TestCachedVerifierStillChecksRevocation: a token.Cache answers the
// signature work, never the revocation check, which runs on every request.
func TestCachedVerifierStillChecksRevocation(t *testing.T) {
	f := newFixture(t, nil)
	cache, err := token.NewCache(0)
	require.NoError(t, err)
	cached, err := f.verifier.Cached(cache)
	require.NoError(t, err)
	a, err := New(f.signer, cached, f.st, WithHasher(fastHasher()), WithClock(f.clk.Now), WithLogger(slog.New(&logSink{})))
	require.NoError(t, err)
	tr := f.register("alice")
	for range 2 { // the second is a cache hit
		p, err := a.AuthenticateToken(t.Context(), tr.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, "alice", p.Username)
	}
	w := f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken})
	require.Equal(t, http.StatusNoContent, w.Code)
	_, err = a.AuthenticateToken(t.Context(), tr.AccessToken)
	assert.ErrorIs(t, err, ErrRevoked)
}

// countingVerifier counts the verifications that reach it.
type countingVerifier struct {
	v token.Verifier
	n atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, typ token.Type, tok string) (*token.Claims, error) {
	c.n.Add(1)
	return c.v.Verify(ctx, typ, tok)
}

// TestNoCacheBehindTheVerifier: the Authenticator (its Gate) works through
// the Verifier interface alone and adds no cache in front of the one it was
// handed: every request reaches it, and the username still comes through.
func TestNoCacheBehindTheVerifier(t *testing.T) {
	f := newFixture(t, nil)
	cv := &countingVerifier{v: f.verifier}
	a, err := New(f.signer, cv, f.st, WithHasher(fastHasher()), WithClock(f.clk.Now), WithLogger(slog.New(&logSink{})))
	require.NoError(t, err)
	tr := f.register("alice")
	for range 3 {
		p, err := a.AuthenticateToken(t.Context(), tr.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, "alice", p.Username)
	}
	assert.Equal(t, int64(3), cv.n.Load(), "every authentication reached the verifier")
	w := f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken})
	require.Equal(t, http.StatusNoContent, w.Code)
	_, err = a.AuthenticateToken(t.Context(), tr.AccessToken)
	assert.ErrorIs(t, err, ErrRevoked)
}
