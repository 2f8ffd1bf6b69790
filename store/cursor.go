package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// EncodeCursor returns the opaque ListUsers cursor that resumes after the
// user lastID: base64url of the ID followed by its CRC-32, so that a value
// the store did not issue (typed by hand, cut short) is refused by
// [DecodeCursor] instead of silently starting somewhere. Every store uses
// it, so a cursor means the same on memory, bbolt and Redis.
func EncodeCursor(lastID string) string {
	b := make([]byte, len(lastID)+4)
	copy(b, lastID)
	binary.BigEndian.PutUint32(b[len(lastID):], crc32.ChecksumIEEE([]byte(lastID)))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the user ID a cursor of [EncodeCursor] resumes
// after, or an error wrapping ErrInvalid. The checksum detects mistakes,
// not forgery: a cursor only positions a listing an administrator may read
// whole anyway.
func DecodeCursor(cursor string) (string, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(b) < 5 {
		return "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	id := b[:len(b)-4]
	if binary.BigEndian.Uint32(b[len(id):]) != crc32.ChecksumIEEE(id) {
		return "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return string(id), nil
}
