package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"golang.org/x/text/secure/precis"
)

// CanonicalUsername returns the canonical form of a username under the PRECIS
// UsernameCaseMapped profile (RFC 8265): width-mapped, case-folded and
// NFC-normalised, so "Admin", "ADMIN" and fullwidth "ａｄｍｉｎ" are all
// "admin". It is idempotent. Usernames PRECIS rejects (empty, spaces,
// control characters, ...) give an error wrapping ErrInvalid.
func CanonicalUsername(s string) (string, error) {
	c, err := precis.UsernameCaseMapped.String(s)
	if err != nil || c == "" {
		return "", fmt.Errorf("%w: username is not allowed by PRECIS UsernameCaseMapped", ErrInvalid)
	}
	return c, nil
}

// NewID returns a random identifier with 128 bits of entropy, as 32 hex
// characters.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}
