package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

// Each revocation and its announcement are one statement: the upsert and
// a pg_notify on the revocation channel, which PostgreSQL delivers at
// commit, in commit order, to every listener (see view.go). Payloads
// carry times in unix microseconds, PostgreSQL's precision:
//
//	i <expires> <hex id>         a revoked token or session id
//	u <valid after> <expires> <hex user id>
//	p <instance> <sent>          a view's own ping

// usec is a timestamptz as unix microseconds, in SQL.
func usec(col string) string { return `(extract(epoch FROM ` + col + `) * 1000000)::bigint` }

// Revoke implements [store.Revoker]. An until already past stores nothing:
// the entry would be gone at once.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	const op = "revoke"
	if id == "" {
		return invalid(op, "empty id")
	}
	if len(id) > maxKey {
		return invalid(op, "id longer than 1024 bytes")
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if !until.After(s.now()) {
			return nil
		}
		var stored time.Time
		err := s.pool.QueryRow(ctx, `WITH r AS (
	INSERT INTO `+s.q.revocations+` AS t (id, expires_at) VALUES ($1, $2)
	ON CONFLICT (id) DO UPDATE SET expires_at = greatest(t.expires_at, excluded.expires_at)
	RETURNING expires_at
), n AS (SELECT pg_notify($3, 'i ' || `+usec("expires_at")+` || ' ' || encode($1, 'hex')) FROM r)
SELECT expires_at FROM r, n`, []byte(id), until, s.channel).Scan(&stored)
		if err != nil {
			return unavailable(op, err)
		}
		// Read-your-writes: this instance knows before its notification comes back.
		if s.view != nil {
			s.view.addID(id, stored.UnixNano())
		}
		return nil
	})
}

// RevokeUserBefore implements [store.Revoker]. A mark past its expiry but
// not swept yet is replaced, not merged, as if it were gone.
func (s *Store) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	const op = "revoke user before"
	if userID == "" {
		return invalid(op, "empty user ID")
	}
	if len(userID) > maxKey {
		return invalid(op, "user ID longer than 1024 bytes")
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		now := s.now()
		if !until.After(now) {
			return nil
		}
		var m mark
		var va, ex time.Time
		err := s.pool.QueryRow(ctx, `WITH r AS (
	INSERT INTO `+s.q.marks+` AS t (user_id, valid_after, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (user_id) DO UPDATE SET
		valid_after = CASE WHEN t.expires_at > $4 THEN greatest(t.valid_after, excluded.valid_after) ELSE excluded.valid_after END,
		expires_at = CASE WHEN t.expires_at > $4 THEN greatest(t.expires_at, excluded.expires_at) ELSE excluded.expires_at END
	RETURNING valid_after, expires_at
), n AS (SELECT pg_notify($5, 'u ' || `+usec("valid_after")+` || ' ' || `+usec("expires_at")+` || ' ' || encode($1, 'hex')) FROM r)
SELECT valid_after, expires_at FROM r, n`, []byte(userID), before, until, now, s.channel).Scan(&va, &ex)
		if err != nil {
			return unavailable(op, err)
		}
		m.before, m.until = va.UnixNano(), ex.UnixNano()
		if s.view != nil {
			s.view.addMark(userID, m)
		}
		return nil
	})
}

// IsRevoked implements [store.Revoker]. While the local view is provably
// caught up it answers without a round trip; otherwise it asks the
// database, and a database that cannot answer gives ErrUnavailable (with
// true), never "not revoked".
func (s *Store) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if s.closed.Load() {
		return true, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return true, unavailable("is revoked", err)
	}
	if s.view != nil {
		if revoked, ok := s.view.check(c); ok {
			return revoked, nil
		}
	}
	s.fallbacks.Add(1)
	revoked, err := s.isRevokedDB(ctx, c)
	if err != nil {
		return true, err // fail closed, as the contract asks
	}
	return revoked, nil
}

func (s *Store) isRevokedDB(ctx context.Context, c store.Check) (bool, error) {
	const op = "is revoked"
	return bounded(s, ctx, op, func(ctx context.Context) (bool, error) {
		ids := make([][]byte, 0, 2)
		if c.TokenID != "" {
			ids = append(ids, []byte(c.TokenID))
		}
		if c.SessionID != "" {
			ids = append(ids, []byte(c.SessionID))
		}
		var revoked bool
		err := s.pool.QueryRow(ctx, `SELECT
	EXISTS (SELECT 1 FROM `+s.q.revocations+` WHERE id = ANY($1::bytea[]) AND expires_at > $2)
	OR (length($3::bytea) > 0 AND EXISTS (SELECT 1 FROM `+s.q.marks+` WHERE user_id = $3 AND expires_at > $2 AND valid_after > $4))`,
			ids, s.now(), []byte(c.UserID), c.IssuedAt).Scan(&revoked)
		if err != nil {
			return false, unavailable(op, err)
		}
		return revoked, nil
	})
}

// UseOnce implements [store.Revoker]: one upsert that succeeds only where
// no live row holds the id, so of concurrent calls exactly one gets a row
// back. An until already past is moved to now plus a minute, as on the
// other stores, so that concurrent uses still see one winner.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	const op = "use once"
	if id == "" {
		return false, invalid(op, "empty id")
	}
	if len(id) > maxKey {
		return false, invalid(op, "id longer than 1024 bytes")
	}
	return bounded(s, ctx, op, func(ctx context.Context) (bool, error) {
		now := s.now()
		if !until.After(now) {
			until = now.Add(time.Minute)
		}
		var first bool
		err := s.pool.QueryRow(ctx, `INSERT INTO `+s.q.once+` AS t (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE t.expires_at <= $3
RETURNING true`, []byte(id), until, now).Scan(&first)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, unavailable(op, err)
		}
		return first, nil
	})
}

// mark is a user's valid-after time: tokens issued before before are
// revoked while now < until. Both are unix nanoseconds.
type mark struct{ before, until int64 }

func (m mark) revokes(issuedAt time.Time, now int64) bool {
	return now < m.until && issuedAt.Before(time.Unix(0, m.before))
}
