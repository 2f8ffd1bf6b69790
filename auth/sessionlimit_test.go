package auth

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 22 finding 5: 2 000 logins made 2 001 live sessions. The default
// bound is 100: the 101st login ends the oldest, with an audit event.
func TestSessionsPerUserBoundedByDefault(t *testing.T) {
	f := newFixture(t, nil)
	first := f.register("alice")
	f.clk.Advance(time.Millisecond) // oldest first needs distinct creation times
	second := f.login("alice")
	for range DefaultMaxSessionsPerUser - 2 {
		f.clk.Advance(time.Millisecond)
		f.login("alice")
	}
	f.clk.Advance(time.Millisecond)
	ss, err := f.st.UserSessions(context.Background(), first.User.ID)
	require.NoError(t, err)
	require.Len(t, ss, DefaultMaxSessionsPerUser)
	require.Equal(t, http.StatusOK, f.status(first.AccessToken))

	last := f.login("alice")
	ss, err = f.st.UserSessions(context.Background(), first.User.ID)
	require.NoError(t, err)
	require.Len(t, ss, DefaultMaxSessionsPerUser)
	// The oldest session ended: its tokens stop working now.
	require.Equal(t, http.StatusUnauthorized, f.status(first.AccessToken))
	requireError(t, f.refresh(first.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	require.Equal(t, http.StatusOK, f.status(second.AccessToken))
	require.Equal(t, http.StatusOK, f.status(last.AccessToken))
	require.Contains(t, f.logs.events(), "auth.session_evicted")
}

func TestMaxSessionsPerUserOption(t *testing.T) {
	f := newFixture(t, nil, WithMaxSessionsPerUser(2))
	a := f.register("bob")
	f.clk.Advance(time.Millisecond)
	b := f.login("bob")
	f.clk.Advance(time.Millisecond)
	c := f.login("bob")
	require.Equal(t, http.StatusUnauthorized, f.status(a.AccessToken))
	require.Equal(t, http.StatusOK, f.status(b.AccessToken))
	require.Equal(t, http.StatusOK, f.status(c.AccessToken))
	_, err := New(f.signer, f.verifier, f.st, WithMaxSessionsPerUser(0))
	require.ErrorIs(t, err, ErrInvalidConfig)
}
