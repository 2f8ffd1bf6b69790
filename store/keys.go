package store

import (
	"context"
	"fmt"
	"time"
)

// KeyState is where a signing key is in its life: [KeyNext], then
// [KeyActive], then [KeyRetiring], then deleted.
type KeyState string

// The states of a signing key.
const (
	// KeyNext is a key published (in the JWK Set, in every verifier) but
	// not yet signing: it waits there so that every cache knows it before
	// the first token it signs is seen.
	KeyNext KeyState = "next"
	// KeyActive is the one key that signs. A ring holds at most one.
	KeyActive KeyState = "active"
	// KeyRetiring is a former active key that still verifies the tokens it
	// signed until RetireAt, when it may be deleted.
	KeyRetiring KeyState = "retiring"
)

// SigningKey is one token-signing key as a [KeyStore] keeps it. The
// private key is sealed (encrypted and authenticated) by the caller before
// it reaches the store; stores never see key material in the clear.
type SigningKey struct {
	// ID is the key id (kid) written into the tokens it signs.
	ID string
	// Algorithm is the JWS algorithm the key is pinned to ("ES256", ...).
	Algorithm string
	// State is where the key is in its life; set by the store's methods.
	State KeyState
	// CreatedAt is when the key was made (and published, as next).
	CreatedAt time.Time
	// ActivatedAt is when the key began signing; zero while next.
	ActivatedAt time.Time
	// RetireAt is, for a retiring key, when the last token it signed has
	// expired and the key may be deleted; zero otherwise.
	RetireAt time.Time
	// Sealed is the private key, encrypted at rest.
	Sealed []byte
}

// KeyRing is every signing key in a store at one version.
type KeyRing struct {
	// Version counts the ring's changes: 0 for a ring never written, one
	// more after each successful create, activate or delete. Every change
	// names the version it was decided on, which makes it a
	// compare-and-swap over the whole ring.
	Version int64
	// Keys are ordered by CreatedAt, then ID.
	Keys []*SigningKey
}

// KeyStore is an optional capability of a store, found by type assertion:
// it keeps the signing keys every instance shares, so that instances
// rotate keys together without a leader of their own. Each change takes
// the ring version it was decided on and applies only if the ring is still
// at that version (else ErrConflict, and nothing changes), so of
// concurrent changes decided on one version exactly one wins; the losers
// reload and adopt the winner's result. Every change returns the new
// version. Implementations are safe for concurrent use and return copies.
type KeyStore interface {
	// SigningKeys returns the ring: every key and the current version.
	SigningKeys(ctx context.Context) (*KeyRing, error)
	// CreateSigningKey adds k in state KeyNext, or KeyActive when the ring
	// has no active key (the very first key; ActivatedAt is then required).
	// ErrConflict when the version moved, the ID is taken or an active key
	// exists already; ErrInvalid for an empty ID, Algorithm or Sealed, a
	// zero CreatedAt, or another state.
	CreateSigningKey(ctx context.Context, version int64, k *SigningKey) (int64, error)
	// ActivateSigningKey makes the next key id active as of at, and in the
	// same step makes the active key (if any) retiring until retireAt, so
	// that a ring never holds two active keys. ErrNotFound when there is
	// no key id; ErrConflict when the version moved or the key is not
	// next; ErrInvalid for a zero at or retireAt.
	ActivateSigningKey(ctx context.Context, version int64, id string, at, retireAt time.Time) (int64, error)
	// DeleteSigningKey removes the key id, which must not be active.
	// ErrNotFound when there is none; ErrConflict when the version moved
	// or the key is active.
	DeleteSigningKey(ctx context.Context, version int64, id string) (int64, error)
}

// KeyWatcher is an optional capability of a [KeyStore] that can announce
// changes to the ring as they happen (Redis does, through pub/sub), so that
// instances need not wait for their next periodic reload. Announcements
// may be lost (a reconnection), so readers still reload periodically.
type KeyWatcher interface {
	// WatchSigningKeys calls notify whenever the ring may have changed:
	// after each change by any instance, and whenever the watch (re)starts,
	// since changes in between went unannounced. notify must return
	// quickly. It returns when ctx ends, or an error when the store is
	// closed.
	WatchSigningKeys(ctx context.Context, notify func()) error
}

// CheckNewSigningKey reports, wrapping ErrInvalid, what makes k unfit for
// [KeyStore.CreateSigningKey] whatever the ring holds. Stores call it
// first; it is exported for stores outside this module.
func CheckNewSigningKey(k *SigningKey) error {
	switch {
	case k == nil:
		return fmt.Errorf("%w: nil signing key", ErrInvalid)
	case k.ID == "" || k.Algorithm == "" || len(k.Sealed) == 0:
		return fmt.Errorf("%w: signing key without id, algorithm or sealed key", ErrInvalid)
	case len(k.ID) > 256 || len(k.Algorithm) > 32:
		return fmt.Errorf("%w: signing key id or algorithm too long", ErrInvalid)
	case k.CreatedAt.IsZero():
		return fmt.Errorf("%w: signing key without CreatedAt", ErrInvalid)
	case k.State == KeyActive && k.ActivatedAt.IsZero():
		return fmt.Errorf("%w: active signing key without ActivatedAt", ErrInvalid)
	case k.State != KeyNext && k.State != KeyActive:
		return fmt.Errorf("%w: a signing key is created next (or active in an empty ring)", ErrInvalid)
	}
	return nil
}
