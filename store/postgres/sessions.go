package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

// A session row keeps idle_expires_at at most expires_at, so it alone
// says when the session ends; it moves only by rotation.

const sessionCols = `id, user_id, created_at, last_used_at, idle_expires_at, expires_at,
	user_agent, ip, refresh_id, previous_refresh_id, rotated_at`

// CreateSession implements [store.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	const op = "create session"
	if sess == nil || sess.ID == "" || sess.UserID == "" {
		return invalid(op, "empty session ID or user ID")
	}
	if len(sess.ID) > maxKey || len(sess.UserID) > maxKey || len(sess.RefreshID) > maxKey || len(sess.PreviousRefreshID) > maxKey {
		return invalid(op, "an ID longer than 1024 bytes")
	}
	if sess.ExpiresAt.IsZero() {
		return invalid(op, "zero ExpiresAt")
	}
	in := *sess
	if in.IdleExpiresAt.IsZero() || in.IdleExpiresAt.After(in.ExpiresAt) {
		in.IdleExpiresAt = in.ExpiresAt // as the contract says
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO `+s.q.sessions+` (`+sessionCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			[]byte(in.ID), []byte(in.UserID), in.CreatedAt, in.LastUsedAt, in.IdleExpiresAt, in.ExpiresAt,
			[]byte(in.UserAgent), []byte(in.IP), []byte(in.RefreshID), []byte(in.PreviousRefreshID), in.RotatedAt)
		if uniqueViolation(err) != "" {
			return conflict(op, "session ID taken")
		}
		if err != nil {
			return unavailable(op, err)
		}
		return nil
	})
}

// Session implements [store.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*store.Session, error) {
	const op = "session"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Session, error) {
		if id == "" || len(id) > maxKey {
			return nil, notFound(op)
		}
		return scanSession(op, s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM `+s.q.sessions+
			` WHERE id = $1 AND idle_expires_at > $2`, []byte(id), s.now()))
	})
}

// RotateSession implements [store.SessionStore]. The compare-and-swap is
// one UPDATE whose WHERE holds the expected refresh id: concurrent
// rotations queue on the row lock and each re-checks the WHERE against
// the row the previous one left, so exactly one wins. Only a loser reads
// the session again, to return it with ErrConflict.
func (s *Store) RotateSession(ctx context.Context, id string, r store.Rotation) (*store.Session, error) {
	const op = "rotate session"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Session, error) {
		if id == "" || len(id) > maxKey {
			return nil, notFound(op)
		}
		if len(r.Next) > maxKey {
			return nil, invalid(op, "refresh id longer than 1024 bytes")
		}
		now := s.now()
		sess, err := scanSession(op, s.pool.QueryRow(ctx, `UPDATE `+s.q.sessions+` SET
	previous_refresh_id = refresh_id, refresh_id = $3, last_used_at = $4, rotated_at = $4,
	idle_expires_at = least($5, expires_at)
WHERE id = $1 AND refresh_id = $2 AND idle_expires_at > $6
RETURNING `+sessionCols, []byte(id), []byte(r.Expected), []byte(r.Next), r.At, r.IdleExpiresAt, now))
		if !errors.Is(err, store.ErrNotFound) {
			return sess, err
		}
		cur, err := scanSession(op, s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM `+s.q.sessions+
			` WHERE id = $1 AND idle_expires_at > $2`, []byte(id), now))
		if err != nil {
			return nil, err
		}
		return cur, conflict(op, "refresh id already rotated")
	})
}

// DeleteSession implements [store.SessionStore]. An ended session not
// swept yet is deleted and reported missing, as it reads.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	const op = "delete session"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if id == "" || len(id) > maxKey {
			return notFound(op)
		}
		var live bool
		err := s.pool.QueryRow(ctx, `DELETE FROM `+s.q.sessions+` WHERE id = $1 RETURNING idle_expires_at > $2`,
			[]byte(id), s.now()).Scan(&live)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !live {
			return notFound(op)
		}
		if err != nil {
			return unavailable(op, err)
		}
		return nil
	})
}

// DeleteUserSessions implements [store.SessionStore].
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	const op = "delete user sessions"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if userID == "" || len(userID) > maxKey {
			return nil
		}
		if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.q.sessions+` WHERE user_id = $1`, []byte(userID)); err != nil {
			return unavailable(op, err)
		}
		return nil
	})
}

// UserSessions implements [store.SessionStore].
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*store.Session, error) {
	const op = "user sessions"
	return bounded(s, ctx, op, func(ctx context.Context) ([]*store.Session, error) {
		if userID == "" || len(userID) > maxKey {
			return nil, nil
		}
		rows, err := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM `+s.q.sessions+
			` WHERE user_id = $1 AND idle_expires_at > $2 ORDER BY created_at, id`, []byte(userID), s.now())
		if err != nil {
			return nil, unavailable(op, err)
		}
		defer rows.Close()
		var out []*store.Session
		for rows.Next() {
			sess, err := scanSession(op, rows)
			if err != nil {
				return nil, err
			}
			out = append(out, sess)
		}
		if err := rows.Err(); err != nil {
			return nil, unavailable(op, err)
		}
		return out, nil
	})
}

func scanSession(op string, row pgx.Row) (*store.Session, error) {
	s := &store.Session{}
	var id, uid, ua, ip, rid, prid []byte
	err := row.Scan(&id, &uid, &s.CreatedAt, &s.LastUsedAt, &s.IdleExpiresAt, &s.ExpiresAt,
		&ua, &ip, &rid, &prid, &s.RotatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(op)
	}
	if err != nil {
		return nil, unavailable(op, err)
	}
	s.ID, s.UserID, s.UserAgent, s.IP = string(id), string(uid), string(ua), string(ip)
	s.RefreshID, s.PreviousRefreshID = string(rid), string(prid)
	return s, nil
}
