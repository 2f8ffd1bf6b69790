package oidc

import (
	"context"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// ExpectAudience makes provider name's ID token check expect audience aud
// instead of the client's own id, so that a test can present a real ID
// token issued for another audience.
func ExpectAudience(s *Service, name, aud string) error {
	p := s.providers[name]
	if _, _, err := s.setup(p); err != nil {
		return err
	}
	ctx := gooidc.ClientContext(context.Background(), s.cfg.client)
	op, err := gooidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.verifier = op.VerifierContext(ctx, &gooidc.Config{ClientID: aud, Now: s.cfg.now})
	p.mu.Unlock()
	return nil
}
