package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/token"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePEM(t *testing.T) {
	rsaKey := rawKey(t, token.RS256).(*rsa.PrivateKey)
	ecKey := rawKey(t, token.ES256).(*ecdsa.PrivateKey)
	edKey := rawKey(t, token.EdDSA).(ed25519.PrivateKey)
	pk8 := func(k any) []byte { b, err := x509.MarshalPKCS8PrivateKey(k); must(t, err); return b }
	pkix := func(k any) []byte { b, err := x509.MarshalPKIXPublicKey(k); must(t, err); return b }
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	must(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)

	rows := []struct {
		name    string
		alg     token.Algorithm
		pem     []byte
		canSign bool
		want    error
	}{
		{"PKCS#8 RSA", token.RS256, pemOf(t, "PRIVATE KEY", pk8(rsaKey)), true, nil},
		{"PKCS#1 RSA", token.PS256, pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), true, nil},
		{"PKCS#1 RSA public", token.RS256, pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), false, nil},
		{"PKIX RSA public", token.RS512, pemOf(t, "PUBLIC KEY", pkix(&rsaKey.PublicKey)), false, nil},
		{"SEC1 EC", token.ES256, pemOf(t, "EC PRIVATE KEY", sec1), true, nil},
		{"SEC1 EC after EC PARAMETERS", token.ES256, append(pemOf(t, "EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pemOf(t, "EC PRIVATE KEY", sec1)...), true, nil},
		{"PKCS#8 EC", token.ES256, pemOf(t, "PRIVATE KEY", pk8(ecKey)), true, nil},
		{"PKIX EC public", token.ES256, pemOf(t, "PUBLIC KEY", pkix(&ecKey.PublicKey)), false, nil},
		{"PKCS#8 Ed25519", token.EdDSA, pemOf(t, "PRIVATE KEY", pk8(edKey)), true, nil},
		{"PKIX Ed25519 public", token.EdDSA, pemOf(t, "PUBLIC KEY", pkix(edKey.Public())), false, nil},
		// RFC 7518 §3.3: RSA keys of at least 2048 bits
		{"RSA 1024", token.RS256, pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), false, token.ErrWeakKey},
		{"EC key for RS256", token.RS256, pemOf(t, "EC PRIVATE KEY", sec1), false, token.ErrInvalidKey},
		{"P-256 for ES512", token.ES512, pemOf(t, "EC PRIVATE KEY", sec1), false, token.ErrInvalidKey},
		{"certificate", token.RS256, pemOf(t, "CERTIFICATE", []byte{1, 2}), false, token.ErrInvalidKey},
		{"garbage DER", token.RS256, pemOf(t, "PRIVATE KEY", []byte("nope")), false, token.ErrInvalidKey},
		{"not PEM", token.RS256, []byte("-----BEGIN nothing"), false, token.ErrInvalidKey},
		{"encrypted PEM", token.RS256, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), false, token.ErrInvalidKey},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			k, err := token.ParsePEM(r.alg, "", r.pem)
			if r.want != nil {
				if !errors.Is(err, r.want) {
					t.Fatalf("want %v, got %v", r.want, err)
				}
				return
			}
			must(t, err)
			if k.CanSign() != r.canSign || k.Algorithm() != r.alg {
				t.Fatalf("got %v", k)
			}
		})
	}
}

func TestGenerateKeyEveryAlgorithm(t *testing.T) {
	for _, alg := range token.Algorithms() {
		if strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS") {
			continue // RSA generation is slow; RS256 is covered by examples
		}
		k, err := token.GenerateKey(alg, "")
		must(t, err)
		if !k.CanSign() || k.Algorithm() != alg || k.KID() == "" {
			t.Fatalf("%s: %v", alg, k)
		}
	}
	if _, err := token.GenerateKey("none", ""); !errors.Is(err, token.ErrInvalidKey) {
		t.Fatalf("none: %v", err)
	}
}

// No fmt verb and no slog handler reaches the key material.
func TestKeyNeverPrintsMaterial(t *testing.T) {
	secret := bytes.Repeat([]byte("S3cr3t!"), 8)
	k, err := token.NewHMACKey(token.HS256, "hs", secret)
	must(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "k", k)
	outs := []string{logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k))
	}
	for _, out := range outs {
		if strings.Contains(out, "S3cr3t") || strings.Contains(out, fmt.Sprintf("%x", secret[:8])) {
			t.Fatalf("key material printed: %s", out)
		}
	}
}
