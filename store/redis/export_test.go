package redis

import (
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

// Test-only views of the local view's state.

// Fallbacks counts IsRevoked calls that asked Redis.
func (s *Store) Fallbacks() int64 { return s.fallbacks.Load() }

// ViewTrusted reports whether IsRevoked would answer from the view now.
func (s *Store) ViewTrusted() bool {
	if s.view == nil {
		return false
	}
	_, ok := s.view.check(store.Check{}) // matches no entry
	return ok
}

// ViewSyncs counts completed rebuilds of the view.
func (s *Store) ViewSyncs() int64 {
	if s.view == nil {
		return 0
	}
	return s.view.syncs.Load()
}

// ViewSize is the number of entries the view holds.
func (s *Store) ViewSize() int {
	if s.view == nil {
		return 0
	}
	s.view.mu.RLock()
	defer s.view.mu.RUnlock()
	return len(s.view.ids) + len(s.view.users)
}

// Sweep drops expired entries now.
func (s *Store) Sweep() { s.view.sweep() }

// SentinelOptions parses a redis+sentinel:// or rediss+sentinel:// URL as
// Open does.
func SentinelOptions(rawURL string) (*goredis.FailoverOptions, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	return parseSentinelURL(scheme, rest)
}
