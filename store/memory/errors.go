package memory

import (
	"errors"
	"fmt"

	"github.com/gatekeep/gatekeep/store"
)

// ErrClosed is returned, together with [store.ErrUnavailable], by every
// method of a [Store] after Close.
var ErrClosed = errors.New("memory: store is closed")

// errClosed is built once so the hot path does not allocate it.
var errClosed = fmt.Errorf("%w: %w", ErrClosed, store.ErrUnavailable)
