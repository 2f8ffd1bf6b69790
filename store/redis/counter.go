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
	w, err := bounded(s, ctx, op, func(ctx context.Context) (counterWindow, error) {
		now := s.now()
		res, err := s.run(ctx, incrScript, []string{s.k.counter(key)}, encTime(now), encTime(now.Add(window)))
		if err != nil {
			return counterWindow{}, unavailable(op, err)
		}
		arr, ok := res.([]any)
		if !ok || len(arr) != 2 {
			return counterWindow{}, unavailable(op, errBadReply)
		}
		n, ok1 := arr[0].(int64)
		e, ok2 := arr[1].(string)
		end, err := decTime(e)
		if !ok1 || !ok2 || err != nil {
			return counterWindow{}, unavailable(op, errBadReply)
		}
		return counterWindow{n, end}, nil
	})
	return w.n, w.end, err
}

// Count implements [store.Counter].
func (s *Store) Count(ctx context.Context, key string) (int64, time.Time, error) {
	const op = "count"
	w, err := bounded(s, ctx, op, func(ctx context.Context) (counterWindow, error) {
		vals, err := s.c.HMGet(ctx, s.k.counter(key), "n", "e").Result()
		if err != nil {
			return counterWindow{}, unavailable(op, err)
		}
		ns, ok1 := vals[0].(string)
		es, ok2 := vals[1].(string)
		if !ok1 || !ok2 || es <= encTime(s.now()) {
			return counterWindow{}, nil
		}
		end, err := decTime(es)
		if err != nil {
			return counterWindow{}, unavailable(op, errBadReply)
		}
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return counterWindow{}, unavailable(op, errBadReply)
		}
		return counterWindow{n, end}, nil
	})
	return w.n, w.end, err
}

// Reset implements [store.Counter].
func (s *Store) Reset(ctx context.Context, key string) error {
	const op = "reset"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if err := s.c.Del(ctx, s.k.counter(key)).Err(); err != nil {
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
