package auth

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
)

// interleavingStore runs before once, just before the first password write
// that reaches it (by UpdateUser or SetPasswordHash): a concurrent request
// landing between another's password check and its write, made
// deterministic.
type interleavingStore struct {
	*memory.Store
	armed  atomic.Bool
	before func()
}

// interleave runs before at most once; the writes before makes itself go
// straight through.
func (s *interleavingStore) interleave() {
	if s.armed.Swap(false) {
		s.before()
	}
}

func (s *interleavingStore) UpdateUser(ctx context.Context, id string, up store.UserUpdate) (*store.User, error) {
	if up.PasswordHash != nil {
		s.interleave()
	}
	return s.Store.UpdateUser(ctx, id, up)
}

func (s *interleavingStore) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	s.interleave()
	return s.Store.SetPasswordHash(ctx, id, expected, next)
}

// TestChangeDoesNotUndoAConcurrentReset is issue 22's finding 1: an
// attacker holding a session and the password changes it while the owner
// recovers the account by reset. The reset lands between the change's
// check of the current password and its write; the change must lose (401)
// and the owner's new password must be the one that works.
func TestChangeDoesNotUndoAConcurrentReset(t *testing.T) {
	st := &interleavingStore{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	mb := newMailbox()
	f := newFixture(t, st, WithPasswordReset(mb, resetLink))
	attacker := f.register("alice")
	tok := f.resetToken(mb, "alice")

	const ownerPassword, attackerPassword = "owner-recovered-password", "attacker-chosen-password"
	var resetStatus int
	st.before = func() { resetStatus = f.resetPassword(tok, ownerPassword).Code }
	st.armed.Store(true)
	w := f.do(req{method: "POST", path: "/auth/password/change", bearer: attacker.AccessToken,
		body: jsonBody(map[string]string{"current_password": testPassword, "new_password": attackerPassword})})
	require.Equal(t, http.StatusNoContent, resetStatus, "the owner's reset")
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the change that lost the race")
	f.clk.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", ownerPassword), "the owner's password works")
	assert.Equal(t, http.StatusUnauthorized, f.loginStatus("alice", attackerPassword), "the attacker's does not")
}

// TestResetDoesNotUndoAConcurrentChange: the other order. A change lands
// between a reset's fingerprint check and its write; the reset was issued
// for the old password, so it must not overwrite the new one.
func TestResetDoesNotUndoAConcurrentChange(t *testing.T) {
	st := &interleavingStore{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	mb := newMailbox()
	f := newFixture(t, st, WithPasswordReset(mb, resetLink))
	owner := f.register("alice")
	tok := f.resetToken(mb, "alice")

	var changeStatus int
	st.before = func() {
		changeStatus = f.do(req{method: "POST", path: "/auth/password/change", bearer: owner.AccessToken,
			body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "changed-by-the-owner"})}).Code
	}
	st.armed.Store(true)
	w := f.resetPassword(tok, "set-by-an-old-reset-link")
	require.Equal(t, http.StatusNoContent, changeStatus)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the reset issued for the old password")
	f.clk.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "changed-by-the-owner"))
	assert.Equal(t, http.StatusUnauthorized, f.loginStatus("alice", "set-by-an-old-reset-link"))
}

// TestRehashDoesNotUndoAConcurrentReset: a login that upgrades the hash
// (a bcrypt hash after a switch to argon2id) must not write its rehash over
// a reset that landed after its check.
func TestRehashDoesNotUndoAConcurrentReset(t *testing.T) {
	st := &interleavingStore{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	mb := newMailbox()
	f := newFixture(t, st, WithPasswordReset(mb, resetLink))
	u := f.register("alice")
	bc, err := NewBcrypt(10)
	require.NoError(t, err)
	old, err := bc.Hash(testPassword)
	require.NoError(t, err)
	_, err = st.Store.UpdateUser(t.Context(), u.User.ID, store.UserUpdate{PasswordHash: &old})
	require.NoError(t, err)
	tok := f.resetToken(mb, "alice")

	var resetStatus int
	st.before = func() { resetStatus = f.resetPassword(tok, "owner-recovered-password").Code }
	st.armed.Store(true)
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusNoContent, resetStatus)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the login that checked the replaced password gets no session")
	f.clk.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, f.loginStatus("alice", "owner-recovered-password"))
	assert.Equal(t, http.StatusUnauthorized, f.loginStatus("alice", testPassword))
}
