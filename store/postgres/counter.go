package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

// A counter row is the count and its window's end; an Incr past the end
// starts a new window in the same upsert, so concurrent Incrs of one
// window all see its one end.

// Incr implements [store.Counter].
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	const op = "incr"
	if key == "" {
		return 0, time.Time{}, invalid(op, "empty key")
	}
	if len(key) > maxKey {
		return 0, time.Time{}, invalid(op, "key longer than 1024 bytes")
	}
	if window < time.Millisecond {
		return 0, time.Time{}, invalid(op, "window below one millisecond")
	}
	w, err := bounded(s, ctx, op, func(ctx context.Context) (counterWindow, error) {
		now := s.now()
		var w counterWindow
		err := s.pool.QueryRow(ctx, `INSERT INTO `+s.q.counters+` AS t (key, n, expires_at) VALUES ($1, 1, $3)
ON CONFLICT (key) DO UPDATE SET
	n = CASE WHEN t.expires_at > $2 THEN t.n + 1 ELSE 1 END,
	expires_at = CASE WHEN t.expires_at > $2 THEN t.expires_at ELSE excluded.expires_at END
RETURNING n, expires_at`, []byte(key), now, now.Add(window)).Scan(&w.n, &w.end)
		if err != nil {
			return counterWindow{}, unavailable(op, err)
		}
		return w, nil
	})
	return w.n, w.end, err
}

// Count implements [store.Counter].
func (s *Store) Count(ctx context.Context, key string) (int64, time.Time, error) {
	const op = "count"
	w, err := bounded(s, ctx, op, func(ctx context.Context) (counterWindow, error) {
		var w counterWindow
		if key == "" || len(key) > maxKey {
			return w, nil
		}
		err := s.pool.QueryRow(ctx, `SELECT n, expires_at FROM `+s.q.counters+` WHERE key = $1 AND expires_at > $2`,
			[]byte(key), s.now()).Scan(&w.n, &w.end)
		if errors.Is(err, pgx.ErrNoRows) {
			return counterWindow{}, nil
		}
		if err != nil {
			return counterWindow{}, unavailable(op, err)
		}
		return w, nil
	})
	return w.n, w.end, err
}

// Reset implements [store.Counter].
func (s *Store) Reset(ctx context.Context, key string) error {
	const op = "reset"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.q.counters+` WHERE key = $1`, []byte(key)); err != nil {
			return unavailable(op, err)
		}
		return nil
	})
}

// counterWindow is a count and its window's end.
type counterWindow struct {
	n   int64
	end time.Time
}

var _ store.Counter = (*Store)(nil)
