package auth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
)

func TestGrant(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	tk := f.register("alice")
	uid := tk.User.ID

	t.Run("redeem once", func(t *testing.T) {
		code, exp, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		assert.WithinDuration(t, f.clk.Now().Add(time.Minute), exp, time.Second)
		resp, err := f.a.RedeemGrant(ctx, code, Client{})
		require.NoError(t, err)
		assert.Equal(t, uid, resp.User.ID)
		assert.Equal(t, http.StatusOK, f.status(resp.AccessToken), "the grant's session is an ordinary one")
		// An attack: a code read from a log or history is replayed.
		_, err = f.a.RedeemGrant(ctx, code, Client{})
		assert.ErrorIs(t, err, ErrInvalidToken)
	})

	t.Run("concurrent redemptions, one wins", func(t *testing.T) {
		code, _, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = f.a.RedeemGrant(ctx, code, Client{}) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				assert.ErrorIs(t, err, ErrInvalidToken)
			}
		}
		assert.Equal(t, 1, won)
	})

	t.Run("expired, without leeway", func(t *testing.T) {
		code, _, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		f.clk.Advance(time.Minute)
		_, err = f.a.RedeemGrant(ctx, code, Client{})
		assert.ErrorIs(t, err, ErrInvalidToken)
	})

	t.Run("types do not cross", func(t *testing.T) {
		// An attack: an access or refresh token offered as a code, a code as an access token.
		fresh := f.login("alice")
		for _, tok := range []string{fresh.AccessToken, fresh.RefreshToken} {
			_, err := f.a.RedeemGrant(ctx, tok, Client{})
			assert.ErrorIs(t, err, ErrInvalidToken)
		}
		code, _, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, f.status(code))
		_, err = f.a.Refresh(ctx, code, Client{})
		assert.Error(t, err)
	})

	t.Run("revoked user", func(t *testing.T) {
		code, _, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		f.clk.Advance(time.Second)
		require.NoError(t, f.a.RevokeUser(ctx, uid))
		_, err = f.a.RedeemGrant(ctx, code, Client{})
		assert.True(t, errors.Is(err, ErrRevoked) || errors.Is(err, ErrInvalidToken), "got %v", err)
	})

	t.Run("deleted user", func(t *testing.T) {
		u := &store.User{ID: store.NewID(), Username: "gone", Roles: []string{"user"}}
		require.NoError(t, f.st.CreateUser(ctx, u))
		code, _, err := f.a.IssueGrant(ctx, u.ID, time.Minute)
		require.NoError(t, err)
		require.NoError(t, f.st.DeleteUser(ctx, u.ID))
		_, err = f.a.RedeemGrant(ctx, code, Client{})
		assert.ErrorIs(t, err, ErrInvalidToken)
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, _, err := f.a.IssueGrant(ctx, uid, MaxGrantTTL+time.Second)
		assert.ErrorIs(t, err, ErrInvalidRequest)
		_, _, err = f.a.IssueGrant(ctx, "", time.Minute)
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = f.a.RedeemGrant(ctx, "", Client{})
		assert.ErrorIs(t, err, ErrInvalidRequest)
	})
}

func TestSetTokenCookies(t *testing.T) {
	plain := newFixture(t, nil)
	assert.False(t, plain.a.CookieMode())
	assert.False(t, plain.a.SetTokenCookies(nil, &TokenResponse{}), "no cookie mode, no cookies")
}

// A user created without a password (a provider sign-up) never logs in by
// password, and is checked against the dummy hash like an unknown user.
func TestPasswordlessLogin(t *testing.T) {
	f := newFixture(t, nil)
	u := &store.User{ID: store.NewID(), Username: "sso-user", Roles: []string{"user"}}
	require.NoError(t, f.st.CreateUser(context.Background(), u))
	for _, pw := range []string{testPassword, "another password"} {
		_, err := f.a.Login(context.Background(), "sso-user", pw, Client{})
		assert.ErrorIs(t, err, ErrInvalidCredentials, "password %q", pw)
	}
	assert.NotContains(t, f.logs.all(), "password_hash_unreadable", "an empty hash is no unreadable hash")
	tk, err := f.a.IssueTokens(context.Background(), u.ID, Client{})
	require.NoError(t, err, "a provider sign-in still works")
	assert.Equal(t, http.StatusOK, f.status(tk.AccessToken))
}
