package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatekeep/gatekeep/token"
)

// now is the fixed test clock.
var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return now }

var (
	rawMu   sync.Mutex
	rawKeys = map[token.Algorithm]any{}
)

// rawKey returns raw private key material for alg, generated once per run.
func rawKey(t testing.TB, alg token.Algorithm) any {
	t.Helper()
	rawMu.Lock()
	defer rawMu.Unlock()
	if k, ok := rawKeys[alg]; ok {
		return k
	}
	var k any
	var err error
	switch alg[:2] {
	case "HS":
		b := make([]byte, map[token.Algorithm]int{token.HS256: 32, token.HS384: 48, token.HS512: 64}[alg])
		_, err = rand.Read(b)
		k = b
	case "RS", "PS":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES":
		c := map[token.Algorithm]elliptic.Curve{token.ES256: elliptic.P256(), token.ES384: elliptic.P384(), token.ES512: elliptic.P521()}[alg]
		k, err = ecdsa.GenerateKey(c, rand.Reader)
	default:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	must(t, err)
	rawKeys[alg] = k
	return k
}

func keyFor(t testing.TB, alg token.Algorithm, kid string) *token.Key {
	t.Helper()
	k, err := token.NewKey(alg, kid, rawKey(t, alg))
	must(t, err)
	return k
}

func b64(v any) string {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		b, err = json.Marshal(v)
		if err != nil {
			panic(err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// forge builds a token from any header and payload, signed by alg with the
// raw key material key (golang-jwt's signing methods; nil key: no signature).
func forge(t testing.TB, hdr, payload any, alg string, key any) string {
	t.Helper()
	input := b64(hdr) + "." + b64(payload)
	if key == nil {
		return input + "."
	}
	sig, err := jwt.GetSigningMethod(alg).Sign(input, key)
	must(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// goodClaims is a valid access-token payload at the test clock.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": "gatekeep", "sub": "u1", "aud": "gatekeep",
		"exp": now.Add(15 * time.Minute).Unix(), "iat": now.Unix(),
		"jti": "j1", "sid": "s1", "roles": []string{"user"},
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
