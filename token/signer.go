package token

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// JWTSigner signs compact JWS tokens with the active key of a [KeySet].
// Safe for concurrent use; key rotation on the set takes effect at once.
type JWTSigner struct {
	ks  *KeySet
	cfg config
}

var _ Signer = (*JWTSigner)(nil)

// NewSigner returns a Signer over ks, which must have an active key. Options:
// [WithIssuer], [WithAudience] (written when claims leave them empty) and
// [WithClock] (for iat). Verification options are accepted and ignored, so
// one option list can build both.
func NewSigner(ks *KeySet, opts ...Option) (*JWTSigner, error) {
	if ks == nil {
		return nil, fmt.Errorf("%w: nil key set", ErrInvalidConfig)
	}
	if ks.Active() == nil {
		return nil, fmt.Errorf("%w: key set has no active signing key", ErrInvalidKey)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &JWTSigner{ks: ks, cfg: cfg}, nil
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

func checkType(typ Type) error {
	if typ == "" || len(typ) > 64 {
		return fmt.Errorf("%w: empty or overlong token type", ErrWrongType)
	}
	for i := 0; i < len(typ); i++ {
		if c := typ[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return fmt.Errorf("%w: token type has invalid characters", ErrWrongType)
		}
	}
	return nil
}

// Sign implements [Signer]. claims.ExpiresAt is required. IssuedAt (when
// zero) and ID (when empty) are set on claims before signing; Issuer and
// Audience, when empty, are taken from the signer's options in the token
// only. Errors wrap ErrInvalidClaims, ErrWrongType or ErrInvalidKey.
func (s *JWTSigner) Sign(typ Type, claims *Claims) (string, error) {
	if err := checkType(typ); err != nil {
		return "", err
	}
	if claims == nil {
		return "", fmt.Errorf("%w: nil claims", ErrInvalidClaims)
	}
	if claims.ExpiresAt.IsZero() {
		return "", fmt.Errorf("%w: exp is required", ErrInvalidClaims)
	}
	k := s.ks.Active()
	if k == nil || !k.CanSign() {
		return "", fmt.Errorf("%w: no active signing key", ErrInvalidKey)
	}
	if claims.IssuedAt.IsZero() {
		claims.IssuedAt = s.cfg.clock().Truncate(1e9)
	}
	if claims.ID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("%w: random source failed", ErrInvalidClaims)
		}
		claims.ID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	payload, err := marshalClaims(claims, s.cfg.issuer, s.cfg.audience)
	if err != nil {
		return "", err
	}
	hdr, err := encodeHeader(k.alg, k.kid, typ)
	if err != nil {
		return "", fmt.Errorf("%w: cannot encode header", ErrInvalidKey)
	}
	enc := base64.RawURLEncoding
	var sb strings.Builder
	sb.Grow(enc.EncodedLen(len(hdr)) + enc.EncodedLen(len(payload)) + 2 + 700)
	sb.WriteString(enc.EncodeToString(hdr))
	sb.WriteByte('.')
	sb.WriteString(enc.EncodeToString(payload))
	input := sb.String()
	sig, err := k.sign(input)
	if err != nil {
		return "", err
	}
	sb.WriteByte('.')
	sb.WriteString(enc.EncodeToString(sig))
	return sb.String(), nil
}

func (k *Key) sign(input string) ([]byte, error) {
	if k.info.fam == famHMAC {
		m := k.macs.Get().(*macState)
		sig := append([]byte(nil), m.compute(input)...)
		k.macs.Put(m)
		return sig, nil
	}
	if k.priv == nil {
		return nil, fmt.Errorf("%w: key %q is public-only", ErrInvalidKey, k.kid)
	}
	var key any = k.priv
	sig, err := k.info.method.Sign(input, key)
	if err != nil {
		return nil, fmt.Errorf("%w: signing failed", ErrInvalidKey)
	}
	return sig, nil
}

// compute returns the MAC of input in m.sum, valid until m is reused.
func (m *macState) compute(input string) []byte {
	m.buf = append(m.buf[:0], input...)
	m.h.Reset()
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	if cap(m.buf) > 64<<10 {
		m.buf = nil // do not pin huge buffers in the pool
	}
	return m.sum
}
