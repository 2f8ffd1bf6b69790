package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// A counter is a hash {n, e}: the count and the window's end. Keeping the
// end (rather than reading PTTL) gives every Incr of one window the same
// resetAt; PEXPIREAT on the first Incr lets Redis drop the window.

// Incr implements [store.Counter].
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	const op = "incr"
	if key == "" {
		return 0, time.Time{}, invalid(op, "empty key")
	}
	if window < time.Millisecond {
		return 0, time.Time{}, invalid(op, "window below one millisecond")
	}
	ctx, cancel, err := s.op(ctx, op)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer cancel()
	now := s.now()
	res, err := s.run(ctx, incrScript, []string{s.k.counter(key)}, encTime(now), encTime(now.Add(window)))
	if err != nil {
		return 0, time.Time{}, unavailable(op, err)
	}
	arr, ok := res.([]any)
	if !ok || len(arr) != 2 {
		return 0, time.Time{}, unavailable(op, errBadReply)
	}
	n, ok1 := arr[0].(int64)
	e, ok2 := arr[1].(string)
	end, err := decTime(e)
	if !ok1 || !ok2 || err != nil {
		return 0, time.Time{}, unavailable(op, errBadReply)
	}
	return n, end, nil
}

// Count implements [store.Counter].
func (s *Store) Count(ctx context.Context, key string) (int64, time.Time, error) {
	const op = "count"
	ctx, cancel, err := s.op(ctx, op)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer cancel()
	vals, err := s.c.HMGet(ctx, s.k.counter(key), "n", "e").Result()
	if err != nil {
		return 0, time.Time{}, unavailable(op, err)
	}
	ns, ok1 := vals[0].(string)
	es, ok2 := vals[1].(string)
	if !ok1 || !ok2 || es <= encTime(s.now()) {
		return 0, time.Time{}, nil
	}
	end, err := decTime(es)
	if err != nil {
		return 0, time.Time{}, unavailable(op, errBadReply)
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, time.Time{}, unavailable(op, errBadReply)
	}
	return n, end, nil
}

// Reset implements [store.Counter].
func (s *Store) Reset(ctx context.Context, key string) error {
	const op = "reset"
	ctx, cancel, err := s.op(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	if err := s.c.Del(ctx, s.k.counter(key)).Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

var _ store.Counter = (*Store)(nil)
