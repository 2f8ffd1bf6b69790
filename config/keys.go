package config

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

// Limits of the key-rotation variables.
const (
	// MinRotateEvery is the shortest JWT_ROTATE_EVERY (0 aside, which
	// turns automatic rotation off).
	MinRotateEvery = time.Minute
	// DefaultKeyPrepublish is how long a new key is published before it
	// signs when JWT_KEY_PREPUBLISH is unset.
	DefaultKeyPrepublish = rotation.DefaultPrepublish
	// MinKeyPrepublish is the shortest JWT_KEY_PREPUBLISH: the interval at
	// which every instance reloads the keys, so that none signs with a key
	// another has not loaded.
	MinKeyPrepublish = rotation.DefaultReloadInterval
)

// KeyRotation holds the key-rotation variables; it is embedded in
// [Config], so its fields read as Config's own.
type KeyRotation struct {
	// JWTRotateEvery is how often the signing key rotates by itself
	// (JWT_ROTATE_EVERY): a new key is created, published for
	// JWTKeyPrepublish, then signs, and the old one verifies until every
	// token it signed has expired (REFRESH_TTL + JWT_LEEWAY), then goes.
	// Every instance on one store shares the keys. Default 0: no
	// automatic rotation (one key from JWT_SECRET or JWT_PRIVATE_KEY_FILE,
	// as before). At least 1m; requires JWTKeyEncryptionKey.
	JWTRotateEvery time.Duration
	// JWTKeyPrepublish is how long a new key is in the JWK Set before it
	// signs (JWT_KEY_PREPUBLISH): longer than relying parties cache the
	// JWK Set. Default 0, which means 1h; at least 30s. Only with
	// JWTRotateEvery.
	JWTKeyPrepublish time.Duration
	// JWTKeyEncryptionKey seals the rotated private keys in the store
	// (AES-256-GCM) (JWT_KEY_ENCRYPTION_KEY): 32 bytes as 64 hex digits
	// or base64. Required with JWTRotateEvery, the same on every instance;
	// a key it does not open is never used.
	JWTKeyEncryptionKey Secret
	// JWTPreviousSecrets are HMAC secrets that still verify but never sign
	// (JWT_PREVIOUS_SECRETS, comma-separated), for rotating JWT_SECRET by
	// hand without logging anyone out. Each follows JWT_SECRET's rules.
	// While it is set, JWT_SECRET signs under a kid derived from the
	// secret rather than "default", and the first previous secret also
	// answers to "default", the kid of the tokens it signed. Default none.
	JWTPreviousSecrets []Secret
	// JWTPreviousKeyFiles are PEM files (private or public keys for
	// JWT_ALG) that still verify but never sign (JWT_PREVIOUS_KEY_FILES,
	// comma-separated), for rotating JWT_PRIVATE_KEY_FILE by hand. Each
	// key's kid is its RFC 7638 thumbprint. Default none.
	JWTPreviousKeyFiles []string
}

// prepublish is JWT_KEY_PREPUBLISH with its default applied.
func (k *KeyRotation) prepublish() time.Duration {
	if k.JWTKeyPrepublish == 0 {
		return DefaultKeyPrepublish
	}
	return k.JWTKeyPrepublish
}

// secrets reads comma-separated secrets, used as written (not
// trimmed). The calls naming the variables stay in env.go, where the
// README's tests look for every variable.
func (p *parser) secrets(name string, dst *[]Secret) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var out []Secret
	for part := range strings.SplitSeq(v, ",") {
		if part == "" {
			p.fail(varErr(name, "comma-separated secrets, none empty", ""))
			return
		}
		out = append(out, Secret(part))
	}
	*dst = out
}

func (p *parser) list(name string, dst *[]string) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			p.fail(varErr(name, "a comma-separated list, no item empty", v))
			return
		}
		out = append(out, part)
	}
	*dst = out
}

// validateKeys checks the key-rotation variables (see validate).
func (c *Config) validateKeys(got func(name, formatted string) string) error {
	k := &c.KeyRotation
	dur := func(name string, d time.Duration) string { return got(name, fmtDuration(d)) }
	switch {
	case k.JWTRotateEvery < 0 || k.JWTRotateEvery > 0 && k.JWTRotateEvery < MinRotateEvery:
		return varErr("JWT_ROTATE_EVERY", "0 (no automatic rotation) or a Go duration of at least 1m, such as 720h", dur("JWT_ROTATE_EVERY", k.JWTRotateEvery))
	case k.JWTKeyPrepublish != 0 && k.JWTRotateEvery == 0:
		return varErr("JWT_KEY_PREPUBLISH", "it unset unless JWT_ROTATE_EVERY is set", dur("JWT_KEY_PREPUBLISH", k.JWTKeyPrepublish))
	case k.JWTKeyPrepublish != 0 && k.JWTKeyPrepublish < MinKeyPrepublish:
		return varErr("JWT_KEY_PREPUBLISH", "a Go duration of at least 30s (the interval at which instances reload keys)", dur("JWT_KEY_PREPUBLISH", k.JWTKeyPrepublish))
	case k.JWTRotateEvery > 0 && k.JWTKeyEncryptionKey == "":
		return varErr("JWT_KEY_ENCRYPTION_KEY", "32 bytes as 64 hex digits or base64 (openssl rand -base64 32) when JWT_ROTATE_EVERY is set: rotated keys are sealed with it", "")
	}
	if k.JWTKeyEncryptionKey != "" {
		if _, err := token.ParseKEK(string(k.JWTKeyEncryptionKey)); err != nil {
			return varErr("JWT_KEY_ENCRYPTION_KEY", "32 bytes as 64 hex digits or base64 (openssl rand -base64 32)", "")
		}
	}
	if len(k.JWTPreviousSecrets) > 0 {
		if !isHMAC(c.JWTAlg) {
			return varErr("JWT_PREVIOUS_SECRETS", fmt.Sprintf("it unset when JWT_ALG is %s: previous asymmetric keys go in JWT_PREVIOUS_KEY_FILES", c.JWTAlg), "")
		}
		for _, s := range k.JWTPreviousSecrets {
			if len(s) < hmacMin[c.JWTAlg] {
				return varErr("JWT_PREVIOUS_SECRETS", fmt.Sprintf("secrets of at least %d bytes each for %s (used as raw bytes)", hmacMin[c.JWTAlg], c.JWTAlg), "")
			}
		}
	}
	if len(k.JWTPreviousKeyFiles) > 0 && isHMAC(c.JWTAlg) {
		return varErr("JWT_PREVIOUS_KEY_FILES", fmt.Sprintf("it unset when JWT_ALG is %s: previous HMAC keys go in JWT_PREVIOUS_SECRETS", c.JWTAlg), "")
	}
	return nil
}

// signingKeys are the keys Build reads from the configuration: the
// current one (nil when rotation makes it and none is configured) and the
// verify-only ones.
type signingKeys struct {
	current  *token.Key
	previous []*token.Key
}

// buildKeys reads the configured keys, before any store is opened.
func buildKeys(cfg Config, log *slog.Logger) (signingKeys, error) {
	var out signingKeys
	rotating := cfg.JWTRotateEvery > 0
	hmacPrev := len(cfg.JWTPreviousSecrets) > 0
	switch {
	case rotating && cfg.JWTSecret == "" && cfg.JWTPrivateKeyFile == "":
		// The ring makes the keys; nothing to generate here.
	case hmacPrev && cfg.JWTSecret != "" && !rotating:
		// Manual rotation: the new secret signs under a kid of its own,
		// so "default" can stay with the tokens of the previous one.
		k, err := token.NewHMACKey(cfg.JWTAlg, "", []byte(cfg.JWTSecret))
		if err != nil {
			return out, &VarError{Var: "JWT_SECRET", Want: fmt.Sprintf("a usable %s secret", cfg.JWTAlg), Err: err}
		}
		out.current = k
	default:
		k, err := buildKey(cfg, log)
		if err != nil {
			return out, err
		}
		out.current = k
	}
	kids := map[string]bool{}
	if out.current != nil {
		kids[out.current.KID()] = true
	}
	add := func(varName string, k *token.Key) error {
		if kids[k.KID()] {
			return &VarError{Var: varName, Want: "keys other than the current one and each other"}
		}
		kids[k.KID()] = true
		if !k.Symmetric() {
			k = k.Public() // verify only: no private key where none is needed
		}
		out.previous = append(out.previous, k)
		return nil
	}
	for i, s := range cfg.JWTPreviousSecrets {
		k, err := token.NewHMACKey(cfg.JWTAlg, "", []byte(s))
		if err != nil {
			return out, &VarError{Var: "JWT_PREVIOUS_SECRETS", Want: fmt.Sprintf("usable %s secrets", cfg.JWTAlg), Err: err}
		}
		if err := add("JWT_PREVIOUS_SECRETS", k); err != nil {
			return out, err
		}
		if i == 0 && !kids[HMACKeyID] {
			d, _ := token.NewHMACKey(cfg.JWTAlg, HMACKeyID, []byte(s))
			if err := add("JWT_PREVIOUS_SECRETS", d); err != nil {
				return out, err
			}
		}
	}
	for _, path := range cfg.JWTPreviousKeyFiles {
		pemBytes, err := readLimited(path, maxKeyFile)
		if err != nil {
			return out, &VarError{Var: "JWT_PREVIOUS_KEY_FILES", Want: "readable PEM files", Err: err}
		}
		k, err := token.ParsePEM(cfg.JWTAlg, "", pemBytes)
		if err != nil {
			return out, &VarError{Var: "JWT_PREVIOUS_KEY_FILES", Want: fmt.Sprintf("PEM keys for %s (private or public)", cfg.JWTAlg), Err: err}
		}
		if err := add("JWT_PREVIOUS_KEY_FILES", k); err != nil {
			return out, err
		}
	}
	return out, nil
}

// buildTokens makes the key set, signer and verifier of s: one key set
// from the configured keys, or, with JWT_ROTATE_EVERY, the one a
// rotation.Rotator keeps in step with the store's key ring (the
// configured key, if any, then verifies only, so turning rotation on logs
// nobody out).
func (s *Stack) buildTokens(ctx context.Context, cfg Config, bc buildConfig, keys signingKeys) error {
	topts := tokenOptions(cfg, bc)
	var source token.KeySource
	if cfg.JWTRotateEvery == 0 {
		ks, err := token.NewKeySet(keys.current, keys.previous...)
		if err != nil {
			return &VarError{Var: "JWT_ALG", Want: "a usable signing key", Err: err}
		}
		s.Keys, source = ks, ks
	} else {
		ring, ok := s.Store.(store.KeyStore)
		if !ok {
			return &VarError{Var: "AUTH_STORE", Want: "a store that keeps signing keys (store.KeyStore) when JWT_ROTATE_EVERY is set"}
		}
		if cfg.Store == StoreMemory {
			bc.logger.Warn("config: JWT_ROTATE_EVERY with AUTH_STORE=memory: keys rotate in this process only and are lost with it; use bolt, redis or postgres to keep them")
		}
		kek, err := token.ParseKEK(string(cfg.JWTKeyEncryptionKey))
		if err != nil {
			return &VarError{Var: "JWT_KEY_ENCRYPTION_KEY", Want: "32 bytes as 64 hex digits or base64"}
		}
		verifyOnly := keys.previous
		if keys.current != nil {
			verifyOnly = append([]*token.Key{keys.current}, verifyOnly...)
		}
		ropts := []rotation.Option{
			rotation.WithPrepublish(cfg.prepublish()),
			rotation.WithRetain(cfg.RefreshTTL + cfg.Leeway),
			rotation.WithLogger(bc.logger),
			rotation.WithVerifyOnly(verifyOnly...),
		}
		if bc.now != nil {
			ropts = append(ropts, rotation.WithClock(bc.now))
		}
		r, err := rotation.New(ctx, ring, kek, cfg.JWTAlg, cfg.JWTRotateEvery, ropts...)
		if err != nil {
			return &VarError{Var: "JWT_ROTATE_EVERY", Want: "a key ring this instance can open and sign with (the same JWT_KEY_ENCRYPTION_KEY on every instance)", Err: err}
		}
		s.Rotator, s.Keys, source = r, r.KeySet(), r
	}
	var err error
	if s.Signer, err = token.NewSigner(s.Keys, topts...); err != nil {
		return &VarError{Var: "JWT_ISSUER", Want: "a usable issuer, audience and leeway", Err: err}
	}
	cache, err := token.NewCache(0)
	if err != nil {
		return err
	}
	if s.Verifier, err = token.NewVerifier(source, append(topts, token.WithCache(cache))...); err != nil {
		return &VarError{Var: "JWT_ISSUER", Want: "a usable issuer, audience and leeway", Err: err}
	}
	return nil
}
