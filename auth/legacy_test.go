package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/internal/nodejwt"
	"github.com/gatekeep/gatekeep/token"
)

// fixtureSecret is newFixture's HMAC key, as a Node service's JWT_SECRET.
var fixtureSecret = strings.Repeat("k", 32)

// legacyFixture is newFixture accepting legacy tokens signed with its key.
func legacyFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	var f *fixture
	clk := func() time.Time { return f.clk.Now() } // f is set before any token is verified
	key, err := token.NewHMACKey(token.HS256, "test-key", []byte(fixtureSecret))
	require.NoError(t, err)
	lv, err := token.NewLegacyVerifier(key, token.WithClock(clk), token.WithIssuer(testIssuer), token.WithAudience(testAudience))
	require.NoError(t, err)
	f = newFixture(t, nil, append([]Option{WithLegacyTokens(lv)}, opts...)...)
	return f
}

// expressTokens signs, with the real jsonwebtoken, one token per payload as
// an express application does: jwt.sign(payload, JWT_SECRET, {expiresIn: '15m'}),
// at the fixture's time.
func (f *fixture) expressTokens(payloads ...map[string]any) []string {
	f.t.Helper()
	reqs := make([]nodejwt.Request, len(payloads))
	for i, p := range payloads {
		p["iat"] = f.clk.Now().Unix()
		reqs[i] = nodejwt.Request{Payload: p, Key: fixtureSecret, Options: map[string]any{"expiresIn": "15m"}}
	}
	return nodejwt.Sign(f.t, reqs...)
}

func (f *fixture) me(tok string) (int, map[string]any) {
	f.t.Helper()
	w := f.do(req{method: "GET", path: "/me", bearer: tok})
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body
}

func TestLegacyTokens(t *testing.T) {
	f := legacyFixture(t)
	alice := f.register("alice")
	id := alice.User.ID
	toks := f.expressTokens(
		map[string]any{"id": id, "admin": true},
		map[string]any{"sub": id},
		map[string]any{"id": id, "admin": false},
	)
	admin, plain, notAdmin := toks[0], toks[1], toks[2]

	// Accepted, with role admin only from admin: true.
	code, body := f.me(admin)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, id, body["id"])
	require.Equal(t, "alice", body["username"])
	require.Equal(t, []any{"user", "admin"}, body["roles"])
	code, body = f.me(plain)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []any{"user"}, body["roles"])
	require.Equal(t, http.StatusOK, f.do(req{method: "GET", path: "/admin", bearer: admin}).Code)
	requireError(t, f.do(req{method: "GET", path: "/admin", bearer: notAdmin}), http.StatusForbidden, "insufficient_scope")

	// No session, and named in the audit log (never the token itself).
	w := f.do(req{method: "GET", path: "/private", bearer: admin})
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), `"session_id":""`)
	require.Contains(t, f.logs.all(), "auth.legacy_token user_id="+id+" admin=true")
	require.NotContains(t, f.logs.all(), admin)

	// Never refreshed: it is not a refresh token, and no refresh token exists for it.
	requireError(t, f.refresh(admin), http.StatusUnauthorized, "invalid_token")

	// Logout ends this token only.
	require.Equal(t, http.StatusNoContent, f.do(req{method: "POST", path: "/auth/logout", bearer: notAdmin}).Code)
	requireError(t, f.do(req{method: "GET", path: "/me", bearer: notAdmin}), http.StatusUnauthorized, "invalid_token")
	require.Equal(t, http.StatusOK, f.status(plain))

	// The user's valid-after time (logout-all) ends every legacy token.
	f.clk.Advance(time.Second)
	require.Equal(t, http.StatusNoContent, f.do(req{method: "POST", path: "/auth/logout-all", bearer: alice.AccessToken}).Code)
	require.Equal(t, http.StatusUnauthorized, f.status(admin))
	require.Equal(t, http.StatusUnauthorized, f.status(plain))
	// A token signed after it works again.
	require.Equal(t, http.StatusOK, f.status(f.expressTokens(map[string]any{"id": id})[0]))
}

// What must fail on the HTTP side: forgeries, and legacy tokens where the
// option is off.
func TestLegacyTokensRefused(t *testing.T) {
	f := legacyFixture(t)
	id := f.register("bob").User.ID
	iat := f.clk.Now().Unix()
	claims := map[string]any{"id": id, "admin": true, "iat": iat, "exp": iat + 900}
	toks := nodejwt.Sign(t,
		nodejwt.Request{Payload: claims, Options: map[string]any{"algorithm": "none"}},
		nodejwt.Request{Payload: claims, Forge: &nodejwt.Forge{Alg: "RS256", HMAC: fixtureSecret}},
		nodejwt.Request{Payload: map[string]any{"id": id, "iat": iat}, Key: "someone-elses-secret-of-32-bytes!!", Options: map[string]any{"expiresIn": "15m"}},
		nodejwt.Request{Payload: map[string]any{"id": id, "iat": iat - 3600}, Key: fixtureSecret, Options: map[string]any{"expiresIn": "15m"}},
		nodejwt.Request{Payload: map[string]any{"id": id, "iat": iat, "sid": "s"}, Key: fixtureSecret, Options: map[string]any{"expiresIn": "15m"}},
		nodejwt.Request{Payload: map[string]any{"id": id, "iat": iat}, Key: fixtureSecret, Options: map[string]any{"expiresIn": "15m"}},
	)
	for i, name := range []string{"alg_none", "rs256_forged", "wrong_key", "expired", "sid"} {
		t.Run(name, func(t *testing.T) {
			requireError(t, f.do(req{method: "GET", path: "/me", bearer: toks[i]}), http.StatusUnauthorized, "invalid_token")
		})
	}
	t.Run("option_off", func(t *testing.T) {
		off := newFixture(t, nil)
		requireError(t, off.do(req{method: "GET", path: "/me", bearer: toks[5]}), http.StatusUnauthorized, "invalid_token")
	})
	// The main path is untouched: gatekeep's refresh token is no access token.
	t.Run("refresh_as_access", func(t *testing.T) {
		rt := f.login("bob").RefreshToken
		requireError(t, f.do(req{method: "GET", path: "/me", bearer: rt}), http.StatusUnauthorized, "invalid_token")
	})
	require.False(t, bytes.Contains([]byte(f.logs.all()), []byte("auth.legacy_token")))
}

// A verify-only Gate accepts them too: the option is a GateOption.
func TestLegacyTokensGate(t *testing.T) {
	f := legacyFixture(t)
	id := f.register("carol").User.ID
	tok := f.expressTokens(map[string]any{"id": id, "admin": true})[0]
	key, err := token.NewHMACKey(token.HS256, "test-key", []byte(fixtureSecret))
	require.NoError(t, err)
	lv, err := token.NewLegacyVerifier(key, token.WithClock(f.clk.Now))
	require.NoError(t, err)
	g, err := NewGate(f.verifier, f.st, WithLegacyTokens(lv))
	require.NoError(t, err)
	p, err := g.AuthenticateToken(t.Context(), tok)
	require.NoError(t, err)
	require.True(t, p.Legacy)
	require.Equal(t, id, p.UserID)
	require.Equal(t, []string{"user", "admin"}, p.Roles)
	require.Empty(t, p.SessionID)
	require.True(t, strings.HasPrefix(p.TokenID, token.LegacyIDPrefix))
}

// The Gate's issuer and audience are not required of a legacy token, but
// one it carries must be the configured one, even when the LegacyVerifier
// was not told them.
func TestLegacyTokensIssuerAudience(t *testing.T) {
	f := newFixture(t, nil)
	key, err := token.NewHMACKey(token.HS256, "test-key", []byte(fixtureSecret))
	require.NoError(t, err)
	lv, err := token.NewLegacyVerifier(key, token.WithClock(f.clk.Now)) // no issuer, no audience
	require.NoError(t, err)
	g, err := NewGate(f.verifier, f.st, WithLegacyTokens(lv), WithIssuer(testIssuer), WithAudience(testAudience))
	require.NoError(t, err)
	iat := f.clk.Now().Unix()
	sign := func(opts map[string]any) nodejwt.Request {
		opts["expiresIn"] = "15m"
		return nodejwt.Request{Payload: map[string]any{"id": "u1", "iat": iat}, Key: fixtureSecret, Options: opts}
	}
	toks := nodejwt.Sign(t,
		sign(map[string]any{}),
		sign(map[string]any{"issuer": testIssuer, "audience": testAudience}),
		sign(map[string]any{"issuer": "elsewhere"}),
		sign(map[string]any{"audience": "elsewhere"}),
	)
	for i, ok := range []bool{true, true, false, false} {
		_, err := g.AuthenticateToken(t.Context(), toks[i])
		if ok {
			require.NoError(t, err, i)
		} else {
			require.ErrorIs(t, err, ErrInvalidToken, i)
		}
	}
}
