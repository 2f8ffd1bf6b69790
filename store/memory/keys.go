package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.KeyStore = (*Store)(nil)

// keyRing holds the signing keys behind one lock: changes are rare and
// every one of them is a compare-and-swap on the whole ring.
type keyRing struct {
	mu      sync.Mutex
	version int64
	keys    map[string]*store.SigningKey
}

func copyKey(k *store.SigningKey) *store.SigningKey {
	c := *k
	c.Sealed = append([]byte(nil), k.Sealed...)
	return &c
}

// SigningKeys implements [store.KeyStore].
func (s *Store) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("memory: signing keys: %w", err)
	}
	r := &s.keyRing
	r.mu.Lock()
	defer r.mu.Unlock()
	out := &store.KeyRing{Version: r.version, Keys: make([]*store.SigningKey, 0, len(r.keys))}
	for _, k := range r.keys {
		out.Keys = append(out.Keys, copyKey(k))
	}
	slices.SortFunc(out.Keys, func(a, b *store.SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// change runs f on the ring when it is at version, then moves the version.
func (s *Store) changeKeys(ctx context.Context, op string, version int64, f func(r *keyRing) error) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, fmt.Errorf("memory: %s: %w", op, err)
	}
	r := &s.keyRing
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.version != version {
		return 0, fmt.Errorf("memory: %s: %w: key ring is at version %d, not %d", op, store.ErrConflict, r.version, version)
	}
	if r.keys == nil {
		r.keys = make(map[string]*store.SigningKey)
	}
	if err := f(r); err != nil {
		return 0, fmt.Errorf("memory: %s: %w", op, err)
	}
	r.version++
	return r.version, nil
}

func (r *keyRing) active() *store.SigningKey {
	for _, k := range r.keys {
		if k.State == store.KeyActive {
			return k
		}
	}
	return nil
}

// CreateSigningKey implements [store.KeyStore].
func (s *Store) CreateSigningKey(ctx context.Context, version int64, k *store.SigningKey) (int64, error) {
	const op = "create signing key"
	if err := store.CheckNewSigningKey(k); err != nil {
		return 0, fmt.Errorf("memory: %s: %w", op, err)
	}
	return s.changeKeys(ctx, op, version, func(r *keyRing) error {
		if _, dup := r.keys[k.ID]; dup {
			return fmt.Errorf("%w: key id taken", store.ErrConflict)
		}
		if k.State == store.KeyActive && r.active() != nil {
			return fmt.Errorf("%w: an active key exists", store.ErrConflict)
		}
		c := copyKey(k)
		if c.State == store.KeyNext {
			c.ActivatedAt = time.Time{}
		}
		c.RetireAt = time.Time{}
		r.keys[k.ID] = c
		return nil
	})
}

// ActivateSigningKey implements [store.KeyStore].
func (s *Store) ActivateSigningKey(ctx context.Context, version int64, id string, at, retireAt time.Time) (int64, error) {
	const op = "activate signing key"
	if at.IsZero() || retireAt.IsZero() {
		return 0, fmt.Errorf("memory: %s: %w: zero time", op, store.ErrInvalid)
	}
	return s.changeKeys(ctx, op, version, func(r *keyRing) error {
		k, ok := r.keys[id]
		if !ok {
			return store.ErrNotFound
		}
		if k.State != store.KeyNext {
			return fmt.Errorf("%w: key is %s, not next", store.ErrConflict, k.State)
		}
		if old := r.active(); old != nil {
			old.State, old.RetireAt = store.KeyRetiring, retireAt
		}
		k.State, k.ActivatedAt = store.KeyActive, at
		return nil
	})
}

// DeleteSigningKey implements [store.KeyStore].
func (s *Store) DeleteSigningKey(ctx context.Context, version int64, id string) (int64, error) {
	return s.changeKeys(ctx, "delete signing key", version, func(r *keyRing) error {
		k, ok := r.keys[id]
		if !ok {
			return store.ErrNotFound
		}
		if k.State == store.KeyActive {
			return fmt.Errorf("%w: the active key cannot be deleted", store.ErrConflict)
		}
		delete(r.keys, id)
		return nil
	})
}
