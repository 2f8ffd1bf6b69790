package token_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

func newKEK(t testing.TB) (*token.KEK, []byte) {
	t.Helper()
	raw := make([]byte, token.KEKSize)
	_, _ = rand.Read(raw)
	k, err := token.NewKEK(raw)
	must(t, err)
	return k, raw
}

func TestSealRoundTripEveryAlgorithm(t *testing.T) {
	kek, _ := newKEK(t)
	for _, alg := range token.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := keyFor(t, alg, "kid-"+string(alg))
			sealed, err := kek.Seal(k)
			must(t, err)
			got, err := kek.Open(k.KID(), alg, sealed)
			must(t, err)
			if got.KID() != k.KID() || got.Algorithm() != alg || !got.CanSign() {
				t.Fatalf("opened %v, want a signing copy of %v", got, k)
			}
			// The opened key signs what the original verifies, and back.
			for _, pair := range [][2]*token.Key{{got, k}, {k, got}} {
				ks, err := token.NewKeySet(pair[0])
				must(t, err)
				vs, err := token.NewKeySet(pair[1])
				must(t, err)
				s, err := token.NewSigner(ks)
				must(t, err)
				v, err := token.NewVerifier(vs)
				must(t, err)
				tok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: time.Now().Add(time.Minute)})
				must(t, err)
				if _, err := v.Verify(context.Background(), token.Access, tok); err != nil {
					t.Fatalf("a token of the opened key does not verify with the original (or back): %v", err)
				}
			}
		})
	}
}

func TestSealRefusals(t *testing.T) {
	kek, _ := newKEK(t)
	other, _ := newKEK(t)
	k := keyFor(t, token.ES256, "kid-a")
	sealed, err := kek.Seal(k)
	must(t, err)
	b := keyFor(t, token.ES256, "kid-b")
	sealedB, err := kek.Seal(b)
	must(t, err)

	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	rows := []struct {
		name   string
		kek    *token.KEK
		kid    string
		alg    token.Algorithm
		sealed []byte
	}{
		{"wrong KEK", other, "kid-a", token.ES256, sealed},
		// A record's sealed key moved to another record: the kid is AEAD associated data.
		{"kid swap", kek, "kid-b", token.ES256, sealed},
		{"kid swap back", kek, "kid-a", token.ES256, sealedB},
		// The algorithm is bound too: the same key material cannot be re-pinned.
		{"algorithm swap", kek, "kid-a", token.ES384, sealed},
		{"version byte", kek, "kid-a", token.ES256, flip(0)},
		{"nonce", kek, "kid-a", token.ES256, flip(3)},
		{"ciphertext", kek, "kid-a", token.ES256, flip(20)},
		{"tag", kek, "kid-a", token.ES256, flip(len(sealed) - 1)},
		{"truncated", kek, "kid-a", token.ES256, sealed[:len(sealed)-1]},
		{"empty", kek, "kid-a", token.ES256, nil},
		{"appended", kek, "kid-a", token.ES256, append(bytes.Clone(sealed), 0)},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, err := r.kek.Open(r.kid, r.alg, r.sealed)
			if got != nil || !errors.Is(err, token.ErrSealed) {
				t.Fatalf("Open: %v, %v; want no key and ErrSealed", got, err)
			}
		})
	}
	if _, err := kek.Seal(k.Public()); !errors.Is(err, token.ErrInvalidKey) {
		t.Errorf("sealing a public key: %v, want ErrInvalidKey", err)
	}
	again, err := kek.Seal(k)
	must(t, err)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one key are equal: the nonce is not fresh")
	}
}

func TestParseKEK(t *testing.T) {
	raw := make([]byte, token.KEKSize)
	for i := range raw {
		raw[i] = byte(0xf0 + i) // high bytes give '+' '/' in base64, '-' '_' in base64url
	}
	kek, err := token.NewKEK(raw)
	must(t, err)
	k := keyFor(t, token.HS256, "h")
	sealed, err := kek.Seal(k)
	must(t, err)
	good := map[string]string{
		"hex":            hex.EncodeToString(raw),
		"HEX":            strings.ToUpper(hex.EncodeToString(raw)),
		"base64":         base64.StdEncoding.EncodeToString(raw),
		"base64 raw":     base64.RawStdEncoding.EncodeToString(raw),
		"base64url":      base64.URLEncoding.EncodeToString(raw),
		"base64url raw":  base64.RawURLEncoding.EncodeToString(raw),
		"spaces trimmed": "  " + hex.EncodeToString(raw) + "\n",
	}
	for name, s := range good {
		p, err := token.ParseKEK(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := p.Open("h", token.HS256, sealed); err != nil {
			t.Errorf("%s: parsed KEK does not open what the raw one sealed: %v", name, err)
		}
	}
	bad := map[string]string{
		"empty":        "",
		"short hex":    hex.EncodeToString(raw[:31]),
		"short base64": base64.StdEncoding.EncodeToString(raw[:16]),
		"long base64":  base64.StdEncoding.EncodeToString(append(raw, 1)),
		"not encoded":  strings.Repeat("z!", 32),
		"password":     "correct horse battery staple",
	}
	for name, s := range bad {
		_, err := token.ParseKEK(s)
		if !errors.Is(err, token.ErrInvalidKey) {
			t.Errorf("%s: got %v, want ErrInvalidKey", name, err)
		}
		if s != "" && err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("%s: the error repeats the text", name)
		}
	}
}

func TestKEKNeverPrinted(t *testing.T) {
	kek, raw := newKEK(t)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "kek", kek)
	hexRaw, b64Raw := hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw)
	for _, out := range []string{fmt.Sprint(kek), fmt.Sprintf("%#v %+v %x %s", kek, kek, kek, kek), logged.String()} {
		if strings.Contains(out, hexRaw) || strings.Contains(out, b64Raw) || !strings.Contains(out, "redacted") {
			t.Errorf("KEK printed as %q", out)
		}
	}
}

// FuzzOpen: a sealed key read from a store never panics Open, and nothing
// but the exact bytes sealed for that kid and algorithm ever opens.
func FuzzOpen(f *testing.F) {
	kek, _ := newKEK(f)
	k := keyFor(f, token.EdDSA, "kid")
	sealed, err := kek.Seal(k)
	must(f, err)
	f.Add("kid", sealed)
	f.Add("other", sealed)
	f.Add("kid", sealed[:20])
	f.Add("", []byte{1})
	f.Fuzz(func(t *testing.T, kid string, b []byte) {
		got, err := kek.Open(kid, token.EdDSA, b)
		if kid == "kid" && bytes.Equal(b, sealed) {
			if err != nil || got == nil {
				t.Fatalf("the sealed key does not open: %v", err)
			}
			return
		}
		if err == nil || got != nil {
			t.Fatalf("Open accepted bytes other than the sealed key (kid %q, %d bytes)", kid, len(b))
		}
		if !errors.Is(err, token.ErrSealed) && !errors.Is(err, token.ErrInvalidConfig) {
			t.Fatalf("error %v matches neither ErrSealed nor ErrInvalidConfig", err)
		}
	})
}
