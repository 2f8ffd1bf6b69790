package rotation

import "errors"

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
)
