package token

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// KeySource finds the verification key a token's kid names. Lookups are
// among configured keys only: a kid is a name, never a path, URL or query.
// Implementations are safe for concurrent use.
type KeySource interface {
	// LookupKey returns the key named kid, or an error wrapping
	// ErrUnknownKey when there is none (ErrUnavailable when a remote
	// source cannot answer).
	LookupKey(ctx context.Context, kid string) (*Key, error)
}

// KeySet holds one active signing key and any number of verify-only keys,
// each named by a distinct kid. Rotation: Add the new key, SetActive it once
// verifiers know it, Remove the old one after the longest token lifetime.
// Safe for concurrent use; lookups take no lock.
type KeySet struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[keySnapshot]
}

type keySnapshot struct {
	keys   map[string]*Key
	active *Key // nil in a verify-only set
}

var _ KeySource = (*KeySet)(nil)

// NewKeySet returns a key set signing with active and verifying with active
// and verifyOnly. active may be nil for a verify-only set (a [Signer] then
// refuses it), but the set may not be empty; an active key must be able to
// sign. Kids must be distinct.
func NewKeySet(active *Key, verifyOnly ...*Key) (*KeySet, error) {
	s := &keySnapshot{keys: make(map[string]*Key, 1+len(verifyOnly))}
	if active != nil {
		if !active.CanSign() {
			return nil, fmt.Errorf("%w: active key %q cannot sign", ErrInvalidKey, active.kid)
		}
		s.keys[active.kid] = active
		s.active = active
	}
	for _, k := range verifyOnly {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrInvalidConfig)
		}
		if _, dup := s.keys[k.kid]; dup {
			return nil, fmt.Errorf("%w: duplicate kid %q", ErrInvalidConfig, k.kid)
		}
		s.keys[k.kid] = k
	}
	if len(s.keys) == 0 {
		return nil, fmt.Errorf("%w: empty key set", ErrInvalidConfig)
	}
	ks := &KeySet{}
	ks.snap.Store(s)
	return ks, nil
}

func (ks *KeySet) clone() *keySnapshot {
	old := ks.snap.Load()
	s := &keySnapshot{keys: make(map[string]*Key, len(old.keys)+1), active: old.active}
	for kid, k := range old.keys {
		s.keys[kid] = k
	}
	return s
}

// Add adds a verify-only key. Its kid must be new.
func (ks *KeySet) Add(k *Key) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrInvalidConfig)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.clone()
	if _, dup := s.keys[k.kid]; dup {
		return fmt.Errorf("%w: duplicate kid %q", ErrInvalidConfig, k.kid)
	}
	s.keys[k.kid] = k
	ks.snap.Store(s)
	return nil
}

// Remove drops the key named kid. The active key cannot be removed:
// SetActive another first.
func (ks *KeySet) Remove(kid string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.clone()
	if _, ok := s.keys[kid]; !ok {
		return fmt.Errorf("%w: no key %q", ErrUnknownKey, clip(kid))
	}
	if s.active != nil && s.active.kid == kid {
		return fmt.Errorf("%w: cannot remove the active key %q", ErrInvalidConfig, kid)
	}
	delete(s.keys, kid)
	ks.snap.Store(s)
	return nil
}

// SetActive makes the key named kid, already in the set and able to sign,
// the one new tokens are signed with. The previous active key stays as a
// verify-only key.
func (ks *KeySet) SetActive(kid string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	s := ks.clone()
	k, ok := s.keys[kid]
	if !ok {
		return fmt.Errorf("%w: no key %q", ErrUnknownKey, clip(kid))
	}
	if !k.CanSign() {
		return fmt.Errorf("%w: key %q cannot sign", ErrInvalidKey, kid)
	}
	s.active = k
	ks.snap.Store(s)
	return nil
}

// Active returns the signing key, or nil in a verify-only set.
func (ks *KeySet) Active() *Key { return ks.snap.Load().active }

// Keys returns every key, sorted by kid.
func (ks *KeySet) Keys() []*Key {
	s := ks.snap.Load()
	out := make([]*Key, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kid < out[j].kid })
	return out
}

// LookupKey implements [KeySource].
func (ks *KeySet) LookupKey(_ context.Context, kid string) (*Key, error) {
	if k, ok := ks.snap.Load().keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// Public returns a verify-only key set with the public halves of the
// asymmetric keys, for a resource server that must not be able to sign.
// HMAC keys are left out (verifying them needs the secret); if nothing
// remains, Public returns nil.
func (ks *KeySet) Public() *KeySet {
	var pubs []*Key
	for _, k := range ks.Keys() {
		if p := k.Public(); p != nil {
			pubs = append(pubs, p)
		}
	}
	if len(pubs) == 0 {
		return nil
	}
	out, err := NewKeySet(nil, pubs...)
	if err != nil {
		return nil // unreachable: kids come from a valid set
	}
	return out
}

// Replace swaps the whole content of the set in one step: active (nil for
// none, after which a [Signer] over the set refuses to sign) and the
// verify-only keys. Lookups see either the old set or the new one, never
// a mix. Kids must be distinct and active must be able to sign; an
// empty set is allowed here (it verifies nothing), unlike in
// [NewKeySet], and it gives a zero KeySet (new(KeySet), unusable until
// then) its first content. It is how a key rotator publishes each reload.
func (ks *KeySet) Replace(active *Key, verifyOnly ...*Key) error {
	s := &keySnapshot{keys: make(map[string]*Key, 1+len(verifyOnly))}
	if active != nil {
		if !active.CanSign() {
			return fmt.Errorf("%w: active key %q cannot sign", ErrInvalidKey, active.kid)
		}
		s.keys[active.kid] = active
		s.active = active
	}
	for _, k := range verifyOnly {
		if k == nil {
			return fmt.Errorf("%w: nil key", ErrInvalidConfig)
		}
		if _, dup := s.keys[k.kid]; dup {
			return fmt.Errorf("%w: duplicate kid %q", ErrInvalidConfig, k.kid)
		}
		s.keys[k.kid] = k
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.snap.Store(s)
	return nil
}
