package store

import (
	"context"
	"time"
)

// Identity links an account at an external identity provider (an OpenID
// Connect issuer, or a plain OAuth 2.0 provider such as GitHub) to a
// gatekeep user. The provider's pair (Issuer, Subject) names the external
// account, and is unique: one external account signs in as one user.
// Accounts are never linked by email alone.
type Identity struct {
	// ID is the link's stable identifier, set by the caller (see [NewID]).
	ID string
	// Provider is the configured provider name the link was made through.
	Provider string
	// Issuer and Subject are the provider's issuer identifier and its
	// stable id of the account (the ID token's iss and sub), compared
	// exactly.
	Issuer  string
	Subject string
	// UserID is the gatekeep user this identity signs in as.
	UserID string
	// Email is the provider's email for the account when it said it was
	// verified, else "": informational only, never used for linking.
	Email string
	// CreatedAt is set by the store.
	CreatedAt time.Time
}

// IdentityStore keeps links from external identities to users. It is an
// optional ability of a [Store], found by type assertion; every store of
// this module implements it. Implementations are safe for concurrent use
// and return copies.
type IdentityStore interface {
	// CreateIdentity stores id with CreatedAt set. It is a
	// compare-and-swap on the pair (Issuer, Subject): when that pair is
	// already linked (to any user) or the ID is taken, nothing changes and
	// it returns ErrConflict; of concurrent creations of one pair exactly
	// one wins. An empty ID, Issuer, Subject or UserID gives ErrInvalid.
	CreateIdentity(ctx context.Context, id *Identity) error
	// IdentityBySubject returns the identity linked for (issuer, subject),
	// or ErrNotFound.
	IdentityBySubject(ctx context.Context, issuer, subject string) (*Identity, error)
	// UserIdentities lists the user's identities, oldest first; none is
	// not an error.
	UserIdentities(ctx context.Context, userID string) ([]*Identity, error)
	// DeleteIdentity removes the identity with this ID and frees its
	// (Issuer, Subject) pair, or returns ErrNotFound.
	DeleteIdentity(ctx context.Context, id string) error
	// UnlinkIdentity removes the identity with this ID, which must belong
	// to userID, only if the user keeps a way to sign in: another identity,
	// or a password hash on the user record of the same store. It is a
	// compare-and-swap: of concurrent unlinks of a password-less user's
	// identities at least one is refused, so the user is never left with
	// none. ErrNotFound when the identity is missing or belongs to another
	// user; ErrConflict when it is the user's last way to sign in (nothing
	// changes).
	UnlinkIdentity(ctx context.Context, userID, id string) error
}
