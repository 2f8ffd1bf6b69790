package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

type window struct {
	n       int64
	resetAt time.Time
}

type counterTable struct {
	mu sync.Mutex
	m  map[string]window
}

func (t *counterTable) init() { t.m = make(map[string]window) }

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
