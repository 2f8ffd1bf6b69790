package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"log/slog"
	"sync"
	"unicode/utf8"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3, §3.5).
const minRSABits = 2048

// maxKIDLen bounds a configured kid.
const maxKIDLen = 256

// Key is one signing or verification key pinned to one Algorithm and named
// by a kid. It holds an HMAC secret, an asymmetric private key (which can
// sign and verify) or an asymmetric public key (which can only verify).
// A Key is immutable and safe for concurrent use. Printing or logging it
// shows only its kid and algorithm, never key material.
type Key struct {
	kid    string
	alg    Algorithm
	info   algInfo
	secret []byte           // HMAC only
	priv   crypto.Signer    // asymmetric private key, nil when public-only
	pub    crypto.PublicKey // asymmetric public key
	macs   *sync.Pool       // HMAC only: *macState
}

type macState struct {
	h   hash.Hash
	buf []byte // signing input copied here so Write does not allocate
	sum []byte
}

// KID returns the key's id, written into the header of every token it signs.
func (k *Key) KID() string { return k.kid }

// Algorithm returns the algorithm the key is pinned to.
func (k *Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether the key holds private material (an HMAC secret or
// an asymmetric private key).
func (k *Key) CanSign() bool { return k.secret != nil || k.priv != nil }

// Symmetric reports whether the key is an HMAC secret. Symmetric keys never
// appear in a JWK Set or in [KeySet.Public].
func (k *Key) Symmetric() bool { return k.info.fam == famHMAC }

// PublicKey returns the asymmetric public key, or nil for an HMAC key.
func (k *Key) PublicKey() crypto.PublicKey { return k.pub }

// Public returns a verify-only copy of an asymmetric key, or nil for an
// HMAC key (whose secret is needed to verify).
func (k *Key) Public() *Key {
	if k.Symmetric() {
		return nil
	}
	if k.priv == nil {
		return k
	}
	return &Key{kid: k.kid, alg: k.alg, info: k.info, pub: k.pub}
}

// String describes the key without key material. The value receivers make
// a dereferenced Key as safe to print as a *Key.
func (k Key) String() string {
	kind := "public"
	if k.CanSign() {
		kind = "private"
	}
	return fmt.Sprintf("token.Key{kid=%q alg=%s %s}", k.kid, k.alg, kind)
}

// Format makes every fmt verb print [Key.String], so %v, %+v, %#v and %x
// cannot reach the key material.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer: kid and alg only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.kid), slog.String("alg", string(k.alg)))
}

// NewHMACKey returns an HMAC key for HS256, HS384 or HS512. The secret is
// used as its raw bytes (as Node's jsonwebtoken does) and copied. A secret
// shorter than the hash output (32, 48 or 64 bytes) is refused with
// ErrWeakKey (RFC 7518 §3.2). An empty kid is derived from the secret by a
// one-way hash.
func NewHMACKey(alg Algorithm, kid string, secret []byte) (*Key, error) {
	info, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	if info.fam != famHMAC {
		return nil, fmt.Errorf("%w: %s is not an HMAC algorithm", ErrInvalidKey, alg)
	}
	if min := info.hash.Size(); len(secret) < min {
		return nil, fmt.Errorf("%w: %s needs a secret of at least %d bytes, got %d (RFC 7518 §3.2)", ErrWeakKey, alg, min, len(secret))
	}
	k := &Key{alg: alg, info: info, secret: append([]byte(nil), secret...)}
	if kid == "" {
		// A keyed one-way hash of the secret: stable across restarts and
		// nodes sharing the secret, and no easier to attack than the
		// HMAC of any token.
		m := hmac.New(sha256.New, []byte("gatekeep token kid"))
		m.Write([]byte(alg))
		m.Write(k.secret)
		kid = "hs-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
	}
	if err := checkKID(kid); err != nil {
		return nil, err
	}
	k.kid = kid
	h := info.hash.New
	secretCopy := k.secret
	k.macs = &sync.Pool{New: func() any {
		return &macState{h: hmac.New(h, secretCopy)}
	}}
	return k, nil
}

// NewKey returns a key for alg from raw key material:
//   - []byte: an HMAC secret (see [NewHMACKey]);
//   - *rsa.PrivateKey, *rsa.PublicKey: RS* and PS*, at least 2048 bits;
//   - *ecdsa.PrivateKey, *ecdsa.PublicKey: ES256 (P-256), ES384 (P-384),
//     ES512 (P-521);
//   - ed25519.PrivateKey, ed25519.PublicKey: EdDSA.
//
// An empty kid is derived as the RFC 7638 JWK thumbprint (base64url SHA-256)
// of the public key.
func NewKey(alg Algorithm, kid string, key any) (*Key, error) {
	info, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	if b, ok := key.([]byte); ok {
		return NewHMACKey(alg, kid, b)
	}
	k := &Key{alg: alg, info: info}
	switch info.fam {
	case famHMAC:
		return nil, fmt.Errorf("%w: %s needs a []byte secret, got %T", ErrInvalidKey, alg, key)
	case famRSA, famPSS:
		switch v := key.(type) {
		case *rsa.PrivateKey:
			if v == nil {
				return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
			}
			if err := v.Validate(); err != nil {
				return nil, fmt.Errorf("%w: RSA private key does not validate", ErrInvalidKey)
			}
			k.priv, k.pub = v, &v.PublicKey
		case *rsa.PublicKey:
			if v == nil || v.N == nil {
				return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
			}
			k.pub = v
		default:
			return nil, fmt.Errorf("%w: %s needs an *rsa.PrivateKey or *rsa.PublicKey, got %T", ErrInvalidKey, alg, key)
		}
		pub := k.pub.(*rsa.PublicKey)
		if bits := pub.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("%w: %s needs an RSA key of at least %d bits, got %d", ErrWeakKey, alg, minRSABits, bits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("%w: RSA public exponent unusable", ErrInvalidKey)
		}
	case famECDSA:
		var pub *ecdsa.PublicKey
		switch v := key.(type) {
		case *ecdsa.PrivateKey:
			if v == nil {
				return nil, fmt.Errorf("%w: nil ECDSA key", ErrInvalidKey)
			}
			k.priv, pub = v, &v.PublicKey
		case *ecdsa.PublicKey:
			pub = v
		default:
			return nil, fmt.Errorf("%w: %s needs an *ecdsa.PrivateKey or *ecdsa.PublicKey, got %T", ErrInvalidKey, alg, key)
		}
		if pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
			return nil, fmt.Errorf("%w: incomplete ECDSA key", ErrInvalidKey)
		}
		if pub.Curve != info.curve {
			return nil, fmt.Errorf("%w: %s needs curve %s, got %s", ErrInvalidKey, alg, info.curve.Params().Name, pub.Curve.Params().Name)
		}
		if _, err := pub.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: ECDSA public key is not a valid point", ErrInvalidKey)
		}
		k.pub = pub
	case famEdDSA:
		switch v := key.(type) {
		case ed25519.PrivateKey:
			if len(v) != ed25519.PrivateKeySize {
				return nil, fmt.Errorf("%w: Ed25519 private key has wrong size", ErrInvalidKey)
			}
			k.priv, k.pub = v, v.Public()
		case ed25519.PublicKey:
			if len(v) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("%w: Ed25519 public key has wrong size", ErrInvalidKey)
			}
			k.pub = v
		default:
			return nil, fmt.Errorf("%w: EdDSA needs an ed25519.PrivateKey or ed25519.PublicKey, got %T", ErrInvalidKey, key)
		}
	}
	if kid == "" {
		jwk, err := publicJWK(k)
		if err != nil {
			return nil, err
		}
		kid = thumbprint(jwk)
	}
	if err := checkKID(kid); err != nil {
		return nil, err
	}
	k.kid = kid
	return k, nil
}

// ParsePEM returns a key for alg from the first key in pemBytes: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY", "RSA PUBLIC KEY"), SEC1 ("EC
// PRIVATE KEY") or PKIX ("PUBLIC KEY"). "EC PARAMETERS" blocks are skipped;
// encrypted PEM is refused. The key must fit alg, as in [NewKey].
func ParsePEM(alg Algorithm, kid string, pemBytes []byte) (*Key, error) {
	if _, err := lookupAlg(alg); err != nil {
		return nil, err
	}
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM key block found", ErrInvalidKey)
		}
		if _, enc := block.Headers["Proc-Type"]; enc {
			return nil, fmt.Errorf("%w: encrypted PEM is not supported", ErrInvalidKey)
		}
		var key any
		var err error
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, fmt.Errorf("%w: unsupported PEM block %q", ErrInvalidKey, clip(block.Type))
		}
		if err != nil {
			// x509's messages describe structure, not key bytes, but keep
			// ours generic anyway.
			return nil, fmt.Errorf("%w: cannot parse %s block", ErrInvalidKey, block.Type)
		}
		// PKCS#8 and PKIX hand Ed25519 keys back by value, RSA and ECDSA by
		// pointer: both are what NewKey takes.
		return NewKey(alg, kid, key)
	}
}

// GenerateKey returns a fresh private key for alg, for development and
// tests: a random secret of the hash size for HS*, RSA 2048 for RS*/PS*, the
// matching curve for ES*, Ed25519 for EdDSA. An empty kid is derived as in
// [NewKey].
func GenerateKey(alg Algorithm, kid string) (*Key, error) {
	info, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	var key any
	switch info.fam {
	case famHMAC:
		b := make([]byte, info.hash.Size())
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("%w: random source failed", ErrInvalidKey)
		}
		key = b
	case famRSA, famPSS:
		key, err = rsa.GenerateKey(rand.Reader, minRSABits)
	case famECDSA:
		key, err = ecdsa.GenerateKey(info.curve, rand.Reader)
	case famEdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key generation failed", ErrInvalidKey)
	}
	return NewKey(alg, kid, key)
}

func checkKID(kid string) error {
	if len(kid) > maxKIDLen || !utf8.ValidString(kid) {
		return fmt.Errorf("%w: kid longer than %d bytes or not UTF-8", ErrInvalidConfig, maxKIDLen)
	}
	for _, r := range kid {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: kid contains control characters", ErrInvalidConfig)
		}
	}
	return nil
}

// thumbprint is the RFC 7638 JWK thumbprint: base64url SHA-256 of the
// required members in lexical order, no whitespace.
func thumbprint(j JWK) string {
	var v any
	switch j.Kty {
	case "RSA":
		v = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{j.E, j.Kty, j.N}
	case "EC":
		v = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Crv, j.Kty, j.X, j.Y}
	default: // OKP
		v = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{j.Crv, j.Kty, j.X}
	}
	b, _ := json.Marshal(v) // strings only: cannot fail
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
