package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// Incr implements [store.Counter]. It returns ErrInvalid for an empty key or
// a window below one millisecond.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	if key == "" || window < time.Millisecond {
		return 0, time.Time{}, fmt.Errorf("bolt: incr: empty key or window below 1ms: %w", store.ErrInvalid)
	}
	var n, reset int64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bCounters)
		now := s.now()
		if v := b.Get([]byte(key)); len(v) == 16 && !expired(v, unixNano(now)) {
			reset, n = getInt(v), getInt(v[8:])
		} else {
			reset, n = unixNano(now.Add(window)), 0
		}
		n++
		v := make([]byte, 16)
		putInt(v, reset)
		putInt(v[8:], n)
		return b.Put([]byte(key), v)
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bolt: incr: %w", err)
	}
	return n, time.Unix(0, reset), nil
}

// Count implements [store.Counter].
func (s *Store) Count(ctx context.Context, key string) (int64, time.Time, error) {
	var n int64
	var reset time.Time
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bCounters).Get([]byte(key)); len(v) == 16 && !expired(v, unixNano(s.now())) {
			n, reset = getInt(v[8:]), time.Unix(0, getInt(v))
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bolt: count: %w", err)
	}
	return n, reset, nil
}

// Reset implements [store.Counter].
func (s *Store) Reset(ctx context.Context, key string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		if key == "" {
			return nil
		}
		return tx.Bucket(bCounters).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("bolt: reset: %w", err)
	}
	return nil
}
