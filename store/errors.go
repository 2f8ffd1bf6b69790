package store

import "errors"

// Sentinel errors. Stores wrap them (fmt.Errorf("...: %w", ErrNotFound)) and
// callers match them with errors.Is.
var (
	// ErrNotFound means the record is missing or expired.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule or a compare-and-swap was lost:
	// a taken username or ID, a session already rotated.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the backend cannot answer (down, timed out,
	// closed). Callers fail closed on it.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrInvalid means the input cannot be stored (an empty ID, a username
	// that PRECIS rejects).
	ErrInvalid = errors.New("store: invalid input")
)
