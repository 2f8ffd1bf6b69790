package store

import (
	"context"
	"time"
)

// User is an account. Only a password hash is ever stored, never a password.
//
// User has no "tokens valid after" field, by design: that time lives in the
// [Revoker] ([Revoker.RevokeUserBefore], checked by [Revoker.IsRevoked]
// through [Check.IssuedAt]), so there is one authoritative place for it and
// the per-request check needs no user read.
type User struct {
	// ID is the user's stable identifier, set by the caller (see [NewID]).
	ID string
	// Username is the canonical form (see [CanonicalUsername]); stores
	// canonicalise it on create, so callers may pass what the user typed.
	Username string
	// Email is optional.
	Email string
	// PasswordHash is an encoded hash (PHC string or bcrypt), never a password.
	PasswordHash string
	// Roles are role names, compared exactly.
	Roles []string
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserUpdate names the fields of a user to change; a nil field is left as it is.
type UserUpdate struct {
	// PasswordHash is written unconditionally, whatever hash is stored:
	// for an administrator setting a password. A password change, reset or
	// rehash that was checked against the stored hash uses
	// [UserStore.SetPasswordHash], which cannot undo a concurrent one.
	PasswordHash *string
	// Roles replaces the roles when non-nil; a non-nil empty slice clears them.
	Roles []string
	Email *string
}

// UserStore keeps accounts. Usernames are unique after [CanonicalUsername].
// Implementations are safe for concurrent use, return copies (changing a
// returned User, or the one passed in, never changes what is stored), and
// honour ctx: a cancelled context gives its error (or ErrUnavailable) and
// changes nothing. The same holds for every interface in this package.
type UserStore interface {
	// CreateUser stores u with its username canonicalised and CreatedAt and
	// UpdatedAt set; it returns ErrConflict when the canonical username or the
	// ID is taken (of concurrent creations of one username exactly one wins),
	// and ErrInvalid for an empty ID or an unusable username.
	CreateUser(ctx context.Context, u *User) error
	// User returns the user with this ID, or ErrNotFound.
	User(ctx context.Context, id string) (*User, error)
	// UserByUsername canonicalises username and returns its user, or
	// ErrNotFound (also for a username that cannot be canonicalised).
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UpdateUser applies upd to the user with this ID, sets UpdatedAt and
	// returns the updated user, or ErrNotFound.
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error)
	// ListUsers returns up to limit users ordered by ID, starting after the
	// opaque cursor ("" for the first page), and the cursor of the next page,
	// which is "" when no more remain (also when the page is exactly full).
	// A limit below 1 or a cursor the store did not issue gives ErrInvalid.
	ListUsers(ctx context.Context, cursor string, limit int) (users []*User, next string, err error)
	// DeleteUser removes the user and frees its username, or returns
	// ErrNotFound.
	DeleteUser(ctx context.Context, id string) error
	// SetPasswordHash is a compare-and-swap of the user's password hash:
	// when the stored hash equals expected (the one the caller checked a
	// password against, or derived a reset link from) it atomically
	// becomes next, UpdatedAt is set, and the updated user is returned.
	// When it does not (a concurrent change, reset or rehash came first)
	// nothing changes and the user is returned as stored with ErrConflict,
	// so the caller can check again against the hash that won; of
	// concurrent swaps from one expected hash exactly one wins. The compare
	// is exact, byte for byte; an expected "" matches only a user stored
	// without a hash. ErrNotFound when the user is missing; ErrInvalid for
	// an empty next. As with every write, a call that fails with
	// ErrUnavailable may or may not have been applied.
	SetPasswordHash(ctx context.Context, id, expected, next string) (*User, error)
}

// Session is one login (one device). Refresh token ids are stored as hashes,
// never as tokens.
type Session struct {
	ID     string
	UserID string
	// CreatedAt is the login time; LastUsedAt the last rotation.
	CreatedAt  time.Time
	LastUsedAt time.Time
	// IdleExpiresAt is when the session ends if not used (rotation moves it);
	// ExpiresAt is the absolute end, which nothing moves. A session past
	// either is gone: reads return ErrNotFound.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	UserAgent     string
	IP            string
	// RefreshID is the hash of the current refresh token's id;
	// PreviousRefreshID the one it replaced (one generation, for the
	// optional reuse grace window), RotatedAt when that happened.
	RefreshID         string
	PreviousRefreshID string
	RotatedAt         time.Time
}

// Rotation is a compare-and-swap of a session's refresh id.
type Rotation struct {
	// Expected must equal the session's current RefreshID.
	Expected string
	// Next becomes the RefreshID; Expected becomes PreviousRefreshID.
	Next string
	// At becomes LastUsedAt and RotatedAt.
	At time.Time
	// IdleExpiresAt is the new idle expiry; stores never move it past
	// ExpiresAt.
	IdleExpiresAt time.Time
}

// SessionStore keeps logins. Implementations are safe for concurrent use.
type SessionStore interface {
	// CreateSession stores s, or returns ErrConflict when the ID is taken
	// and ErrInvalid for an empty ID or UserID or a zero ExpiresAt (a
	// session always ends). A zero IdleExpiresAt, or one after ExpiresAt,
	// is stored as ExpiresAt.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session, or ErrNotFound when it is missing or
	// expired (idle or absolute).
	Session(ctx context.Context, id string) (*Session, error)
	// RotateSession atomically replaces the refresh id when the current one
	// equals r.Expected, and returns the updated session. When it does not
	// (the token was already rotated, by a concurrent request or long ago)
	// it returns the session unchanged with ErrConflict; of concurrent
	// rotations with one Expected value exactly one wins. ErrNotFound when
	// the session is missing or expired.
	RotateSession(ctx context.Context, id string, r Rotation) (*Session, error)
	// DeleteSession removes the session, or returns ErrNotFound.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of the user; none is not an
	// error.
	DeleteUserSessions(ctx context.Context, userID string) error
	// UserSessions lists the user's live sessions, oldest first.
	UserSessions(ctx context.Context, userID string) ([]*Session, error)
}

// Check is what [Revoker.IsRevoked] asks about one token.
type Check struct {
	// TokenID is the token's jti.
	TokenID string
	// SessionID is the token's sid, if any: a revoked session revokes every
	// token issued under it.
	SessionID string
	// UserID and IssuedAt are compared with the user's valid-after time.
	UserID   string
	IssuedAt time.Time
}

// Revoker keeps revocations. It is also where a user's "tokens valid after"
// time lives ([Revoker.RevokeUserBefore]) and how a session is revoked:
// Revoke(sessionID) revokes every token whose sid is that id, which
// IsRevoked checks through [Check.SessionID]. Every entry carries the time after which it is
// no longer needed (the token's expiry) and disappears by itself then, so the
// list is bounded by live tokens. Implementations are safe for concurrent use.
type Revoker interface {
	// Revoke marks id (a token id or a session id) revoked until until.
	// Revoking again is not an error; a later until extends the entry, an
	// earlier one never shortens it. An empty id gives ErrInvalid.
	Revoke(ctx context.Context, id string, until time.Time) error
	// RevokeUserBefore makes every token of the user issued before before
	// invalid, remembered until until. The mark only moves forward: an
	// earlier before than the one stored is ignored, and the mark is kept
	// until the later of the two until times. An empty userID gives
	// ErrInvalid.
	RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error
	// IsRevoked reports whether c's token id or session id is revoked, or
	// c.IssuedAt is before the user's valid-after time (a token issued at
	// exactly that time, or after, is valid; a zero IssuedAt is before any
	// mark). Empty fields of c are not looked up. It is on every request's
	// path. With an error it reports true (revoked), and the caller must
	// treat the token as revoked either way: a store that cannot answer
	// never lets a token through.
	IsRevoked(ctx context.Context, c Check) (bool, error)
	// UseOnce reports whether this is the first use of the one-time id; of
	// concurrent calls exactly one returns true. The id is remembered until
	// until (at least a minute, so that an until already past still gives
	// one winner), then forgotten. An empty id gives ErrInvalid and false.
	UseOnce(ctx context.Context, id string, until time.Time) (first bool, err error)
}

// Counter counts events in fixed windows, for login throttling.
// Implementations are safe for concurrent use. A store may bound how many
// windows it keeps (memory.WithMaxCounters); one that does drops windows
// that have ended before any open one, and open ones nearest their end
// first.
type Counter interface {
	// Incr adds one to key's count, starting a window of the given length if
	// none is open, and returns the new count and when the window ends
	// (later calls in the window never move its end). An empty key or a
	// window below one millisecond gives ErrInvalid.
	Incr(ctx context.Context, key string, window time.Duration) (n int64, resetAt time.Time, err error)
	// Count returns key's count and window end; zero values when no window
	// is open.
	Count(ctx context.Context, key string) (n int64, resetAt time.Time, err error)
	// Reset closes key's window; resetting a key with none open is not an
	// error.
	Reset(ctx context.Context, key string) error
}

// Store is everything an Authenticator needs from one backend.
type Store interface {
	UserStore
	SessionStore
	Revoker
	Counter
}

// Pinger is implemented by stores that can tell whether their backend
// answers (for health checks).
type Pinger interface {
	Ping(ctx context.Context) error
}

// WriteChecker is implemented by stores that can tell whether their
// backend accepts writes, for health checks: a backend may answer reads
// while refusing every write (a full Redis under noeviction, a replica
// turned read-only, a full disk). CheckWrite writes a short-lived record
// of the store's own, which expires by itself within a minute and is never
// read as data, and returns nil only when the write succeeded. It is a
// real write: callers rate-limit it.
type WriteChecker interface {
	CheckWrite(ctx context.Context) error
}
