package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

type hdr = map[string]any

func TestSignVerifyRoundTripEveryAlgorithm(t *testing.T) {
	for _, alg := range token.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := keyFor(t, alg, "")
			if k.KID() == "" {
				t.Fatal("derived kid is empty")
			}
			ks, err := token.NewKeySet(k)
			must(t, err)
			s, err := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
			must(t, err)
			in := &token.Claims{Subject: "u1", ExpiresAt: now.Add(time.Hour), SessionID: "s1", Roles: []string{"user", "admin"}}
			tok, err := s.Sign(token.Access, in)
			must(t, err)
			if in.ID == "" || !in.IssuedAt.Equal(now) {
				t.Fatalf("Sign did not set jti/iat: %q %v", in.ID, in.IssuedAt)
			}
			src := token.KeySource(ks)
			if !k.Symmetric() {
				src = ks.Public() // a resource server holds public keys only
			}
			v, err := token.NewVerifier(src, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
			must(t, err)
			got, err := v.Verify(context.Background(), token.Access, tok)
			must(t, err)
			if got.Subject != "u1" || got.Issuer != "gatekeep" || len(got.Audience) != 1 || got.Audience[0] != "gatekeep" ||
				got.SessionID != "s1" || len(got.Roles) != 2 || got.ID != in.ID ||
				!got.ExpiresAt.Equal(now.Add(time.Hour)) || !got.IssuedAt.Equal(now) {
				t.Fatalf("claims differ: %+v", got)
			}
			// Explicit typing: the same signature as a refresh token is refused.
			if _, err := v.Verify(context.Background(), token.Refresh, tok); !errors.Is(err, token.ErrWrongType) {
				t.Fatalf("access token accepted as refresh: %v", err)
			}
		})
	}
}

// verifyRow is one verification rule: tok presented as typ to a verifier
// over the key set of verifyRules, with issuer and audience "gatekeep" and
// the test clock.
type verifyRow struct {
	name string
	tok  string
	typ  token.Type
	want error // nil: accepted
}

// verifyRules is the attack table, shared by TestVerifyRules and the
// differential fuzz target.
func verifyRules(t testing.TB) (*token.KeySet, []verifyRow) {
	hsKey := rawKey(t, token.HS256)
	hs := keyFor(t, token.HS256, "hs")
	rs := keyFor(t, token.RS256, "rs")
	es := keyFor(t, token.ES256, "es")
	ks, err := token.NewKeySet(hs, rs.Public(), es.Public())
	must(t, err)

	rsPub := rawKey(t, token.RS256).(*rsa.PrivateKey).Public()
	der, err := x509.MarshalPKIXPublicKey(rsPub)
	must(t, err)
	rsPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	otherHS := make([]byte, 32) // a foreign key: not ours
	good := goodClaims()
	hsH := hdr{"alg": "HS256", "typ": "at+jwt", "kid": "hs"}
	with2 := func(h hdr, kv ...any) hdr { return hdr(with(map[string]any(h), kv...)) }
	valid := forge(t, hsH, good, "HS256", hsKey)
	parts := strings.Split(valid, ".")

	return ks, []verifyRow{
		{"valid HS256", valid, token.Access, nil},
		{"valid RS256", forge(t, hdr{"alg": "RS256", "typ": "at+jwt", "kid": "rs"}, good, "RS256", rawKey(t, token.RS256)), token.Access, nil},
		{"valid ES256", forge(t, hdr{"alg": "ES256", "typ": "at+jwt", "kid": "es"}, good, "ES256", rawKey(t, token.ES256)), token.Access, nil},
		{"typ with application/ prefix, any case (RFC 7515 §4.1.9)", forge(t, with2(hsH, "typ", "application/AT+JWT"), good, "HS256", hsKey), token.Access, nil},
		{"aud as list containing ours", forge(t, hsH, with(good, "aud", []string{"x", "gatekeep"}), "HS256", hsKey), token.Access, nil},
		{"expired within leeway", forge(t, hsH, with(good, "exp", now.Add(-29*time.Second).Unix()), "HS256", hsKey), token.Access, nil},
		{"jku/x5u/jwk/x5c present but never followed", forge(t, with2(hsH, "jku", "https://evil/jwks", "x5u", "https://evil/x5", "jwk", map[string]any{"kty": "oct"}, "x5c", []string{"MIIB"}), good, "HS256", hsKey), token.Access, nil},

		// attack: alg none, four casings, no signature
		{"alg none", forge(t, with2(hsH, "alg", "none"), good, "", nil), token.Access, token.ErrAlgorithm},
		{"alg None", forge(t, with2(hsH, "alg", "None"), good, "", nil), token.Access, token.ErrAlgorithm},
		{"alg NONE", forge(t, with2(hsH, "alg", "NONE"), good, "", nil), token.Access, token.ErrAlgorithm},
		{"alg nOnE", forge(t, with2(hsH, "alg", "nOnE"), good, "", nil), token.Access, token.ErrAlgorithm},
		// attack: alg none with the original signature kept
		{"alg none, signature kept", b64(with2(hsH, "alg", "none")) + "." + parts[1] + "." + parts[2], token.Access, token.ErrAlgorithm},
		// attack: same-family swap, HS384 against an HS256 key
		{"same-family swap", forge(t, with2(hsH, "alg", "HS384"), good, "HS384", append(hsKey.([]byte), hsKey.([]byte)[:16]...)), token.Access, token.ErrAlgorithm},
		// attack: algorithm confusion, HMAC keyed with the RSA public key PEM
		{"HS256 with RSA public key as secret", forge(t, hdr{"alg": "HS256", "typ": "at+jwt", "kid": "rs"}, good, "HS256", rsPEM), token.Access, token.ErrAlgorithm},
		// attack: algorithm confusion, HMAC keyed with the RSA public DER
		{"HS256 with RSA public DER as secret", forge(t, hdr{"alg": "HS256", "typ": "at+jwt", "kid": "rs"}, good, "HS256", der), token.Access, token.ErrAlgorithm},
		// attack: RS256 token presented under the ES256 key's kid
		{"cross-family swap RS256 for ES key", forge(t, hdr{"alg": "RS256", "typ": "at+jwt", "kid": "es"}, good, "RS256", rawKey(t, token.RS256)), token.Access, token.ErrAlgorithm},
		// attack: stripped signature
		{"stripped signature", parts[0] + "." + parts[1] + ".", token.Access, token.ErrSignature},
		// attack: foreign signature (another key, our kid)
		{"foreign signature", forge(t, hsH, good, "HS256", otherHS), token.Access, token.ErrSignature},
		// attack: payload changed after signing
		{"tampered payload", parts[0] + "." + b64(with(good, "roles", []string{"admin"})) + "." + parts[2], token.Access, token.ErrSignature},
		// attack: truncated signature
		{"truncated signature", valid[:len(valid)-3], token.Access, token.ErrSignature},
		// attack: ECDSA r=s=0 ("psychic signatures", CVE-2022-21449)
		{"ECDSA r=s=0", b64(hdr{"alg": "ES256", "typ": "at+jwt", "kid": "es"}) + "." + b64(good) + "." + b64(make([]byte, 64)), token.Access, token.ErrSignature},
		// attack: jwk header carrying the attacker's key, signed with it
		{"embedded jwk not trusted", forge(t, with2(hsH, "jwk", map[string]any{"kty": "oct", "k": b64(otherHS)}), good, "HS256", otherHS), token.Access, token.ErrSignature},
		// shape: two segments
		{"h.p", parts[0] + "." + parts[1], token.Access, token.ErrMalformed},
		// shape: four segments
		{"4 segments", valid + ".x", token.Access, token.ErrMalformed},
		// shape: JWE compact serialisation (5 segments)
		{"JWE shape", b64(hdr{"alg": "dir", "enc": "A256GCM", "kid": "hs"}) + "..iv.ct.tag", token.Access, token.ErrMalformed},
		{"empty", "", token.Access, token.ErrMalformed},
		{"empty header", "." + parts[1] + "." + parts[2], token.Access, token.ErrMalformed},
		// DoS: 900 000 dots is over 8 KiB, rejected before decoding
		{"900 000 dots", strings.Repeat(".", 900000), token.Access, token.ErrTooLarge},
		{"just over max size", valid + strings.Repeat("A", 8<<10), token.Access, token.ErrTooLarge},
		// strict base64url: padding
		{"padding in header", parts[0] + "=." + parts[1] + "." + parts[2], token.Access, token.ErrMalformed},
		{"padding in signature", valid + "=", token.Access, token.ErrMalformed},
		// strict base64url: standard alphabet
		{"+ in payload", parts[0] + "." + parts[1][:4] + "+" + parts[1][5:] + "." + parts[2], token.Access, token.ErrMalformed},
		{"/ in signature", parts[0] + "." + parts[1] + "." + parts[2][:3] + "/" + parts[2][4:], token.Access, token.ErrMalformed},
		// strict base64url: non-zero trailing bits (a second spelling of the same bytes)
		{"non-canonical trailing bits", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + flipLast(parts[2]), token.Access, token.ErrMalformed},
		{"whitespace in segment", parts[0] + "." + parts[1] + "\n." + parts[2], token.Access, token.ErrMalformed},
		{"header not JSON", b64("nope") + "." + parts[1] + "." + parts[2], token.Access, token.ErrMalformed},
		{"header a JSON array", b64("[]") + "." + parts[1] + "." + parts[2], token.Access, token.ErrMalformed},
		{"signed payload not JSON", forge(t, hsH, "not json", "HS256", hsKey), token.Access, token.ErrMalformed},
		// RFC 7515 §4.1.11: crit names extensions we do not understand
		{"crit header", forge(t, with2(hsH, "crit", []string{"exp"}, "exp", 1), good, "HS256", hsKey), token.Access, token.ErrMalformed},
		// kid lookup among configured keys only
		{"kid traversal", forge(t, with2(hsH, "kid", "../../etc/passwd"), good, "HS256", hsKey), token.Access, token.ErrUnknownKey},
		{"kid URL", forge(t, with2(hsH, "kid", "https://evil.example/key"), good, "HS256", hsKey), token.Access, token.ErrUnknownKey},
		{"kid SQL", forge(t, with2(hsH, "kid", "' OR 1=1 --"), good, "HS256", hsKey), token.Access, token.ErrUnknownKey},
		{"no kid", forge(t, with2(hsH, "kid", nil), good, "HS256", hsKey), token.Access, token.ErrUnknownKey},
		// RFC 8725 §3.11 explicit typing
		{"refresh presented as access", forge(t, with2(hsH, "typ", "refresh+jwt"), good, "HS256", hsKey), token.Access, token.ErrWrongType},
		{"access presented as reset", valid, token.Reset, token.ErrWrongType},
		{"mfa presented as access", forge(t, with2(hsH, "typ", "mfa+jwt"), good, "HS256", hsKey), token.Access, token.ErrWrongType},
		{"mfa presented as refresh", forge(t, with2(hsH, "typ", "mfa+jwt"), good, "HS256", hsKey), token.Refresh, token.ErrWrongType},
		{"access presented as mfa", valid, token.MFA, token.ErrWrongType},
		{"reset presented as mfa", forge(t, with2(hsH, "typ", "reset+jwt"), good, "HS256", hsKey), token.MFA, token.ErrWrongType},
		{"typ JWT", forge(t, with2(hsH, "typ", "JWT"), good, "HS256", hsKey), token.Access, token.ErrWrongType},
		{"typ missing", forge(t, with2(hsH, "typ", nil), good, "HS256", hsKey), token.Access, token.ErrWrongType},
		// exp
		{"expired by leeway+1s", forge(t, hsH, with(good, "exp", now.Add(-31*time.Second).Unix()), "HS256", hsKey), token.Access, token.ErrExpired},
		{"exp:0", forge(t, hsH, with(good, "exp", 0), "HS256", hsKey), token.Access, token.ErrExpired},
		{"exp missing", forge(t, hsH, with(good, "exp", nil), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"exp string", forge(t, hsH, with(good, "exp", "9999999999"), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"exp null", forge(t, hsH, with(good, "exp", []any{}), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		// nbf / iat in the future
		{"nbf beyond leeway", forge(t, hsH, with(good, "nbf", now.Add(31*time.Second).Unix()), "HS256", hsKey), token.Access, token.ErrNotYetValid},
		{"nbf within leeway", forge(t, hsH, with(good, "nbf", now.Add(30*time.Second).Unix()), "HS256", hsKey), token.Access, nil},
		{"iat in the future", forge(t, hsH, with(good, "iat", now.Add(time.Hour).Unix()), "HS256", hsKey), token.Access, token.ErrNotYetValid},
		// iss / aud
		{"wrong issuer", forge(t, hsH, with(good, "iss", "evil"), "HS256", hsKey), token.Access, token.ErrIssuer},
		{"missing issuer", forge(t, hsH, with(good, "iss", nil), "HS256", hsKey), token.Access, token.ErrIssuer},
		{"wrong audience", forge(t, hsH, with(good, "aud", "other"), "HS256", hsKey), token.Access, token.ErrAudience},
		{"missing audience", forge(t, hsH, with(good, "aud", nil), "HS256", hsKey), token.Access, token.ErrAudience},
		// RFC 7519 §4.1.3: aud is a string or an array of strings
		{"aud as number", forge(t, hsH, with(good, "aud", 42), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"aud with a JSON escape", forge(t, hsH, fmt.Sprintf(`{"iss":"gatekeep","aud":"gate\u006beep","exp":%d}`, now.Unix()+60), "HS256", hsKey), token.Access, nil},
		{"aud empty string", forge(t, hsH, with(good, "aud", ""), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"aud list with number", forge(t, hsH, with(good, "aud", []any{"gatekeep", 1}), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"roles not a list", forge(t, hsH, with(good, "roles", "admin"), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
		{"sub a number", forge(t, hsH, with(good, "sub", 7), "HS256", hsKey), token.Access, token.ErrInvalidClaims},
	}
}

// TestVerifyRules is one row per verification rule; rows that are attacks
// or RFC rules say which.
func TestVerifyRules(t *testing.T) {
	ks, rows := verifyRules(t)
	v, err := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
	must(t, err)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), r.typ, r.tok)
			if r.want == nil {
				if err != nil || c == nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, r.want) || c != nil {
				t.Fatalf("want %v, got %v (claims %v)", r.want, err, c)
			}
			if len(r.tok) > 20 && strings.Contains(err.Error(), r.tok[:20]) {
				t.Fatalf("error message contains the token")
			}
		})
	}
}

// flipLast returns the last base64url character of seg with its unused low
// bits set, which a strict decoder must refuse.
func flipLast(seg string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alpha, seg[len(seg)-1])
	return string(alpha[i|3])
}

func TestVerifyMaxSizeAndDotsQuickly(t *testing.T) {
	ks, err := token.NewKeySet(keyFor(t, token.HS256, "hs"))
	must(t, err)
	v, err := token.NewVerifier(ks, token.WithMaxSize(2<<20), token.WithClock(clock))
	must(t, err)
	// attack: 900 000 dots under a raised limit is still refused as malformed
	if _, err := v.Verify(context.Background(), token.Access, strings.Repeat(".", 900000)); !errors.Is(err, token.ErrMalformed) {
		t.Fatalf("got %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := keyFor(t, token.ES256, "old")
	ks, err := token.NewKeySet(old)
	must(t, err)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	v, err := token.NewVerifier(ks, token.WithClock(clock))
	must(t, err)
	ctx := context.Background()
	oldTok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Hour)})
	must(t, err)

	nk := keyFor(t, token.EdDSA, "new")
	must(t, ks.Add(nk))
	if err := ks.Add(nk); !errors.Is(err, token.ErrInvalidConfig) {
		t.Fatalf("duplicate kid accepted: %v", err)
	}
	must(t, ks.SetActive("new"))
	newTok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Hour)})
	must(t, err)
	for _, tok := range []string{oldTok, newTok} {
		if _, err := v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatalf("after SetActive: %v", err)
		}
	}
	if err := ks.Remove("new"); !errors.Is(err, token.ErrInvalidConfig) {
		t.Fatalf("removed the active key: %v", err)
	}
	must(t, ks.Remove("old"))
	if _, err := v.Verify(ctx, token.Access, oldTok); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("token of a removed key: %v", err)
	}
	if err := ks.SetActive("old"); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("SetActive on a removed key: %v", err)
	}
	pubOnly, err := token.NewKeySet(nil, nk.Public())
	must(t, err)
	if _, err := token.NewSigner(pubOnly); !errors.Is(err, token.ErrInvalidKey) {
		t.Fatalf("signer over a public-only set: %v", err)
	}
	if err := pubOnly.SetActive("new"); !errors.Is(err, token.ErrInvalidKey) {
		t.Fatalf("public key made active: %v", err)
	}
}

func TestConstructorsRefuseBadInput(t *testing.T) {
	ecKey := rawKey(t, token.ES256).(*ecdsa.PrivateKey)
	rows := []struct {
		name string
		err  error
		want error
	}{
		// RFC 7518 §3.2: HMAC key at least the hash size
		{"HS256 31-byte secret", errOf(token.NewHMACKey(token.HS256, "", make([]byte, 31))), token.ErrWeakKey},
		{"HS384 47-byte secret", errOf(token.NewHMACKey(token.HS384, "", make([]byte, 47))), token.ErrWeakKey},
		{"HS512 63-byte secret", errOf(token.NewHMACKey(token.HS512, "", make([]byte, 63))), token.ErrWeakKey},
		{"HMAC alg for RSA key", errOf(token.NewKey(token.HS256, "", rawKey(t, token.RS256))), token.ErrInvalidKey},
		{"RSA alg for EC key", errOf(token.NewKey(token.RS256, "", ecKey)), token.ErrInvalidKey},
		{"ES384 with P-256 key", errOf(token.NewKey(token.ES384, "", ecKey)), token.ErrInvalidKey},
		{"alg none", errOf(token.NewKey("none", "", []byte("x"))), token.ErrInvalidKey},
		{"kid with control character", errOf(token.NewKey(token.ES256, "a\nb", ecKey)), token.ErrInvalidConfig},
		{"leeway above 5m", errOf(token.NewVerifier(mustSet(t), token.WithLeeway(5*time.Minute+time.Second))), token.ErrInvalidConfig},
		{"negative leeway", errOf(token.NewVerifier(mustSet(t), token.WithLeeway(-1))), token.ErrInvalidConfig},
		{"tiny max size", errOf(token.NewVerifier(mustSet(t), token.WithMaxSize(1))), token.ErrInvalidConfig},
		{"nil key source", errOf(token.NewVerifier(nil)), token.ErrInvalidConfig},
		{"empty key set", errOf(token.NewKeySet(nil)), token.ErrInvalidConfig},
		{"empty audience", errOf(token.NewVerifier(mustSet(t), token.WithAudience())), token.ErrInvalidConfig},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if !errors.Is(r.err, r.want) {
				t.Fatalf("want %v, got %v", r.want, r.err)
			}
		})
	}
	_, err := token.NewHMACKey(token.HS384, "", make([]byte, 47))
	if !strings.Contains(err.Error(), "48") {
		t.Fatalf("error does not name the minimum: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func mustSet(t *testing.T) *token.KeySet {
	ks, err := token.NewKeySet(keyFor(t, token.HS256, "hs"))
	must(t, err)
	return ks
}

func TestSignRefusesBadClaims(t *testing.T) {
	s, err := token.NewSigner(mustSet(t), token.WithClock(clock))
	must(t, err)
	exp := now.Add(time.Hour)
	rows := []struct {
		name string
		typ  token.Type
		c    *token.Claims
		want error
	}{
		{"nil claims", token.Access, nil, token.ErrInvalidClaims},
		{"no exp", token.Access, &token.Claims{Subject: "u"}, token.ErrInvalidClaims},
		{"empty type", "", &token.Claims{ExpiresAt: exp}, token.ErrWrongType},
		{"type with quote", `a"b`, &token.Claims{ExpiresAt: exp}, token.ErrWrongType},
		{"Extra not an object", token.Access, &token.Claims{ExpiresAt: exp, Extra: []int{1}}, token.ErrInvalidClaims},
		// Extra must not override registered claims
		{"Extra overrides sub", token.Access, &token.Claims{ExpiresAt: exp, Extra: map[string]any{"sub": "admin"}}, token.ErrInvalidClaims},
		{"Extra overrides roles", token.Access, &token.Claims{ExpiresAt: exp, Extra: struct {
			R []string `json:"roles"`
		}{[]string{"admin"}}}, token.ErrInvalidClaims},
		{"Extra not encodable", token.Access, &token.Claims{ExpiresAt: exp, Extra: func() {}}, token.ErrInvalidClaims},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if _, err := s.Sign(r.typ, r.c); !errors.Is(err, r.want) {
				t.Fatalf("want %v, got %v", r.want, err)
			}
		})
	}
}

func TestVerifyIntoTypedExtra(t *testing.T) {
	ks := mustSet(t)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	v, err := token.NewVerifier(ks, token.WithClock(clock))
	must(t, err)
	type app struct {
		Tenant string `json:"tenant"`
		Plan   int    `json:"plan"`
	}
	tok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Hour), Extra: app{"acme", 3}})
	must(t, err)
	var got app
	c, err := token.VerifyInto(context.Background(), v, token.Access, tok, &got)
	must(t, err)
	if got != (app{"acme", 3}) || c.Subject != "u" {
		t.Fatalf("got %+v %+v", got, c)
	}
	// Verify alone ignores application claims.
	if _, err := v.Verify(context.Background(), token.Access, tok); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyUsernameAndRawClaims(t *testing.T) {
	ks := mustSet(t)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	plain, err := token.NewVerifier(ks, token.WithClock(clock))
	must(t, err)
	cache, err := token.NewCache(16)
	must(t, err)
	cached, err := token.NewVerifier(ks, token.WithClock(clock), token.WithCache(cache))
	must(t, err)
	ctx := context.Background()
	for _, v := range []*token.JWTVerifier{plain, cached} {
		// A token with only gatekeep's claims carries no RawClaims.
		tok, err := s.Sign(token.Access, &token.Claims{Subject: "u", Username: "alice", ExpiresAt: now.Add(time.Hour)})
		must(t, err)
		for range 2 { // the second answer comes from the cache, when there is one
			c, err := v.Verify(ctx, token.Access, tok)
			must(t, err)
			if c.Username != "alice" || c.Extra != nil {
				t.Fatalf("plain token: username %q, extra %v", c.Username, c.Extra)
			}
		}
		// Application claims come back as the verified payload.
		tok, err = s.Sign(token.Access, &token.Claims{Subject: "u", Username: "bob", ExpiresAt: now.Add(time.Hour),
			Extra: map[string]any{"tenant": "acme", "plan": 3}})
		must(t, err)
		for range 2 {
			c, err := v.Verify(ctx, token.Access, tok)
			must(t, err)
			raw, ok := c.Extra.(token.RawClaims)
			if !ok || c.Username != "bob" {
				t.Fatalf("extra %T, username %q", c.Extra, c.Username)
			}
			var app struct {
				Tenant string `json:"tenant"`
				Plan   int    `json:"plan"`
			}
			must(t, raw.Decode(&app))
			if app.Tenant != "acme" || app.Plan != 3 {
				t.Fatalf("decoded %+v", app)
			}
		}
	}
	// Username and a preferred_username in Extra would be two values of one claim.
	if _, err := s.Sign(token.Access, &token.Claims{Username: "a", ExpiresAt: now.Add(time.Hour),
		Extra: map[string]string{"preferred_username": "b"}}); !errors.Is(err, token.ErrInvalidClaims) {
		t.Fatalf("username twice: %v", err)
	}
}

func TestJWTIDsAreUnique(t *testing.T) {
	s, err := token.NewSigner(mustSet(t), token.WithClock(clock))
	must(t, err)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := &token.Claims{ExpiresAt: now.Add(time.Hour)}
		if _, err := s.Sign(token.Access, c); err != nil {
			t.Fatal(err)
		}
		if len(c.ID) != 22 || seen[c.ID] {
			t.Fatalf("jti %q short or repeated", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestLeewayBoundaries(t *testing.T) {
	hsKey := rawKey(t, token.HS256)
	ks, err := token.NewKeySet(keyFor(t, token.HS256, "hs"))
	must(t, err)
	hsH := hdr{"alg": "HS256", "typ": "at+jwt", "kid": "hs"}
	exp := now.Unix()
	rows := []struct {
		name   string
		leeway time.Duration
		at     time.Time
		want   error
	}{
		{"no leeway, one ns before exp", 0, now.Add(-time.Nanosecond), nil},
		// RFC 7519 §4.1.4: at exp the token is no longer valid
		{"no leeway, at exp", 0, now, token.ErrExpired},
		{"sub-second leeway kept", 1500 * time.Millisecond, now.Add(1400 * time.Millisecond), nil},
		{"sub-second leeway exceeded", 1500 * time.Millisecond, now.Add(1500 * time.Millisecond), token.ErrExpired},
		{"max leeway", token.MaxLeeway, now.Add(token.MaxLeeway - time.Second), nil},
	}
	tok := forge(t, hsH, with(goodClaims(), "exp", exp, "iat", exp-60), "HS256", hsKey)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			at := r.at
			v, err := token.NewVerifier(ks, token.WithLeeway(r.leeway), token.WithClock(func() time.Time { return at }))
			must(t, err)
			if _, err := v.Verify(context.Background(), token.Access, tok); !errors.Is(err, r.want) && !(r.want == nil && err == nil) {
				t.Fatalf("want %v, got %v", r.want, err)
			}
		})
	}
}

// Rotation while verifying and signing from many goroutines (run with -race).
func TestKeySetConcurrentRotation(t *testing.T) {
	a, b := keyFor(t, token.HS256, "a"), keyFor(t, token.ES256, "b")
	ks, err := token.NewKeySet(a, b)
	must(t, err)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	v, err := token.NewVerifier(ks, token.WithClock(clock))
	must(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			kid := []string{"a", "b"}[i%2]
			if err := ks.SetActive(kid); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				tok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Hour)})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := v.Verify(context.Background(), token.Access, tok); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-done
}
