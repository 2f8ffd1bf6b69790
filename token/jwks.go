package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
)

// JWK is a public JSON Web Key (RFC 7517 §4) as this package writes and
// reads it: public members only.
type JWK struct {
	Kty string `json:"kty"`           // "RSA", "EC" or "OKP"
	Use string `json:"use,omitempty"` // "sig"
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n,omitempty"`   // RSA modulus
	E   string `json:"e,omitempty"`   // RSA exponent
	Crv string `json:"crv,omitempty"` // EC / OKP curve
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKSet is an RFC 7517 §5 JWK Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the public keys of the set as a JWK Set: each with kid, alg
// and use "sig", never a private member. HMAC keys never appear; a set of
// only HMAC keys gives an empty (non-nil) Keys.
func (ks *KeySet) JWKS() JWKSet {
	out := JWKSet{Keys: []JWK{}}
	for _, k := range ks.Keys() {
		if k.Symmetric() {
			continue
		}
		j, err := publicJWK(k)
		if err != nil {
			continue // unreachable for keys built by this package
		}
		j.Use, j.Alg, j.Kid = "sig", string(k.alg), k.kid
		out.Keys = append(out.Keys, j)
	}
	return out
}

// JWKSHandler serves ks.JWKS() as JSON to GET and HEAD, read at each request
// so rotation shows at once, with Cache-Control allowing caches to keep it
// five minutes (publish a new key at least that long before making it
// active).
func JWKSHandler(ks *KeySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"method not allowed"}`))
			return
		}
		b, err := json.Marshal(ks.JWKS())
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"unavailable","error_description":"key set unavailable"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
}

var b64e = base64.RawURLEncoding

func publicJWK(k *Key) (JWK, error) {
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		return JWK{Kty: "RSA", N: b64e.EncodeToString(pub.N.Bytes()),
			E: b64e.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		return JWK{Kty: "EC", Crv: pub.Curve.Params().Name,
			X: b64e.EncodeToString(x), Y: b64e.EncodeToString(y)}, nil
	case ed25519.PublicKey:
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64e.EncodeToString(pub)}, nil
	}
	return JWK{}, fmt.Errorf("%w: no public JWK form", ErrInvalidKey)
}

// Key converts a public JWK to a verify-only [Key]. alg and kid are
// required (the algorithm is pinned from the JWK, never from a token),
// use must be absent or "sig", and symmetric ("oct") keys are refused.
func (j JWK) Key() (*Key, error) {
	if j.Kid == "" || j.Alg == "" {
		return nil, fmt.Errorf("%w: JWK without kid or alg", ErrInvalidKey)
	}
	if j.Use != "" && j.Use != "sig" {
		return nil, fmt.Errorf("%w: JWK use is not sig", ErrInvalidKey)
	}
	alg := Algorithm(j.Alg)
	info, err := lookupAlg(alg)
	if err != nil {
		return nil, err
	}
	dec := func(s string) ([]byte, error) {
		b, err := decodeSeg(nil, s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("%w: JWK member is not base64url", ErrInvalidKey)
		}
		return b, nil
	}
	var pub any
	switch {
	case j.Kty == "RSA" && (info.fam == famRSA || info.fam == famPSS):
		n, err := dec(j.N)
		if err != nil {
			return nil, err
		}
		e, err := dec(j.E)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, fmt.Errorf("%w: RSA exponent too large", ErrInvalidKey)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case j.Kty == "EC" && info.fam == famECDSA:
		if j.Crv != info.curve.Params().Name {
			return nil, fmt.Errorf("%w: JWK curve does not match %s", ErrInvalidKey, alg)
		}
		x, err := dec(j.X)
		if err != nil {
			return nil, err
		}
		y, err := dec(j.Y)
		if err != nil {
			return nil, err
		}
		size := (info.curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("%w: JWK coordinates have the wrong length", ErrInvalidKey)
		}
		pub = &ecdsa.PublicKey{Curve: info.curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	case j.Kty == "OKP" && info.fam == famEdDSA:
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("%w: only Ed25519 is supported", ErrInvalidKey)
		}
		x, err := dec(j.X)
		if err != nil {
			return nil, err
		}
		pub = ed25519.PublicKey(x)
	default:
		return nil, fmt.Errorf("%w: JWK kty %q does not fit %s", ErrInvalidKey, clip(j.Kty), alg)
	}
	return NewKey(alg, j.Kid, pub)
}
