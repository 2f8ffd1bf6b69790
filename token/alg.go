package token

import (
	"crypto"
	"crypto/elliptic"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm is a JWS algorithm name (RFC 7518 §3.1, RFC 8037). Each Key is
// pinned to exactly one.
type Algorithm string

// The algorithms this package signs and verifies.
const (
	HS256 Algorithm = "HS256" // HMAC SHA-256; secret of at least 32 bytes
	HS384 Algorithm = "HS384" // HMAC SHA-384; secret of at least 48 bytes
	HS512 Algorithm = "HS512" // HMAC SHA-512; secret of at least 64 bytes
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 SHA-256; RSA ≥ 2048 bits
	RS384 Algorithm = "RS384" // RSASSA-PKCS1-v1_5 SHA-384
	RS512 Algorithm = "RS512" // RSASSA-PKCS1-v1_5 SHA-512
	PS256 Algorithm = "PS256" // RSASSA-PSS SHA-256
	PS384 Algorithm = "PS384" // RSASSA-PSS SHA-384
	PS512 Algorithm = "PS512" // RSASSA-PSS SHA-512
	ES256 Algorithm = "ES256" // ECDSA P-256 SHA-256
	ES384 Algorithm = "ES384" // ECDSA P-384 SHA-384
	ES512 Algorithm = "ES512" // ECDSA P-521 SHA-512
	EdDSA Algorithm = "EdDSA" // Ed25519 (RFC 8037)
)

type family int

const (
	famHMAC family = iota + 1
	famRSA
	famPSS
	famECDSA
	famEdDSA
)

type algInfo struct {
	fam    family
	hash   crypto.Hash
	curve  elliptic.Curve // ECDSA only
	method jwt.SigningMethod
}

var algs = map[Algorithm]algInfo{
	HS256: {famHMAC, crypto.SHA256, nil, jwt.SigningMethodHS256},
	HS384: {famHMAC, crypto.SHA384, nil, jwt.SigningMethodHS384},
	HS512: {famHMAC, crypto.SHA512, nil, jwt.SigningMethodHS512},
	RS256: {famRSA, crypto.SHA256, nil, jwt.SigningMethodRS256},
	RS384: {famRSA, crypto.SHA384, nil, jwt.SigningMethodRS384},
	RS512: {famRSA, crypto.SHA512, nil, jwt.SigningMethodRS512},
	PS256: {famPSS, crypto.SHA256, nil, jwt.SigningMethodPS256},
	PS384: {famPSS, crypto.SHA384, nil, jwt.SigningMethodPS384},
	PS512: {famPSS, crypto.SHA512, nil, jwt.SigningMethodPS512},
	ES256: {famECDSA, crypto.SHA256, elliptic.P256(), jwt.SigningMethodES256},
	ES384: {famECDSA, crypto.SHA384, elliptic.P384(), jwt.SigningMethodES384},
	ES512: {famECDSA, crypto.SHA512, elliptic.P521(), jwt.SigningMethodES512},
	EdDSA: {famEdDSA, 0, nil, jwt.SigningMethodEdDSA},
}

// Algorithms lists every algorithm this package supports.
func Algorithms() []Algorithm {
	return []Algorithm{HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}
}

func lookupAlg(alg Algorithm) (algInfo, error) {
	info, ok := algs[alg]
	if !ok {
		return algInfo{}, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidKey, clip(string(alg)))
	}
	return info, nil
}

// clip bounds an attacker-influenced string before it goes into an error
// message.
func clip(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
