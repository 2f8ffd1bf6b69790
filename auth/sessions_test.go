package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (f *fixture) sessions(tok string) []SessionInfo {
	f.t.Helper()
	w := f.do(req{method: "GET", path: "/auth/sessions", bearer: tok})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var out struct {
		Sessions []SessionInfo `json:"sessions"`
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	require.NoError(f.t, dec.Decode(&out))
	require.NotNil(f.t, out.Sessions)
	return out.Sessions
}

func TestSessionsList(t *testing.T) {
	f := newFixture(t, nil)
	first := f.register("alice")
	f.clk.Advance(time.Second)
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword),
		header: http.Header{"User-Agent": {"phone/1.0"}}, remote: "198.51.100.7:4000"})
	require.Equal(t, http.StatusOK, w.Code)
	second := decodeTokens(t, w)

	// The raw JSON has exactly the contract's fields.
	raw := f.do(req{method: "GET", path: "/auth/sessions", bearer: second.AccessToken})
	require.Equal(t, http.StatusOK, raw.Code)
	assert.Equal(t, "no-store", raw.Header().Get("Cache-Control"))
	var generic struct {
		Sessions []map[string]any `json:"sessions"`
	}
	require.NoError(t, json.Unmarshal(raw.Body.Bytes(), &generic))
	require.Len(t, generic.Sessions, 2)
	for _, s := range generic.Sessions {
		assert.ElementsMatch(t, []string{"id", "created_at", "last_used_at", "user_agent", "ip", "current"}, keys(s))
	}

	ss := f.sessions(second.AccessToken)
	require.Len(t, ss, 2)
	assert.False(t, ss[0].Current)
	assert.True(t, ss[1].Current)
	assert.Equal(t, "phone/1.0", ss[1].UserAgent)
	assert.Equal(t, "198.51.100.7", ss[1].IP)
	assert.Equal(t, "192.0.2.1", ss[0].IP) // httptest's RemoteAddr
	assert.True(t, ss[1].CreatedAt.After(ss[0].CreatedAt))
	assert.Equal(t, f.clk.Now().Unix(), ss[1].LastUsedAt.Unix())

	// The other session sees itself as current.
	ss = f.sessions(first.AccessToken)
	assert.True(t, ss[0].Current)
	assert.False(t, ss[1].Current)

	// Nobody else's sessions are listed.
	bob := f.register("bob")
	assert.Len(t, f.sessions(bob.AccessToken), 1)

	requireError(t, f.do(req{method: "GET", path: "/auth/sessions"}), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.do(req{method: "GET", path: "/auth/sessions", bearer: "x.y.z"}), http.StatusUnauthorized, CodeInvalidToken)
	w = f.do(req{method: "POST", path: "/auth/sessions", bearer: second.AccessToken})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	assert.Equal(t, "GET", w.Header().Get("Allow"))
}

// currentSession returns the id of tok's session.
func currentSession(f *fixture, tok string) string {
	f.t.Helper()
	for _, s := range f.sessions(tok) {
		if s.Current {
			return s.ID
		}
	}
	f.t.Fatal("no current session")
	return ""
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDeleteSession(t *testing.T) {
	f := newFixture(t, nil)
	one := f.register("alice")
	two := f.login("alice")
	bob := f.register("bob")
	oneID, twoID := currentSession(f, one.AccessToken), currentSession(f, two.AccessToken)
	require.NotEqual(t, oneID, twoID)
	bobID := f.sessions(bob.AccessToken)[0].ID

	// Another user's session answers exactly as a missing one, and is
	// left alone.
	other := f.do(req{method: "DELETE", path: "/auth/sessions/" + bobID, bearer: two.AccessToken})
	missing := f.do(req{method: "DELETE", path: "/auth/sessions/no-such-session", bearer: two.AccessToken})
	requireError(t, other, http.StatusNotFound, CodeNotFound)
	requireError(t, missing, http.StatusNotFound, CodeNotFound)
	assert.Equal(t, missing.Body.String(), other.Body.String())
	assert.Equal(t, missing.Header(), other.Header())
	assert.Equal(t, http.StatusOK, f.status(bob.AccessToken))
	assert.Equal(t, http.StatusOK, f.refresh(bob.RefreshToken).Code)

	requireError(t, f.do(req{method: "DELETE", path: "/auth/sessions/" + oneID}), http.StatusUnauthorized, CodeInvalidToken)
	w := f.do(req{method: "GET", path: "/auth/sessions/" + oneID, bearer: two.AccessToken})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	assert.Equal(t, "DELETE", w.Header().Get("Allow"))
	assert.Equal(t, http.StatusOK, f.status(one.AccessToken))

	// Ending session one kills its tokens now (same second), not two's.
	w = f.do(req{method: "DELETE", path: "/auth/sessions/" + oneID, bearer: two.AccessToken})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Empty(t, w.Body.String())
	assert.Equal(t, http.StatusUnauthorized, f.status(one.AccessToken))
	requireError(t, f.refresh(one.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	ss := f.sessions(two.AccessToken)
	require.Len(t, ss, 1)
	assert.Equal(t, twoID, ss[0].ID)
	// Deleting it again: gone.
	requireError(t, f.do(req{method: "DELETE", path: "/auth/sessions/" + oneID, bearer: two.AccessToken}), http.StatusNotFound, CodeNotFound)

	assert.Contains(t, f.logs.events(), "auth.session_ended")

	// A router that sets no path values (gin): the id is the last segment.
	w = httptest.NewRecorder()
	r := httptest.NewRequest("DELETE", "/v1/auth/sessions/"+twoID, nil)
	r.Header.Set("Authorization", "Bearer "+two.AccessToken)
	f.a.DeleteSessionHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Equal(t, http.StatusUnauthorized, f.status(two.AccessToken))
}

func TestSessionsExpireIdleAndAbsolute(t *testing.T) {
	f := newFixture(t, nil, WithAccessTTL(time.Minute), WithRefreshTTL(2*time.Minute), WithSessionMaxAge(5*time.Minute))
	f.register("alice") // left idle
	active := f.login("alice")
	for range 3 {
		f.clk.Advance(time.Minute)
		w := f.refresh(active.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code)
		active = decodeTokens(t, w)
	}
	// The idle session passed its idle timeout and is no longer listed.
	assert.Len(t, f.sessions(active.AccessToken), 1)
	f.clk.Advance(time.Minute)
	w := f.refresh(active.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code)
	active = decodeTokens(t, w)
	// Past the absolute lifetime, the active session ends too.
	f.clk.Advance(time.Minute + time.Second)
	requireError(t, f.refresh(active.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
}
