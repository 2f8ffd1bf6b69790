package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// sealVersion is the first byte of every sealed key: the format (AES-256-GCM,
// 12-byte random nonce, associated data from sealAD).
const sealVersion = 1

// KEK is a key-encryption key: it seals private signing keys for storage
// (AES-256-GCM) and opens them again. The key id and algorithm are bound
// as associated data, so a sealed key opens only under the kid and
// algorithm it was sealed for: a record whose sealed key was swapped with
// another's, or altered in any byte, is refused. Safe for concurrent use.
// Printing or logging a KEK never shows the key.
type KEK struct {
	aead cipher.AEAD
}

// NewKEK returns a KEK from exactly [KEKSize] bytes of key material (from
// a secrets manager, never a password). The bytes are copied.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("%w: a key-encryption key is %d bytes, got %d", ErrInvalidKey, KEKSize, len(key))
	}
	block, err := aes.NewCipher(append([]byte(nil), key...))
	if err != nil {
		return nil, fmt.Errorf("%w: unusable key-encryption key", ErrInvalidKey)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: unusable key-encryption key", ErrInvalidKey)
	}
	return &KEK{aead: aead}, nil
}

// ParseKEK returns a KEK from its text form: 64 hex digits, or the
// base64 of 32 bytes (standard or URL alphabet, padded or not). Errors
// never repeat the text.
func ParseKEK(s string) (*KEK, error) {
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	switch {
	case len(s) == 2*KEKSize:
		b, err = hex.DecodeString(s)
	case strings.ContainsAny(s, "-_"):
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	default:
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: a key-encryption key is 64 hex digits or base64 of %d bytes", ErrInvalidKey, KEKSize)
	}
	defer clear(b)
	return NewKEK(b)
}

// String redacts the key.
func (*KEK) String() string { return "token.KEK{redacted}" }

// Format makes every fmt verb print [KEK.String].
func (k *KEK) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer: redacted.
func (*KEK) LogValue() slog.Value { return slog.StringValue("redacted") }

func sealAD(kid string, alg Algorithm) []byte {
	return []byte("gatekeep signing key v1\x00" + string(alg) + "\x00" + kid)
}

// Seal returns k's private material encrypted under the KEK, bound to k's
// kid and algorithm: the raw secret for HMAC, PKCS#8 for the others. A
// public-only key gives ErrInvalidKey.
func (e *KEK) Seal(k *Key) ([]byte, error) {
	if k == nil || !k.CanSign() {
		return nil, fmt.Errorf("%w: only a signing key can be sealed", ErrInvalidKey)
	}
	var plain []byte
	if k.Symmetric() {
		plain = append([]byte(nil), k.secret...)
	} else {
		var err error
		if plain, err = x509.MarshalPKCS8PrivateKey(k.priv); err != nil {
			return nil, fmt.Errorf("%w: cannot encode private key %q", ErrInvalidKey, k.kid)
		}
	}
	defer clear(plain)
	out := make([]byte, 1+e.aead.NonceSize(), 1+e.aead.NonceSize()+len(plain)+e.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("%w: random source failed", ErrInvalidKey)
	}
	return e.aead.Seal(out, out[1:], plain, sealAD(k.kid, k.alg)), nil
}

// Open returns the signing key sealed for kid and alg. A wrong KEK, a
// sealed key altered in any byte, or one sealed for another kid or
// algorithm gives an error wrapping ErrSealed, and never a key.
func (e *KEK) Open(kid string, alg Algorithm, sealed []byte) (*Key, error) {
	info, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	ns := e.aead.NonceSize()
	if len(sealed) < 1+ns+e.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: key %q: unknown format", ErrSealed, clip(kid))
	}
	plain, err := e.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealAD(kid, alg))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: wrong key-encryption key, or the record was altered", ErrSealed, clip(kid))
	}
	defer clear(plain)
	if info.fam == famHMAC {
		k, err := NewHMACKey(alg, kid, plain)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrSealed, clip(kid), err)
		}
		return k, nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: undecodable private key", ErrSealed, clip(kid))
	}
	if ed, ok := priv.(ed25519.PrivateKey); ok {
		priv = ed
	}
	k, err := NewKey(alg, kid, priv)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %w", ErrSealed, clip(kid), err)
	}
	return k, nil
}
