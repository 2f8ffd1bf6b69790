package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

// hmacSecretBytes is the randomness of a generated JWT_SECRET: 512 bits,
// as much as HS512's hash output. It is written base64url (86 characters),
// whose bytes are the secret (JWT_SECRET is used as its raw bytes), so it
// satisfies the length rule of every HS* algorithm.
const hmacSecretBytes = 64

// kekBytes is the size of a JWT_KEY_ENCRYPTION_KEY: an AES-256 key.
const kekBytes = 32

type keygenResult struct {
	Alg     string            `json:"alg,omitempty"`
	Kid     string            `json:"kid,omitempty"`
	Env     map[string]string `json:"env"`
	Private string            `json:"private_key_file,omitempty"`
	Public  string            `json:"public_key_file,omitempty"`
	Warning string            `json:"warning,omitempty"`
}

func (c *cli) keygen(args []string) error {
	fs := c.flags("keygen", "keygen [-alg ALG] [-out DIR] [-kek] [-json]",
		`Generates key material and prints the .env lines that use it.

  HS256, HS384, HS512: a random secret of 64 bytes, printed as JWT_SECRET=...
      (with JWT_ALG=... for HS384 and HS512; HS256 is the default)
  RS*, PS*, ES*, EdDSA: a private key written to DIR/<kid>.pem (mode 0600) and
      its public key to DIR/<kid>.pub.pem; prints JWT_ALG and JWT_PRIVATE_KEY_FILE.
      The kid is the RFC 7638 thumbprint, the one the server derives.
  -kek: a 32-byte key-encryption key, printed as JWT_KEY_ENCRYPTION_KEY=...
      (base64), for signing keys kept sealed in the store.

Nothing is written over an existing file. Keep the output out of version control.`)
	alg := fs.String("alg", string(token.HS256), "algorithm: "+algList())
	out := fs.String("out", ".", "folder for the PEM files of a key pair")
	kek := fs.Bool("kek", false, "generate a JWT_KEY_ENCRYPTION_KEY instead of a signing key")
	bits := fs.Int("bits", 2048, "RSA modulus size for RS* and PS* (2048 to 8192)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var res keygenResult
	a := token.Algorithm(*alg)
	switch {
	case *kek:
		if set["alg"] || set["out"] || set["bits"] {
			return usagef("keygen: -kek takes no -alg, -out or -bits")
		}
		res.Env = map[string]string{"JWT_KEY_ENCRYPTION_KEY": randomB64(base64.StdEncoding, kekBytes)}
	case !slices.Contains(token.Algorithms(), a):
		return usagef("keygen: -alg %q: want one of %s", *alg, algList())
	case strings.HasPrefix(*alg, "HS"):
		if set["out"] || set["bits"] {
			return usagef("keygen: -out and -bits are for key pairs; an HMAC secret is printed")
		}
		res.Alg = *alg
		res.Env = map[string]string{"JWT_SECRET": randomB64(base64.RawURLEncoding, hmacSecretBytes)}
		if a != token.HS256 { // HS256 is JWT_ALG's default: one line to append to .env
			res.Env["JWT_ALG"] = *alg
		}
	default:
		if set["bits"] && !isRSA(a) {
			return usagef("keygen: -bits is for RS* and PS* only")
		}
		if *bits < 2048 || *bits > 8192 {
			return usagef("keygen: -bits %d: want 2048 to 8192", *bits)
		}
		var err error
		if res, err = writeKeyPair(a, *out, *bits); err != nil {
			return err
		}
	}
	if res.Alg != "" {
		res.Warning = configRefuses(res)
	}
	if *asJSON {
		return c.writeJSON(res)
	}
	for _, k := range []string{"JWT_ALG", "JWT_SECRET", "JWT_PRIVATE_KEY_FILE", "JWT_KEY_ENCRYPTION_KEY"} {
		if v, ok := res.Env[k]; ok {
			fmt.Fprintf(c.stdout, "%s=%s\n", k, v)
		}
	}
	if res.Kid != "" {
		fmt.Fprintf(c.stderr, "gatekeep: wrote %s (private, kid %s) and %s (public)\n", res.Private, res.Kid, res.Public)
	}
	if res.Warning != "" {
		fmt.Fprintln(c.stderr, "gatekeep: warning:", res.Warning)
	}
	return nil
}

func algList() string {
	var s []string
	for _, a := range token.Algorithms() {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

func isRSA(a token.Algorithm) bool {
	return strings.HasPrefix(string(a), "RS") || strings.HasPrefix(string(a), "PS")
}

func randomB64(enc *base64.Encoding, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return enc.EncodeToString(b)
}

// configRefuses says when the configuration would not accept the key
// generated (an algorithm JWT_ALG does not take yet), by asking
// Config.Validate itself.
func configRefuses(res keygenResult) string {
	cfg := config.Default()
	cfg.JWTAlg = token.Algorithm(res.Alg)
	cfg.JWTSecret = config.Secret(res.Env["JWT_SECRET"])
	cfg.JWTPrivateKeyFile = res.Env["JWT_PRIVATE_KEY_FILE"]
	if err := cfg.Validate(); err != nil {
		return "the configuration does not accept this key yet: " + oneLine(err.Error())
	}
	return ""
}

// writeKeyPair generates a key for alg and writes it as PKCS#8 and its
// public half as PKIX PEM under dir, named by the kid.
func writeKeyPair(alg token.Algorithm, dir string, rsaBits int) (keygenResult, error) {
	var priv crypto.Signer
	var err error
	switch {
	case isRSA(alg):
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case alg == token.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == token.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == token.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == token.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return keygenResult{}, usagef("keygen: no key pair for %s", alg)
	}
	if err != nil {
		return keygenResult{}, fmt.Errorf("keygen: generating the key: %w", err)
	}
	// The kid is derived as the server derives it from JWT_PRIVATE_KEY_FILE.
	key, err := token.NewKey(alg, "", priv)
	if err != nil {
		return keygenResult{}, fmt.Errorf("keygen: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return keygenResult{}, fmt.Errorf("keygen: encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return keygenResult{}, fmt.Errorf("keygen: encoding the public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return keygenResult{}, fmt.Errorf("keygen: -out: %w", err)
	}
	base := filepath.Join(dir, key.KID())
	privFile, pubFile := base+".pem", base+".pub.pem"
	if err := writeNew(privFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return keygenResult{}, err
	}
	if err := writeNew(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(privFile)
		return keygenResult{}, err
	}
	return keygenResult{
		Alg: string(alg), Kid: key.KID(), Private: privFile, Public: pubFile,
		Env: map[string]string{"JWT_ALG": string(alg), "JWT_PRIVATE_KEY_FILE": privFile},
	}, nil
}

// writeNew creates path with data, refusing to replace an existing file.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("keygen: %s exists; not replacing it", path)
	}
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("keygen: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("keygen: writing %s: %w", path, err)
	}
	return nil
}
