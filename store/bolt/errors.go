package bolt

import (
	"errors"
	"fmt"

	"github.com/gatekeep/gatekeep/store"
)

var (
	// ErrLocked is returned by [Open], together with
	// [store.ErrUnavailable], when another process holds the file's lock
	// for longer than the open timeout.
	ErrLocked = errors.New("bolt: database file is locked by another process")
	// ErrClosed is returned, together with [store.ErrUnavailable], by
	// every method of a [Store] after Close.
	ErrClosed = errors.New("bolt: store is closed")
	// ErrCorrupt is returned, together with [store.ErrUnavailable], when a
	// record in the file cannot be decoded or the file itself is damaged
	// (truncated, or pages bbolt cannot read): [Open] refuses such a file,
	// and a call that meets damage later fails with it instead of
	// crashing the process.
	ErrCorrupt = errors.New("bolt: corrupt record")
	// ErrInvalidOption is returned by [New] and [Open] for an option out
	// of range.
	ErrInvalidOption = errors.New("bolt: invalid option")
)

var errClosed = fmt.Errorf("%w: %w", ErrClosed, store.ErrUnavailable)
