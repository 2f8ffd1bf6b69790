package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.TOTPStore = (*Store)(nil)

// Each write below is one transaction: the compare and the swap happen
// under bbolt's single writer, so they cannot be separated.

func getTOTP(tx *bbolt.Tx, userID string) (*store.TOTP, error) {
	v := tx.Bucket(bTOTP).Get([]byte(userID))
	if v == nil {
		return nil, store.ErrNotFound
	}
	var e store.TOTP
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("%w (totp): %w", ErrCorrupt, store.ErrUnavailable)
	}
	return &e, nil
}

func putTOTP(tx *bbolt.Tx, e *store.TOTP) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return tx.Bucket(bTOTP).Put([]byte(e.UserID), v)
}

// TOTP implements [store.TOTPStore].
func (s *Store) TOTP(ctx context.Context, userID string) (*store.TOTP, error) {
	var e *store.TOTP
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		e, err = getTOTP(tx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: totp: %w", err)
	}
	return e, nil
}

// BeginTOTP implements [store.TOTPStore].
func (s *Store) BeginTOTP(ctx context.Context, in *store.TOTP) error {
	if in == nil || in.UserID == "" || len(in.Secret) == 0 {
		return fmt.Errorf("bolt: begin totp: empty user ID or secret: %w", store.ErrInvalid)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		switch old, err := getTOTP(tx, in.UserID); {
		case err == nil && old.Confirmed:
			return store.ErrConflict
		case err != nil && err != store.ErrNotFound:
			return err
		}
		now := s.now()
		return putTOTP(tx, &store.TOTP{UserID: in.UserID, Secret: bytes.Clone(in.Secret), CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return fmt.Errorf("bolt: begin totp: %w", err)
	}
	return nil
}

// ConfirmTOTP implements [store.TOTPStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, codes []string) (*store.TOTP, error) {
	var e *store.TOTP
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if e, err = getTOTP(tx, userID); err != nil {
			return err
		}
		if e.Confirmed || !bytes.Equal(e.Secret, secret) {
			return store.ErrConflict
		}
		e.Confirmed = true
		e.RecoveryCodes = slices.Clone(codes)
		e.UpdatedAt = s.now()
		return putTOTP(tx, e)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: confirm totp: %w", err)
	}
	return e, nil
}

// DeleteTOTP implements [store.TOTPStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string, expected []byte) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		e, err := getTOTP(tx, userID)
		if err != nil {
			return err
		}
		if expected != nil && !bytes.Equal(e.Secret, expected) {
			return store.ErrConflict
		}
		return tx.Bucket(bTOTP).Delete([]byte(userID))
	})
	if err != nil {
		return fmt.Errorf("bolt: delete totp: %w", err)
	}
	return nil
}

// UseRecoveryCode implements [store.TOTPStore].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (*store.TOTP, error) {
	var e *store.TOTP
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if e, err = getTOTP(tx, userID); err != nil {
			return err
		}
		i := slices.Index(e.RecoveryCodes, hash)
		if !e.Confirmed || i < 0 {
			return store.ErrNotFound
		}
		e.RecoveryCodes = slices.Delete(e.RecoveryCodes, i, i+1)
		e.UpdatedAt = s.now()
		return putTOTP(tx, e)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: use recovery code: %w", err)
	}
	return e, nil
}
