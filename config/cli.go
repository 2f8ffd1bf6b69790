package config

import (
	"io"
	"log/slog"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/token"
)

// This file exports, for the gatekeep command (cmd/gatekeep), the pieces
// of Build and FromEnv a tool needs without building a whole stack, so
// that the tool reads the configuration and makes keys and hashes exactly
// as a server does.

// FromEnvFunc is [FromEnv] over getenv in place of the process environment
// (os.Getenv's shape: "" means unset) and the .env file at dotEnv in place
// of [DotEnvFile] ("" reads no file; a missing file is no error). A
// variable getenv returns non-empty wins over the file.
func FromEnvFunc(getenv func(string) string, dotEnv string) (Config, error) {
	if getenv == nil {
		return Config{}, &VarError{Var: "getenv", Want: "a non-nil function"}
	}
	var file map[string]string
	if dotEnv != "" {
		var err error
		if file, err = readDotEnv(dotEnv); err != nil {
			return Config{}, err
		}
	}
	return FromLookup(func(k string) (string, bool) {
		if v := getenv(k); v != "" {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	})
}

// SigningKey returns the key [Build] signs with for cfg: the HMAC key of
// JWT_SECRET (kid [HMACKeyID]) or the private key of JWT_PRIVATE_KEY_FILE
// (kid its RFC 7638 thumbprint). When neither is set, where Build would
// generate a key for its process, it returns nil and no error. Errors are
// Build's, naming the variable.
func SigningKey(cfg Config) (*token.Key, error) {
	if !(isHMAC(cfg.JWTAlg) && cfg.JWTSecret != "") && cfg.JWTPrivateKeyFile == "" {
		return nil, nil
	}
	return buildKey(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// NewHasher returns the password hasher [Build] uses for PASSWORD_HASH
// kind: argon2id (the default) or bcrypt of cost [BcryptCost].
func NewHasher(kind HashKind) (auth.Hasher, error) { return buildHasher(kind) }
