package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

type window struct {
	n       int64
	resetAt time.Time
}

type counterTable struct {
	mu  sync.Mutex
	m   map[string]window
	max int
}

func (t *counterTable) init(max int) { t.m, t.max = make(map[string]window), max }

// makeRoom drops windows so that one more fits under the bound: the
// ended ones, and when that frees nothing, the sixteenth nearest their end
// (so the cost of a sort is shared by that many inserts). t.mu is held.
func (t *counterTable) makeRoom(now time.Time) {
	if len(t.m) < t.max {
		return
	}
	for k, w := range t.m {
		if !now.Before(w.resetAt) {
			delete(t.m, k)
		}
	}
	if len(t.m) < t.max {
		return
	}
	ends := make([]time.Time, 0, len(t.m))
	for _, w := range t.m {
		ends = append(ends, w.resetAt)
	}
	batch := max(1, t.max/16)
	slices.SortFunc(ends, time.Time.Compare)
	cut := ends[batch-1]
	for k, w := range t.m {
		if batch == 0 {
			break
		}
		if !w.resetAt.After(cut) {
			delete(t.m, k)
			batch--
		}
	}
}

func (t *counterTable) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, w := range t.m {
		if !now.Before(w.resetAt) {
			delete(t.m, k)
		}
	}
}

// Incr implements [store.Counter]. It returns ErrInvalid for an empty key or
// a window below one millisecond.
func (s *Store) Incr(ctx context.Context, key string, win time.Duration) (int64, time.Time, error) {
	if err := s.check(ctx); err != nil {
		return 0, time.Time{}, err
	}
	if key == "" || win < time.Millisecond {
		return 0, time.Time{}, fmt.Errorf("memory: incr: empty key or window below 1ms: %w", store.ErrInvalid)
	}
	now := s.now()
	t := &s.counters
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.m[key]
	if !ok {
		t.makeRoom(now)
	}
	if !ok || !now.Before(w.resetAt) {
		w = window{resetAt: now.Add(win)}
	}
	w.n++
	t.m[key] = w
	return w.n, w.resetAt, nil
}

// Count implements [store.Counter].
func (s *Store) Count(ctx context.Context, key string) (int64, time.Time, error) {
	if err := s.check(ctx); err != nil {
		return 0, time.Time{}, err
	}
	now := s.now()
	t := &s.counters
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.m[key]
	if !ok || !now.Before(w.resetAt) {
		return 0, time.Time{}, nil
	}
	return w.n, w.resetAt, nil
}

// Reset implements [store.Counter].
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.counters
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
	return nil
}
