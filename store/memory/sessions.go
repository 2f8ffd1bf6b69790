package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// sessionTable keeps sessions and the user -> sessions index under one lock.
type sessionTable struct {
	mu     sync.RWMutex
	byID   map[string]*store.Session
	byUser map[string]map[string]struct{}
}

func (t *sessionTable) init() {
	t.byID = make(map[string]*store.Session)
	t.byUser = make(map[string]map[string]struct{})
}

// live reports whether se has neither idle- nor absolute-expired at now.
func live(se *store.Session, now time.Time) bool {
	return now.Before(se.IdleExpiresAt) && now.Before(se.ExpiresAt)
}

// remove drops a session and its index entry; t.mu is held for writing.
func (t *sessionTable) remove(se *store.Session) {
	delete(t.byID, se.ID)
	if ids := t.byUser[se.UserID]; ids != nil {
		delete(ids, se.ID)
		if len(ids) == 0 {
			delete(t.byUser, se.UserID)
		}
	}
}

func (t *sessionTable) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, se := range t.byID {
		if !live(se, now) {
			t.remove(se)
		}
	}
}

func cloneSession(se *store.Session) *store.Session {
	c := *se
	return &c
}

// CreateSession implements [store.SessionStore]. A zero IdleExpiresAt, or
// one after ExpiresAt, is stored as ExpiresAt.
func (s *Store) CreateSession(ctx context.Context, se *store.Session) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if se == nil || se.ID == "" || se.UserID == "" || se.ExpiresAt.IsZero() {
		return fmt.Errorf("memory: create session: empty ID, UserID or ExpiresAt: %w", store.ErrInvalid)
	}
	c := cloneSession(se)
	if c.IdleExpiresAt.IsZero() || c.IdleExpiresAt.After(c.ExpiresAt) {
		c.IdleExpiresAt = c.ExpiresAt
	}
	t := &s.sessions
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byID[c.ID]; ok {
		if live(old, s.now()) {
			return fmt.Errorf("memory: create session: ID taken: %w", store.ErrConflict)
		}
		t.remove(old)
	}
	t.byID[c.ID] = c
	ids := t.byUser[c.UserID]
	if ids == nil {
		ids = make(map[string]struct{})
		t.byUser[c.UserID] = ids
	}
	ids[c.ID] = struct{}{}
	return nil
}

// Session implements [store.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*store.Session, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.sessions
	t.mu.RLock()
	defer t.mu.RUnlock()
	se, ok := t.byID[id]
	if !ok || !live(se, s.now()) {
		return nil, fmt.Errorf("memory: session: %w", store.ErrNotFound)
	}
	return cloneSession(se), nil
}

// RotateSession implements [store.SessionStore].
func (s *Store) RotateSession(ctx context.Context, id string, r store.Rotation) (*store.Session, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.sessions
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.byID[id]
	if !ok || !live(old, s.now()) {
		return nil, fmt.Errorf("memory: rotate session: %w", store.ErrNotFound)
	}
	if old.RefreshID != r.Expected {
		return cloneSession(old), fmt.Errorf("memory: rotate session: refresh id already rotated: %w", store.ErrConflict)
	}
	se := cloneSession(old)
	se.PreviousRefreshID = old.RefreshID
	se.RefreshID = r.Next
	se.LastUsedAt = r.At
	se.RotatedAt = r.At
	se.IdleExpiresAt = r.IdleExpiresAt
	if se.IdleExpiresAt.After(se.ExpiresAt) {
		se.IdleExpiresAt = se.ExpiresAt
	}
	t.byID[id] = se
	return cloneSession(se), nil
}

// DeleteSession implements [store.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.sessions
	t.mu.Lock()
	defer t.mu.Unlock()
	se, ok := t.byID[id]
	if !ok {
		return fmt.Errorf("memory: delete session: %w", store.ErrNotFound)
	}
	t.remove(se)
	if !live(se, s.now()) {
		return fmt.Errorf("memory: delete session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteUserSessions implements [store.SessionStore].
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.sessions
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range t.byUser[userID] {
		delete(t.byID, id)
	}
	delete(t.byUser, userID)
	return nil
}

// UserSessions implements [store.SessionStore].
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*store.Session, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	t := &s.sessions
	t.mu.RLock()
	list := make([]*store.Session, 0, len(t.byUser[userID]))
	for id := range t.byUser[userID] {
		if se := t.byID[id]; live(se, now) {
			list = append(list, cloneSession(se))
		}
	}
	t.mu.RUnlock()
	sortSessions(list)
	return list, nil
}

// sortSessions orders sessions oldest first, by ID among equals.
func sortSessions(list []*store.Session) {
	slices.SortFunc(list, func(a, b *store.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}
