package store

import (
	"context"
	"time"
)

// TOTP is a user's enrolment in time-based one-time passwords (RFC 6238),
// a second factor. Stores keep it beside the user, keyed by the user's ID.
type TOTP struct {
	// UserID is the enrolled user's ID.
	UserID string
	// Secret is the shared secret as the caller sealed it (encrypted at
	// rest by the caller); stores keep it as opaque bytes and compare it
	// exactly.
	Secret []byte
	// Confirmed is set once a first code was checked against the secret
	// ([TOTPStore.ConfirmTOTP]); until then the enrolment is pending and
	// asks nothing at login.
	Confirmed bool
	// RecoveryCodes are the hashes of the recovery codes not used yet.
	RecoveryCodes []string
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TOTPStore keeps second-factor enrolments. It is an optional ability of a
// store, found by type assertion; every store of this module has it. Every
// write that can race is a compare-and-swap. Implementations are safe for
// concurrent use, return copies, and keep an enrolment until it is deleted
// (deleting the user deletes it too).
type TOTPStore interface {
	// TOTP returns the user's enrolment, pending or confirmed, or
	// ErrNotFound.
	TOTP(ctx context.Context, userID string) (*TOTP, error)
	// BeginTOTP stores t (its UserID and Secret; Confirmed and
	// RecoveryCodes are ignored) as the user's pending enrolment,
	// replacing a pending one. It returns ErrConflict, changing nothing,
	// when the user has a confirmed enrolment, and ErrInvalid for an empty
	// UserID or Secret.
	BeginTOTP(ctx context.Context, t *TOTP) error
	// ConfirmTOTP is a compare-and-swap: when the user's enrolment is
	// pending with exactly secret, it becomes confirmed with these
	// recovery-code hashes, and is returned. Otherwise (confirmed already,
	// or a newer BeginTOTP replaced the secret) nothing changes and it
	// returns ErrConflict; ErrNotFound when there is none. Of concurrent
	// confirmations exactly one wins.
	ConfirmTOTP(ctx context.Context, userID string, secret []byte, recoveryCodes []string) (*TOTP, error)
	// DeleteTOTP removes the user's enrolment when its secret equals
	// expected, or whatever is stored when expected is nil. ErrConflict
	// when the secret differs (nothing changes), ErrNotFound when there is
	// none.
	DeleteTOTP(ctx context.Context, userID string, expected []byte) error
	// UseRecoveryCode removes hash from the confirmed enrolment's recovery
	// codes and returns the enrolment as it is now; ErrNotFound when the
	// hash is not among them (used already, never issued) or the user has
	// no confirmed enrolment. Of concurrent uses of one code exactly one
	// succeeds.
	UseRecoveryCode(ctx context.Context, userID, hash string) (*TOTP, error)
}

// CloneTOTP returns a deep copy of t, for stores that keep values.
func CloneTOTP(t *TOTP) *TOTP {
	if t == nil {
		return nil
	}
	c := *t
	c.Secret = append([]byte(nil), t.Secret...)
	c.RecoveryCodes = append([]string(nil), t.RecoveryCodes...)
	return &c
}
