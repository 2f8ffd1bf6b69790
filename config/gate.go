package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// GateStack is a built verify-only service: the issuing service's keys
// read from its JWK Set, a Verifier, the shared store and an [auth.Gate].
// Close it when done.
type GateStack struct {
	// Config is the configuration the stack was built from.
	Config Config
	// Addr is the listen address (ADDR).
	Addr string
	// Gate authenticates requests and guards routes.
	Gate *auth.Gate
	// Store is the backend shared with the issuing service (redis or
	// postgres); the Gate only reads its revocations.
	Store store.Store
	// Keys is the issuing service's JWK Set (JWKS_URL).
	Keys *token.RemoteKeySource
	// Verifier uses Keys, the issuer, audience, leeway and clock.
	Verifier *token.JWTVerifier

	closeOnce sync.Once
	closeErr  error
}

// Close closes the store. Calling it again returns the first result.
func (s *GateStack) Close() error {
	s.closeOnce.Do(func() {
		if c, ok := s.Store.(io.Closer); ok {
			s.closeErr = c.Close()
		}
	})
	return s.closeErr
}

// BuildGate validates cfg and builds a verify-only service: one that
// accepts the access tokens an issuing service (one built with [Build])
// signs, with no signing key and no user store of its own.
//
//   - JWKS_URL is the issuing service's JWK Set, fetched with
//     token.RemoteKeySource: redirects never followed, failing closed
//     (503) when it cannot be read, refetched on an unknown kid at most
//     once per interval. JWT_ALG must be the issuer's asymmetric
//     algorithm; every key is pinned to it, and JWKs without alg are
//     taken when their kty and crv fit it.
//   - JWT_ISSUER, JWT_AUDIENCE and JWT_LEEWAY as on the issuer.
//   - AUTH_STORE must be redis or postgres, the issuer's store, with the
//     same REDIS_URL (and prefix) or DATABASE_URL and POSTGRES_SCHEMA, so
//     its logouts, session ends and role changes reach this service within
//     REVOCATION_MAX_LAG. memory and bolt are refused: they cannot share
//     revocations between processes.
//   - COOKIE_MODE reads the access cookie as the issuer sets it.
//
// Every error names the variable at fault and matches [ErrInvalid]. On
// error nothing stays open.
func BuildGate(ctx context.Context, cfg Config, opts ...BuildOption) (*GateStack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.JWKSURL == "" {
		return nil, varErr("JWKS_URL", "the issuing service's JWK Set URL (https://issuer/.well-known/jwks.json) for a verify-only service", "")
	}
	if isHMAC(cfg.JWTAlg) {
		return nil, varErr("JWT_ALG", "the issuing service's asymmetric algorithm (RS256, PS256, ES256 or EdDSA): a JWK Set carries no HMAC key", string(cfg.JWTAlg))
	}
	if cfg.AcceptLegacy {
		return nil, varErr("JWT_ACCEPT_LEGACY", "false for a verify-only service: legacy tokens are checked with the issuing service's own key", "true")
	}
	if cfg.Store != StoreRedis && cfg.Store != StorePostgres {
		return nil, varErr("AUTH_STORE", "redis or postgres for a verify-only service, the issuing service's store (memory and bolt cannot share revocations)", string(cfg.Store))
	}
	bc := newBuildConfig(opts)
	cfg.logNotes(ctx, bc.logger)
	ropts := []token.RemoteOption{token.WithRemoteAlgorithm(cfg.JWTAlg)}
	if bc.now != nil {
		ropts = append(ropts, token.WithRemoteClock(bc.now))
	}
	keys, err := token.NewRemoteKeySource(cfg.JWKSURL, ropts...)
	if err != nil {
		return nil, &VarError{Var: "JWKS_URL", Want: "an https URL (http only to a loopback address)", Err: err}
	}
	cache, err := token.NewCache(0)
	if err != nil {
		return nil, err
	}
	verifier, err := token.NewVerifier(keys, append(tokenOptions(cfg, bc), token.WithCache(cache))...)
	if err != nil {
		return nil, &VarError{Var: "JWT_ISSUER", Want: "a usable issuer, audience and leeway", Err: err}
	}
	st, err := openStore(ctx, cfg, bc)
	if err != nil {
		return nil, err
	}
	s := &GateStack{Config: cfg, Addr: cfg.Addr, Store: st, Keys: keys, Verifier: verifier}
	gopts := append([]auth.GateOption{auth.WithIssuer(cfg.Issuer), auth.WithAudience(cfg.Audience), auth.WithLogger(bc.logger)},
		cookieOptions(cfg, bc.logger)...)
	for _, o := range bc.authOpts {
		if g, ok := o.(auth.GateOption); ok {
			gopts = append(gopts, g)
		}
	}
	if s.Gate, err = auth.NewGate(verifier, st, gopts...); err != nil {
		_ = s.Close()
		return nil, &VarError{Var: "auth options", Want: "options auth.NewGate accepts", Err: err}
	}
	// A first fetch now, so that a wrong URL is a start-up line rather than
	// a 503 on the first request. A failure is only a warning: the issuer
	// may start after this service, and every lookup retries.
	if _, err := keys.LookupKey(ctx, ""); err != nil && !errors.Is(err, token.ErrUnknownKey) {
		bc.logger.Warn(fmt.Sprintf("config: JWKS_URL could not be read yet (requests answer 503 until it can): %v", err))
	}
	return s, nil
}
