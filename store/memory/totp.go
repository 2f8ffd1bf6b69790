package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.TOTPStore = (*Store)(nil)

// The enrolments live in the user table, under its lock, so that deleting
// a user deletes its enrolment in the same step.

// TOTP implements [store.TOTPStore].
func (s *Store) TOTP(ctx context.Context, userID string) (*store.TOTP, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.users
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.totp[userID]
	if !ok {
		return nil, fmt.Errorf("memory: totp: %w", store.ErrNotFound)
	}
	return store.CloneTOTP(e), nil
}

// BeginTOTP implements [store.TOTPStore].
func (s *Store) BeginTOTP(ctx context.Context, in *store.TOTP) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if in == nil || in.UserID == "" || len(in.Secret) == 0 {
		return fmt.Errorf("memory: begin totp: empty user ID or secret: %w", store.ErrInvalid)
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.totp[in.UserID]; ok && e.Confirmed {
		return fmt.Errorf("memory: begin totp: already confirmed: %w", store.ErrConflict)
	}
	now := s.now()
	t.totp[in.UserID] = &store.TOTP{UserID: in.UserID, Secret: bytes.Clone(in.Secret), CreatedAt: now, UpdatedAt: now}
	return nil
}

// ConfirmTOTP implements [store.TOTPStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, codes []string) (*store.TOTP, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.totp[userID]
	switch {
	case !ok:
		return nil, fmt.Errorf("memory: confirm totp: %w", store.ErrNotFound)
	case e.Confirmed || !bytes.Equal(e.Secret, secret):
		return nil, fmt.Errorf("memory: confirm totp: %w", store.ErrConflict)
	}
	e.Confirmed = true
	e.RecoveryCodes = slices.Clone(codes)
	e.UpdatedAt = s.now()
	return store.CloneTOTP(e), nil
}

// DeleteTOTP implements [store.TOTPStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string, expected []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.totp[userID]
	switch {
	case !ok:
		return fmt.Errorf("memory: delete totp: %w", store.ErrNotFound)
	case expected != nil && !bytes.Equal(e.Secret, expected):
		return fmt.Errorf("memory: delete totp: %w", store.ErrConflict)
	}
	delete(t.totp, userID)
	return nil
}

// UseRecoveryCode implements [store.TOTPStore].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (*store.TOTP, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.totp[userID]
	i := -1
	if ok && e.Confirmed {
		i = slices.Index(e.RecoveryCodes, hash)
	}
	if i < 0 {
		return nil, fmt.Errorf("memory: use recovery code: %w", store.ErrNotFound)
	}
	e.RecoveryCodes = slices.Delete(e.RecoveryCodes, i, i+1)
	e.UpdatedAt = s.now()
	return store.CloneTOTP(e), nil
}
