package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// revShards spreads revocations over independently locked maps so that
// concurrent IsRevoked calls on many cores do not all contend for one lock
// word. A power of two.
const revShards = 64

// revShard holds the revocations, valid-after marks and one-time ids whose
// key hashes to it. Times are Unix nanoseconds: a map value of 8 bytes keeps
// a million revocations small.
type revShard struct {
	mu      sync.RWMutex
	revoked map[string]int64 // token or session id -> until
	once    map[string]int64 // one-time id -> until
	marks   map[string]mark  // user id -> valid-after mark
	_       [40]byte         // keep neighbouring shards' locks off one cache line
}

type mark struct {
	before time.Time
	until  int64
}

func (sh *revShard) init() {
	sh.revoked = make(map[string]int64)
	sh.once = make(map[string]int64)
	sh.marks = make(map[string]mark)
}

func (sh *revShard) sweep(now int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for k, until := range sh.revoked {
		if until <= now {
			delete(sh.revoked, k)
		}
	}
	for k, until := range sh.once {
		if until <= now {
			delete(sh.once, k)
		}
	}
	for k, m := range sh.marks {
		if m.until <= now {
			delete(sh.marks, k)
		}
	}
}

// Bounds of the times a Unix-nanosecond int64 holds (years 1678 to 2262).
var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to the int64 range, so that an until in
// the year 3000 means "for ever" instead of wrapping into the past (which
// would silently drop a revocation).
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxNano):
		return math.MaxInt64
	case t.Before(minNano):
		return math.MinInt64
	}
	return t.UnixNano()
}

func (s *Store) shard(key string) *revShard {
	return &s.shards[maphash.String(s.seed, key)&(revShards-1)]
}

// Revoke implements [store.Revoker]. It returns ErrInvalid for an empty id.
// A later until extends the entry; an earlier one does not shorten it.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("memory: revoke: empty id: %w", store.ErrInvalid)
	}
	u := unixNano(until)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.revoked[id]; !ok || old < u {
		sh.revoked[id] = u
	}
	return nil
}

// RevokeUserBefore implements [store.Revoker]. It returns ErrInvalid for an
// empty userID. The mark is kept until the later of the stored and the new
// until.
func (s *Store) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if userID == "" {
		return fmt.Errorf("memory: revoke user before: empty user id: %w", store.ErrInvalid)
	}
	now := s.now().UnixNano()
	m := mark{before: before, until: unixNano(until)}
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.marks[userID]; ok && old.until > now {
		if old.before.After(m.before) {
			m.before = old.before
		}
		m.until = max(m.until, old.until)
	}
	sh.marks[userID] = m
	return nil
}

// IsRevoked implements [store.Revoker]. It is the per-request hot path: it
// takes at most three read locks and allocates nothing. With a cancelled
// context or a closed store it reports revoked together with the error.
func (s *Store) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if err := s.check(ctx); err != nil {
		return true, err
	}
	// The clock is read only when an entry is found: most requests carry
	// a token nothing revoked, and reading it costs more than a lookup.
	if c.TokenID != "" {
		if until, ok := s.revokedUntil(c.TokenID); ok && until > s.now().UnixNano() {
			return true, nil
		}
	}
	if c.SessionID != "" {
		if until, ok := s.revokedUntil(c.SessionID); ok && until > s.now().UnixNano() {
			return true, nil
		}
	}
	if c.UserID != "" {
		sh := s.shard(c.UserID)
		sh.mu.RLock()
		m, ok := sh.marks[c.UserID]
		sh.mu.RUnlock()
		if ok && m.until > s.now().UnixNano() && c.IssuedAt.Before(m.before) {
			return true, nil
		}
	}
	return false, nil
}

func (s *Store) revokedUntil(id string) (int64, bool) {
	sh := s.shard(id)
	sh.mu.RLock()
	until, ok := sh.revoked[id]
	sh.mu.RUnlock()
	return until, ok
}

// UseOnce implements [store.Revoker]. It returns ErrInvalid for an empty id.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if id == "" {
		return false, fmt.Errorf("memory: use once: empty id: %w", store.ErrInvalid)
	}
	now := s.now().UnixNano()
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.once[id]; ok && old > now {
		return false, nil
	}
	// An until already past is remembered for a minute, as every store
	// does, so that of concurrent calls one still wins alone.
	u := unixNano(until)
	if u <= now {
		u = now + int64(time.Minute)
	}
	sh.once[id] = u
	return true, nil
}
