package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/gatekeep/gatekeep/store"
)

// userTable keeps users, the canonical-username index and the IDs in order
// for paging, all under one lock so that they always agree.
type userTable struct {
	mu     sync.RWMutex
	byID   map[string]*store.User
	byName map[string]string // canonical username -> ID
	ids    []string          // sorted
	totp   map[string]*store.TOTP
}

func (t *userTable) init() {
	t.byID = make(map[string]*store.User)
	t.byName = make(map[string]string)
	t.totp = make(map[string]*store.TOTP)
}

func cloneUser(u *store.User) *store.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	return &c
}

// CreateUser implements [store.UserStore].
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if u == nil || u.ID == "" {
		return fmt.Errorf("memory: create user: empty ID: %w", store.ErrInvalid)
	}
	name, err := store.CanonicalUsername(u.Username)
	if err != nil {
		return fmt.Errorf("memory: create user: %w", err)
	}
	c := cloneUser(u)
	c.Username = name
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt

	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byID[c.ID]; ok {
		return fmt.Errorf("memory: create user: ID taken: %w", store.ErrConflict)
	}
	if _, ok := t.byName[name]; ok {
		return fmt.Errorf("memory: create user: username taken: %w", store.ErrConflict)
	}
	t.byID[c.ID] = c
	t.byName[name] = c.ID
	i, _ := slices.BinarySearch(t.ids, c.ID)
	t.ids = slices.Insert(t.ids, i, c.ID)
	return nil
}

// User implements [store.UserStore].
func (s *Store) User(ctx context.Context, id string) (*store.User, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.users
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.byID[id]
	if !ok {
		return nil, fmt.Errorf("memory: user: %w", store.ErrNotFound)
	}
	return cloneUser(u), nil
}

// UserByUsername implements [store.UserStore].
func (s *Store) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	name, err := store.CanonicalUsername(username)
	if err != nil {
		return nil, fmt.Errorf("memory: user by username: %w", store.ErrNotFound)
	}
	t := &s.users
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("memory: user by username: %w", store.ErrNotFound)
	}
	return cloneUser(t.byID[id]), nil
}

// UpdateUser implements [store.UserStore].
func (s *Store) UpdateUser(ctx context.Context, id string, upd store.UserUpdate) (*store.User, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.byID[id]
	if !ok {
		return nil, fmt.Errorf("memory: update user: %w", store.ErrNotFound)
	}
	u := cloneUser(old)
	if upd.PasswordHash != nil {
		u.PasswordHash = *upd.PasswordHash
	}
	if upd.Email != nil {
		u.Email = *upd.Email
	}
	if upd.Roles != nil {
		u.Roles = slices.Clone(upd.Roles)
	}
	u.UpdatedAt = s.now()
	t.byID[id] = u
	return cloneUser(u), nil
}

// SetPasswordHash implements [store.UserStore]: the compare and the swap
// happen under the user table's lock.
func (s *Store) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if next == "" {
		return nil, fmt.Errorf("memory: set password hash: empty hash: %w", store.ErrInvalid)
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.byID[id]
	if !ok {
		return nil, fmt.Errorf("memory: set password hash: %w", store.ErrNotFound)
	}
	if old.PasswordHash != expected {
		return cloneUser(old), fmt.Errorf("memory: set password hash: the stored hash changed: %w", store.ErrConflict)
	}
	u := cloneUser(old)
	u.PasswordHash = next
	u.UpdatedAt = s.now()
	t.byID[id] = u
	return cloneUser(u), nil
}

// ListUsers implements [store.UserStore]. The cursor is the last ID of the
// previous page, base64url-encoded so that it is safe in a URL.
func (s *Store) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if limit < 1 {
		return nil, "", fmt.Errorf("memory: list users: limit %d below 1: %w", limit, store.ErrInvalid)
	}
	var after string
	if cursor != "" {
		var err error
		if after, err = store.DecodeCursor(cursor); err != nil {
			return nil, "", fmt.Errorf("memory: list users: %w", err)
		}
	}
	t := &s.users
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := 0
	if cursor != "" {
		i = sort.SearchStrings(t.ids, after)
		if i < len(t.ids) && t.ids[i] == after {
			i++
		}
	}
	end := min(i+limit, len(t.ids))
	users := make([]*store.User, 0, end-i)
	for _, id := range t.ids[i:end] {
		users = append(users, cloneUser(t.byID[id]))
	}
	next := ""
	if end < len(t.ids) {
		next = store.EncodeCursor(t.ids[end-1])
	}
	return users, next, nil
}

// DeleteUser implements [store.UserStore]. The user's sessions are left
// alone: delete them with DeleteUserSessions.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.users
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.byID[id]
	if !ok {
		return fmt.Errorf("memory: delete user: %w", store.ErrNotFound)
	}
	delete(t.byID, id)
	delete(t.byName, u.Username)
	delete(t.totp, id)
	if i, ok := slices.BinarySearch(t.ids, id); ok {
		t.ids = slices.Delete(t.ids, i, i+1)
	}
	return nil
}
