package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkTicket(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	uid := f.register("alice").User.ID

	t.Run("round trip", func(t *testing.T) {
		tk, err := f.a.IssueLinkTicket(ctx, uid, time.Minute)
		require.NoError(t, err)
		got, err := f.a.VerifyLinkTicket(ctx, tk)
		require.NoError(t, err)
		assert.Equal(t, uid, got)
		// A ticket carries no access.
		assert.Equal(t, http.StatusUnauthorized, f.status(tk))
		_, err = f.a.RedeemGrant(ctx, tk, Client{})
		assert.ErrorIs(t, err, ErrInvalidToken)
	})

	t.Run("types do not cross", func(t *testing.T) {
		// An attack: a token of another kind (a sign-in code, an access or
		// refresh token) offered as a link ticket to name its user.
		fresh := f.login("alice")
		code, _, err := f.a.IssueGrant(ctx, uid, time.Minute)
		require.NoError(t, err)
		for _, tok := range []string{fresh.AccessToken, fresh.RefreshToken, code, "", "x.y.z"} {
			_, err := f.a.VerifyLinkTicket(ctx, tok)
			assert.ErrorIs(t, err, ErrInvalidToken, "token %.20q", tok)
		}
	})

	t.Run("expired", func(t *testing.T) {
		tk, err := f.a.IssueLinkTicket(ctx, uid, time.Minute)
		require.NoError(t, err)
		f.clk.Advance(time.Minute)
		_, err = f.a.VerifyLinkTicket(ctx, tk)
		assert.ErrorIs(t, err, ErrInvalidToken)
	})

	t.Run("revoked user", func(t *testing.T) {
		tk, err := f.a.IssueLinkTicket(ctx, uid, time.Minute)
		require.NoError(t, err)
		f.clk.Advance(time.Second)
		require.NoError(t, f.a.RevokeUser(ctx, uid))
		_, err = f.a.VerifyLinkTicket(ctx, tk)
		assert.True(t, errors.Is(err, ErrRevoked) || errors.Is(err, ErrInvalidToken), "got %v", err)
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, err := f.a.IssueLinkTicket(ctx, uid, MaxLinkTicketTTL+time.Second)
		assert.ErrorIs(t, err, ErrInvalidRequest)
		_, err = f.a.IssueLinkTicket(ctx, "", time.Minute)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.ErrorIs(t, f.a.ChallengeSecondFactor(ctx, "", Client{}), ErrNotFound)
		assert.ErrorIs(t, f.a.ChallengeSecondFactor(ctx, "nobody", Client{}), ErrNotFound)
		assert.NoError(t, f.a.ChallengeSecondFactor(ctx, uid, Client{}), "no second factor, no challenge")
	})
}
