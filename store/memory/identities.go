package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.IdentityStore = (*Store)(nil)

// identityTable keeps identity links and the (issuer, subject) index under
// one lock, so that they always agree. Its maps are made on first write.
type identityTable struct {
	mu        sync.RWMutex
	byID      map[string]*store.Identity
	bySubject map[[2]string]string // (issuer, subject) -> ID
	// seq orders identities by creation, which CreatedAt alone cannot
	// when two share a clock reading.
	seq  map[string]uint64
	next uint64
}

func cloneIdentity(id *store.Identity) *store.Identity {
	c := *id
	return &c
}

// CreateIdentity implements [store.IdentityStore].
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if id == nil || id.ID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return fmt.Errorf("memory: create identity: empty ID, issuer, subject or user: %w", store.ErrInvalid)
	}
	c := cloneIdentity(id)
	c.CreatedAt = s.now()
	key := [2]string{c.Issuer, c.Subject}

	t := &s.identities
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = make(map[string]*store.Identity)
		t.bySubject = make(map[[2]string]string)
		t.seq = make(map[string]uint64)
	}
	if _, ok := t.byID[c.ID]; ok {
		return fmt.Errorf("memory: create identity: ID taken: %w", store.ErrConflict)
	}
	if _, ok := t.bySubject[key]; ok {
		return fmt.Errorf("memory: create identity: subject already linked: %w", store.ErrConflict)
	}
	t.byID[c.ID] = c
	t.bySubject[key] = c.ID
	t.next++
	t.seq[c.ID] = t.next
	return nil
}

// IdentityBySubject implements [store.IdentityStore].
func (s *Store) IdentityBySubject(ctx context.Context, issuer, subject string) (*store.Identity, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.identities
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.bySubject[[2]string{issuer, subject}]
	if !ok {
		return nil, fmt.Errorf("memory: identity: %w", store.ErrNotFound)
	}
	return cloneIdentity(t.byID[id]), nil
}

// UserIdentities implements [store.IdentityStore].
func (s *Store) UserIdentities(ctx context.Context, userID string) ([]*store.Identity, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t := &s.identities
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*store.Identity
	for _, id := range t.byID {
		if id.UserID == userID {
			out = append(out, cloneIdentity(id))
		}
	}
	slices.SortFunc(out, func(a, b *store.Identity) int {
		return cmp.Compare(t.seq[a.ID], t.seq[b.ID])
	})
	return out, nil
}

// DeleteIdentity implements [store.IdentityStore].
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := &s.identities
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.byID[id]
	if !ok {
		return fmt.Errorf("memory: delete identity: %w", store.ErrNotFound)
	}
	delete(t.byID, id)
	delete(t.bySubject, [2]string{c.Issuer, c.Subject})
	delete(t.seq, id)
	return nil
}

// UnlinkIdentity implements [store.IdentityStore]. The user table's read
// lock is held with the identities' write lock, so neither the count of
// links nor the password can change between the check and the delete.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.users.mu.RLock()
	defer s.users.mu.RUnlock()
	t := &s.identities
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.byID[id]
	if !ok || c.UserID != userID {
		return fmt.Errorf("memory: unlink identity: %w", store.ErrNotFound)
	}
	keeps := false
	if u, ok := s.users.byID[userID]; ok && u.PasswordHash != "" {
		keeps = true
	}
	for other, o := range t.byID {
		if keeps {
			break
		}
		keeps = other != id && o.UserID == userID
	}
	if !keeps {
		return fmt.Errorf("memory: unlink identity: the user's last way to sign in: %w", store.ErrConflict)
	}
	delete(t.byID, id)
	delete(t.bySubject, [2]string{c.Issuer, c.Subject})
	delete(t.seq, id)
	return nil
}
