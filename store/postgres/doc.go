// Package postgres is a gatekeep store on PostgreSQL through
// github.com/jackc/pgx/v5 (pgxpool), so that users live in the
// application's own database and its tables can reference them.
//
// # Usage
//
// Hand [New] a pool you own, or let [Open] make one from a URL such as
// DATABASE_URL:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	st, err := postgres.New(pool) // migrates the schema "gatekeep"
//	if err != nil { ... }
//	defer st.Close()
//	var _ store.Store = st
//
// # Schema
//
// Everything lives in one schema, "gatekeep" by default ([WithSchema]), so
// an application can reference users from its own tables:
//
//	CREATE TABLE orders (
//		id      bigserial PRIMARY KEY,
//		user_id text NOT NULL REFERENCES gatekeep.users (id)
//	);
//
// (with such a reference, DeleteUser of a user with orders fails until the
// orders go, which is usually what the application wants). The tables:
//
//   - schema_version (version, applied_at): one row per migration applied;
//     the highest version is the schema's.
//   - users (id, username, email, password_hash, roles, created_at,
//     updated_at): one row per account. id is text (collation "C", so
//     ListUsers orders bytewise as every store does); username is the
//     canonical form (store.CanonicalUsername) with a unique constraint,
//     which decides concurrent registrations; roles is text[]. Text
//     columns cannot hold NUL or invalid UTF-8, so such user input is
//     refused with store.ErrInvalid.
//   - sessions (id, user_id, created_at, last_used_at, idle_expires_at,
//     expires_at, user_agent, ip, refresh_id, previous_refresh_id,
//     rotated_at): one row per login; idle_expires_at never passes
//     expires_at, so it alone says when the session ends. Ids and strings
//     from requests are bytea: the contracts allow any bytes. No foreign
//     key to users: a session may outlive its user until the caller
//     ends it.
//   - revocations (id, expires_at): revoked token and session ids.
//   - user_marks (user_id, valid_after, expires_at): per-user "tokens
//     valid after" times.
//   - used_once (id, expires_at): one-time ids already used.
//   - counters (key, n, expires_at): throttling counts and their window's
//     end.
//   - totp (user_id, secret, confirmed, recovery_codes, created_at,
//     updated_at): second-factor enrolments ([store.TOTPStore]); the
//     secret as the caller sealed it, recovery codes as hashes.
//
// Rows past their expiry are never read as live (every read compares
// with the store's clock) and a janitor deletes them in batches of at
// most 1000 per statement ([WithSweepInterval]).
//
// # Migrations
//
// The schema is created and upgraded by numbered migrations embedded in
// the package, applied in one transaction under an advisory lock, so two
// instances starting together never race, and recorded in
// schema_version. [New] and [Open] migrate unless [WithoutAutoMigrate] is
// given; [Migrate] runs them on its own. A database whose schema is newer
// than this code is refused with an error wrapping [ErrSchemaVersion],
// and left unchanged.
//
// # Guarantees
//
// Every compare-and-swap is one statement: refresh rotation is an UPDATE
// whose WHERE holds the expected refresh id; UseOnce and counter windows
// are upserts; revocations and valid-after marks only move forward. Every
// operation is bounded by [WithTimeout]; a database that cannot answer
// gives an error wrapping [store.ErrUnavailable], never a hang and never
// a pass. Errors wrap the store package's sentinels and never hold the
// values sent (hashes, ids) or a password.
//
// Ids, usernames and keys are at most 1024 bytes (store.ErrInvalid
// beyond), well inside PostgreSQL's index and notification limits.
//
// # The local view
//
// [Store.IsRevoked] is on every request's path. The Store keeps an
// in-process view of live revocations and per-user valid-after marks, fed
// by LISTEN/NOTIFY on the channel "<schema>_revocations" on one dedicated
// connection (not a pooled one), rebuilt from the tables after every
// (re)connect, and trusted only while this instance's own periodic
// notification keeps coming back: a revocation made on any instance is
// enforced here at most [WithViewMaxLag] later, usually within a
// millisecond. Every revocation notifies in its own statement's
// transaction, so the notification is delivered at commit, in commit
// order. When the view is not provably caught up, IsRevoked asks the
// database; stale means "ask", never "allow". [WithoutLocalView] turns it
// off.
package postgres
