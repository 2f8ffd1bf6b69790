package config

import (
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"

	"github.com/gatekeep/gatekeep/auth"
)

// parseKEK reads a key-encryption key: 64 hex digits, or base64 (standard
// or URL alphabet, padded or not) of 32 bytes.
func parseKEK(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	var (
		b   []byte
		err error
	)
	switch {
	case len(s) == 2*auth.KeyEncryptionKeySize:
		b, err = hex.DecodeString(s)
	case strings.ContainsAny(s, "-_"):
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	default:
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) != auth.KeyEncryptionKeySize {
		return nil, false
	}
	return b, true
}

const kekWant = "32 bytes as 64 hex digits or base64 (openssl rand -base64 32)"

// validateSecondFactor checks JWTKeyEncryptionKey (KeyRotation's field,
// which also seals TOTP secrets) whenever it is set.
func (c *Config) validateSecondFactor() error {
	if c.JWTKeyEncryptionKey != "" {
		if _, ok := parseKEK(string(c.JWTKeyEncryptionKey)); !ok {
			return varErr("JWT_KEY_ENCRYPTION_KEY", kekWant, "")
		}
	}
	return nil
}

// secondFactorOptions are the auth options of JWT_KEY_ENCRYPTION_KEY and
// TOTP_ISSUER; without a key it warns that enrolment is off.
func (c *Config) secondFactorOptions(log *slog.Logger) []auth.Option {
	var opts []auth.Option
	if kek, ok := parseKEK(string(c.JWTKeyEncryptionKey)); ok {
		opts = append(opts, auth.WithKeyEncryptionKey(kek))
	} else {
		log.Warn("config: JWT_KEY_ENCRYPTION_KEY is unset: two-factor (TOTP) enrolment answers 503 until it is set")
	}
	if c.TOTPIssuer != "" {
		opts = append(opts, auth.WithTOTPIssuer(c.TOTPIssuer))
	}
	return opts
}
