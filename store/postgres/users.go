package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

// maxPage caps one ListUsers page; the contract allows fewer than limit.
const maxPage = 10000

const userCols = `id, username, email, password_hash, roles, created_at, updated_at`

// CreateUser implements [store.UserStore]. The unique index on the
// canonical username decides concurrent creations.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	const op = "create user"
	if u == nil || u.ID == "" {
		return invalid(op, "empty user ID")
	}
	if len(u.ID) > maxKey {
		return invalid(op, "user ID longer than 1024 bytes")
	}
	if !textOK(u.ID) || !textOK(u.Email) || !textOK(u.PasswordHash) || slices.IndexFunc(u.Roles, notText) >= 0 {
		return invalid(op, "user ID, email, password hash and roles must be UTF-8 without NUL")
	}
	name, err := store.CanonicalUsername(u.Username)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if len(name) > maxKey {
		return invalid(op, "username longer than 1024 bytes")
	}
	roles := append([]string{}, u.Roles...)
	created, err := bounded(s, ctx, op, func(ctx context.Context) (time.Time, error) {
		var at time.Time
		err := s.pool.QueryRow(ctx, `INSERT INTO `+s.q.users+` (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING created_at`,
			u.ID, name, u.Email, u.PasswordHash, roles, s.now()).Scan(&at)
		switch c := uniqueViolation(err); {
		case c == "users_pkey":
			return at, conflict(op, "user ID taken")
		case c != "":
			return at, conflict(op, "username taken")
		case err != nil:
			return at, unavailable(op, err)
		}
		return at, nil
	})
	if err != nil {
		return err
	}
	u.Username, u.CreatedAt, u.UpdatedAt = name, created, created
	return nil
}

// User implements [store.UserStore].
func (s *Store) User(ctx context.Context, id string) (*store.User, error) {
	const op = "user"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		if id == "" || len(id) > maxKey || !textOK(id) {
			return nil, notFound(op)
		}
		return scanUser(op, s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM `+s.q.users+` WHERE id = $1`, id))
	})
}

// UserByUsername implements [store.UserStore].
func (s *Store) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	const op = "user by username"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		name, err := store.CanonicalUsername(username)
		if err != nil || len(name) > maxKey {
			return nil, notFound(op)
		}
		return scanUser(op, s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM `+s.q.users+` WHERE username = $1`, name))
	})
}

// UpdateUser implements [store.UserStore]: one UPDATE, so concurrent
// updates of different fields never undo each other.
func (s *Store) UpdateUser(ctx context.Context, id string, upd store.UserUpdate) (*store.User, error) {
	const op = "update user"
	if upd.PasswordHash != nil && !textOK(*upd.PasswordHash) || upd.Email != nil && !textOK(*upd.Email) ||
		slices.IndexFunc(upd.Roles, notText) >= 0 {
		return nil, invalid(op, "email, password hash and roles must be UTF-8 without NUL")
	}
	var hash, email, roles any
	if upd.PasswordHash != nil {
		hash = *upd.PasswordHash
	}
	if upd.Email != nil {
		email = *upd.Email
	}
	if upd.Roles != nil {
		roles = append([]string{}, upd.Roles...)
	}
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		if id == "" || len(id) > maxKey || !textOK(id) {
			return nil, notFound(op)
		}
		return scanUser(op, s.pool.QueryRow(ctx, `UPDATE `+s.q.users+` SET updated_at = $2,
	password_hash = coalesce($3::text, password_hash),
	email = coalesce($4::text, email),
	roles = coalesce($5::text[], roles)
WHERE id = $1 RETURNING `+userCols, id, s.now(), hash, email, roles))
	})
}

// SetPasswordHash implements [store.UserStore]. The compare-and-swap is
// one UPDATE whose WHERE holds the expected hash: concurrent swaps queue
// on the row lock and each re-checks the WHERE against the row the
// previous one left, so exactly one wins. Only a loser reads the user
// again, to return it with ErrConflict.
func (s *Store) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	const op = "set password hash"
	if next == "" {
		return nil, invalid(op, "empty password hash")
	}
	if !textOK(next) {
		return nil, invalid(op, "password hash must be UTF-8 without NUL")
	}
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		if id == "" || len(id) > maxKey || !textOK(id) {
			return nil, notFound(op)
		}
		// A stored hash is text: an expected one that is not can match none.
		if textOK(expected) {
			u, err := scanUser(op, s.pool.QueryRow(ctx, `UPDATE `+s.q.users+` SET password_hash = $3, updated_at = $4
WHERE id = $1 AND password_hash = $2 RETURNING `+userCols, id, expected, next, s.now()))
			if !errors.Is(err, store.ErrNotFound) {
				return u, err
			}
		}
		cur, err := scanUser(op, s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM `+s.q.users+` WHERE id = $1`, id))
		if err != nil {
			return nil, err
		}
		return cur, conflict(op, "the stored hash changed")
	})
}

// ListUsers implements [store.UserStore]. IDs are ordered bytewise (the
// column's collation is "C"), as on every other store. Pages above 10000
// users are cut there.
func (s *Store) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	const op = "list users"
	if limit < 1 {
		return nil, "", invalid(op, "limit below 1")
	}
	limit = min(limit, maxPage)
	after, first := "", true
	if cursor != "" {
		id, err := store.DecodeCursor(cursor)
		if err != nil {
			return nil, "", invalid(op, "malformed cursor")
		}
		if !textOK(id) {
			return nil, "", invalid(op, "malformed cursor")
		}
		after, first = id, false
	}
	type page struct {
		users []*store.User
		next  string
	}
	p, err := bounded(s, ctx, op, func(ctx context.Context) (page, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM `+s.q.users+` WHERE $1 OR id > $2 ORDER BY id LIMIT $3`,
			first, after, limit+1)
		if err != nil {
			return page{}, unavailable(op, err)
		}
		defer rows.Close()
		var users []*store.User
		for rows.Next() {
			u, err := scanUser(op, rows)
			if err != nil {
				return page{}, err
			}
			users = append(users, u)
		}
		if err := rows.Err(); err != nil {
			return page{}, unavailable(op, err)
		}
		next := ""
		if len(users) > limit {
			users = users[:limit]
			next = store.EncodeCursor(users[limit-1].ID)
		}
		return page{users, next}, nil
	})
	return p.users, p.next, err
}

// DeleteUser implements [store.UserStore]. The user's sessions and
// revocations stay; callers end them first.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "delete user"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if id == "" || len(id) > maxKey || !textOK(id) {
			return notFound(op)
		}
		// The enrolment goes in the same statement (a data-modifying CTE
		// runs whatever the outer DELETE finds).
		tag, err := s.pool.Exec(ctx, `WITH t AS (DELETE FROM `+s.q.totp+` WHERE user_id = $2) DELETE FROM `+s.q.users+` WHERE id = $1`, id, []byte(id))
		if err != nil {
			return unavailable(op, err)
		}
		if tag.RowsAffected() != 1 {
			return notFound(op)
		}
		return nil
	})
}

func scanUser(op string, row pgx.Row) (*store.User, error) {
	u := &store.User{}
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Roles, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(op)
	}
	if err != nil {
		return nil, unavailable(op, err)
	}
	return u, nil
}

// textOK reports whether s fits a text column: UTF-8 without NUL. The
// users table is text so that applications can reference it; the other
// tables are bytea and take any bytes.
func textOK(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func notText(s string) bool { return !textOK(s) }
