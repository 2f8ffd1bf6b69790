package gatekeeptest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
)

// inTest reports whether this is a test binary; a variable so that the
// package's own tests can see what happens outside one.
var inTest = testing.Testing

// errNotTest is what the kit says outside a test binary.
var errNotTest = errors.New("gatekeeptest: refusing to run outside a test binary (testing.Testing() is false); use auth.NewArgon2id or auth.NewBcrypt in production")

// hashPrefix marks the kit's hashes; the production hashers know no such
// format and refuse it (auth.ErrUnknownHash).
const hashPrefix = "$gatekeeptest$"

// fastHasher is a salted HMAC-SHA256: microseconds, where argon2id takes
// tens of milliseconds, and worthless against offline guessing, which is
// why it lives here, unexported, and works only in a test binary.
type fastHasher struct{}

var _ auth.Hasher = fastHasher{}

var b64 = base64.RawStdEncoding

func (fastHasher) Hash(password string) (string, error) {
	if !inTest() {
		return "", errNotTest
	}
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	return hashPrefix + b64.EncodeToString(salt[:]) + "$" + b64.EncodeToString(mac(salt[:], password)), nil
}

func (fastHasher) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	if !inTest() {
		return false, false, errNotTest
	}
	rest, found := strings.CutPrefix(encoded, hashPrefix)
	saltB64, sumB64, two := strings.Cut(rest, "$")
	if !found || !two {
		return false, false, fmt.Errorf("%w: not a gatekeeptest hash", auth.ErrUnknownHash)
	}
	salt, err1 := b64.DecodeString(saltB64)
	sum, err2 := b64.DecodeString(sumB64)
	if err1 != nil || err2 != nil || len(salt) != 16 || len(sum) != sha256.Size {
		return false, false, fmt.Errorf("%w: malformed gatekeeptest hash", auth.ErrUnknownHash)
	}
	return hmac.Equal(mac(salt, password), sum), false, nil
}

func mac(salt []byte, password string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(password))
	return m.Sum(nil)
}
