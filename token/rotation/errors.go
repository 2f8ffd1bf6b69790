package rotation

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrInvalidConfig means [New] was given a bad argument or option.
	ErrInvalidConfig = errors.New("rotation: invalid configuration")
	// ErrNoSigningKey means the ring has no active key this instance can
	// open (a wrong key-encryption key, an altered record), so it will not
	// sign.
	ErrNoSigningKey = errors.New("rotation: no usable signing key")
	// ErrUnopenable means a key of the ring does not open with this
	// instance's key-encryption key; the instance then writes nothing.
	ErrUnopenable = errors.New("rotation: a key of the ring does not open")
	// ErrTooEarly means RotateNow found the next key published for less
	// than the pre-publication time: activating it now could sign tokens
	// relying parties cannot verify yet. TooEarlyError says until when.
	ErrTooEarly = errors.New("rotation: the next key is not published long enough")
)

// TooEarlyError is RotateNow's refusal to activate a next key before its
// pre-publication has passed. It matches ErrTooEarly.
type TooEarlyError struct {
	Kid string
	// At is when the key may be activated.
	At time.Time
}

// Error implements error.
func (e *TooEarlyError) Error() string {
	return fmt.Sprintf("%v: key %s may be activated from %s", ErrTooEarly, e.Kid, e.At.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrTooEarly.
func (e *TooEarlyError) Is(target error) bool { return target == ErrTooEarly }
