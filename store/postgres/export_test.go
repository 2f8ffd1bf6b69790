package postgres

import "github.com/gatekeep/gatekeep/store"

// Test-only views of the local view's state.

// Fallbacks counts IsRevoked calls that asked the database.
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

// ListenerPID is the backend process id of the view's listening
// connection (0 before the first).
func (s *Store) ListenerPID() uint32 {
	if s.view == nil {
		return 0
	}
	return s.view.pid.Load()
}

// DefaultPingIntervalForTest is the default ping interval.
var DefaultPingIntervalForTest = defaultConfig().pingInterval
