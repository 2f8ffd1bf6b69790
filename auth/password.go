package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Password length limits, in bytes. Passwords are used whole: never
// truncated, never normalised.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
	// bcryptMaxLen is the longest input bcrypt reads; it ignores the rest,
	// so longer passwords are refused rather than silently cut.
	bcryptMaxLen = 72
)

// Hasher hashes and verifies passwords. Implementations are safe for
// concurrent use.
//
// The two hashers of this package, [Argon2id] and [Bcrypt], each verify both
// formats, so switching from one to the other keeps every stored password
// working; the next successful login replaces the old hash (needsRehash).
type Hasher interface {
	// Hash returns an encoded hash of password, salted at random. It
	// returns an error wrapping ErrPasswordTooLong for a password the
	// algorithm cannot use whole.
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded and, when it does,
	// whether encoded should be replaced by a fresh Hash (it is of another
	// kind, or has other parameters, than this hasher's). A wrong password
	// is ok == false with a nil error; err (wrapping ErrUnknownHash) is for
	// an encoded hash that cannot be read.
	Verify(password, encoded string) (ok, needsRehash bool, err error)
}

// Argon2idParams are the parameters of an [Argon2id] hasher. A zero field
// takes the default, which is OWASP's recommendation: Memory 19456 KiB,
// Time 2, Threads 1, SaltLen 16, KeyLen 32.
type Argon2idParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Limits on argon2id parameters, for configured hashers and for stored
// hashes alike, so that a stored hash cannot make a login exhaust memory or
// time: at most 256 MiB, and memory × passes at most 1 GiB (a second or
// two), whatever a stored or imported hash says.
const (
	argonMinMemory     = 7168      // KiB: OWASP's lowest recommended setting (with t=5)
	argonMinMemoryTime = 7168 * 5  // memory × passes of OWASP's weakest recommended setting
	argonMaxMemory     = 256 << 10 // KiB (256 MiB)
	argonMaxMemoryTime = argonMaxMemory * 4
	argonMaxTime       = 32
	argonMaxThreads    = 16
	argonMinSalt       = 16
	argonMinKey        = 16
	argonMaxSaltKey    = 128
)

func (p Argon2idParams) withDefaults() Argon2idParams {
	if p.Memory == 0 {
		p.Memory = 19456
	}
	if p.Time == 0 {
		p.Time = 2
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	return p
}

// Argon2id is the default [Hasher]: argon2id (RFC 9106) encoded as a PHC
// string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` with unpadded
// standard base64. It also verifies bcrypt hashes (needsRehash true).
type Argon2id struct {
	p Argon2idParams
}

var _ Hasher = (*Argon2id)(nil)

// NewArgon2id returns an argon2id hasher. Parameters weaker than OWASP's
// recommendations (memory under 7 MiB, memory × passes under 35 MiB, salt
// or key under 16 bytes) or absurdly large ones are an error wrapping
// ErrInvalidConfig.
func NewArgon2id(p Argon2idParams) (*Argon2id, error) {
	p = p.withDefaults()
	if p.Memory < argonMinMemory || uint64(p.Memory)*uint64(p.Time) < argonMinMemoryTime {
		return nil, fmt.Errorf("%w: argon2id memory × time below OWASP's weakest setting (7168 KiB × 5)", ErrInvalidConfig)
	}
	if p.SaltLen < argonMinSalt || p.KeyLen < argonMinKey {
		return nil, fmt.Errorf("%w: argon2id salt and key must have at least 16 bytes", ErrInvalidConfig)
	}
	if !argonWithinLimits(p) {
		return nil, fmt.Errorf("%w: argon2id parameters too large", ErrInvalidConfig)
	}
	return &Argon2id{p: p}, nil
}

func argonWithinLimits(p Argon2idParams) bool {
	return p.Memory <= argonMaxMemory && uint64(p.Memory)*uint64(p.Time) <= argonMaxMemoryTime &&
		p.Time >= 1 && p.Time <= argonMaxTime &&
		p.Threads >= 1 && p.Threads <= argonMaxThreads && p.Memory >= 8*uint32(p.Threads) &&
		p.SaltLen <= argonMaxSaltKey && p.KeyLen <= argonMaxSaltKey
}

// Params returns the hasher's parameters.
func (h *Argon2id) Params() Argon2idParams { return h.p }

var b64 = base64.RawStdEncoding.Strict()

// Hash implements [Hasher].
func (h *Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+).
	key := argon2.IDKey([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify implements [Hasher].
func (h *Argon2id) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	switch {
	case isArgon2id(encoded):
		p, ok, err := verifyArgon2id(password, encoded)
		return ok, ok && p != h.p, err
	case isBcrypt(encoded):
		ok, _, err := verifyBcrypt(password, encoded)
		return ok, ok, err
	}
	return false, false, ErrUnknownHash
}

// Bcrypt is a [Hasher] using bcrypt, for compatibility with hashes made by
// other stacks (Node's bcrypt, for one). Passwords over 72 bytes are
// refused, never truncated. It also verifies argon2id hashes
// (needsRehash true).
type Bcrypt struct {
	cost int
}

var _ Hasher = (*Bcrypt)(nil)

// Bcrypt cost limits: at least 10 for new hashes (12 by default); stored
// hashes of cost 4 to 9 still verify and are rehashed.
const (
	bcryptDefaultCost = 12
	bcryptMinCost     = 10
	bcryptMaxCost     = 16
)

// NewBcrypt returns a bcrypt hasher of the given cost: 0 means 12; below
// 10 or above 16 is an error wrapping ErrInvalidConfig.
func NewBcrypt(cost int) (*Bcrypt, error) {
	if cost == 0 {
		cost = bcryptDefaultCost
	}
	if cost < bcryptMinCost || cost > bcryptMaxCost {
		return nil, fmt.Errorf("%w: bcrypt cost must be between %d and %d", ErrInvalidConfig, bcryptMinCost, bcryptMaxCost)
	}
	return &Bcrypt{cost: cost}, nil
}

// Cost returns the hasher's cost.
func (h *Bcrypt) Cost() int { return h.cost }

// Hash implements [Hasher]. Passwords over 72 bytes give an error wrapping
// ErrPasswordTooLong.
func (h *Bcrypt) Hash(password string) (string, error) {
	if len(password) > bcryptMaxLen {
		return "", fmt.Errorf("%w: bcrypt uses at most %d bytes", ErrPasswordTooLong, bcryptMaxLen)
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		return "", fmt.Errorf("%w: bcrypt: %w", ErrInvalidConfig, err)
	}
	return string(b), nil
}

// Verify implements [Hasher].
func (h *Bcrypt) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	switch {
	case isBcrypt(encoded):
		ok, cost, err := verifyBcrypt(password, encoded)
		return ok, ok && cost != h.cost, err
	case isArgon2id(encoded):
		_, ok, err := verifyArgon2id(password, encoded)
		return ok, ok, err
	}
	return false, false, ErrUnknownHash
}

func isArgon2id(s string) bool { return strings.HasPrefix(s, "$argon2id$") }

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

var errArgonFormat = fmt.Errorf("%w: malformed argon2id PHC string", ErrUnknownHash)

// parseArgon2id reads `$argon2id$v=19$m=M,t=T,p=P$salt$key` strictly: the
// canonical order and spelling, unpadded standard base64, parameters within
// the limits.
func parseArgon2id(encoded string) (p Argon2idParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errArgonFormat
	}
	var m, t, th uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, errArgonFormat
	}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return p, nil, nil, errArgonFormat
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, errArgonFormat
		}
		switch i {
		case 0:
			m = n
		case 1:
			t = n
		case 2:
			th = n
		}
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || th > argonMaxThreads {
		return p, nil, nil, errArgonFormat
	}
	p = Argon2idParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(th),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if !argonWithinLimits(p) || len(salt) < 8 || len(key) < argonMinKey {
		return p, nil, nil, fmt.Errorf("%w: argon2id parameters out of range", ErrUnknownHash)
	}
	return p, salt, key, nil
}

func verifyArgon2id(password, encoded string) (Argon2idParams, bool, error) {
	p, salt, key, err := parseArgon2id(encoded)
	if err != nil {
		return p, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return p, subtle.ConstantTimeCompare(got, key) == 1, nil
}

// verifyBcrypt compares password with a bcrypt hash. A password over 72
// bytes never matches (bcrypt would read only its first 72), but the
// comparison still runs so that it costs the same time.
func verifyBcrypt(password, encoded string) (ok bool, cost int, err error) {
	cost, err = bcrypt.Cost([]byte(encoded))
	if err != nil || cost > bcryptMaxCost {
		return false, 0, fmt.Errorf("%w: malformed bcrypt hash or cost out of range", ErrUnknownHash)
	}
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil:
		return len(password) <= bcryptMaxLen, cost, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, cost, nil
	}
	return false, cost, fmt.Errorf("%w: malformed bcrypt hash", ErrUnknownHash)
}

// checkNewPassword applies the password policy to a password being set:
// its length, and not one of the most common passwords.
func checkNewPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return ErrPasswordTooShort
	case len(pw) > MaxPasswordLen:
		return ErrPasswordTooLong
	case isCommonPassword(pw):
		return ErrPasswordCommon
	}
	return nil
}

// acquireHash takes one of the password-hashing slots, waiting at most
// the configured time, and only when fewer than the queue bound are
// already waiting.
func (a *Authenticator) acquireHash(ctx context.Context) (release func(), err error) {
	release = func() { <-a.hashSlots }
	select {
	case a.hashSlots <- struct{}{}:
		return release, nil
	default:
	}
	if a.hashWaiting.Add(1) > int64(a.cfg.hashQueue) {
		a.hashWaiting.Add(-1)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ErrHasherBusy)
	}
	defer a.hashWaiting.Add(-1)
	t := time.NewTimer(a.cfg.hashWait)
	defer t.Stop()
	select {
	case a.hashSlots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ErrHasherBusy)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// hashPassword hashes within a slot.
func (a *Authenticator) hashPassword(ctx context.Context, pw string) (string, error) {
	release, err := a.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return a.cfg.hasher.Hash(pw)
}

// verifyPassword verifies within a slot.
func (a *Authenticator) verifyPassword(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	release, err := a.acquireHash(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	return a.cfg.hasher.Verify(pw, encoded)
}
