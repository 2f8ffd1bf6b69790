package oidc

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a [Service].
type Option func(*config)

type config struct {
	stateTTL       time.Duration
	codeTTL        time.Duration
	client         *http.Client
	now            func() time.Time
	log            *slog.Logger
	insecureCookie bool
}

func defaultConfig() config {
	return config{
		stateTTL: DefaultStateTTL, codeTTL: DefaultCodeTTL,
		client: &http.Client{Timeout: 15 * time.Second},
		now:    time.Now, log: slog.New(slog.DiscardHandler),
	}
}

// WithStateTTL sets how long a sign-in may take from start to callback
// (the state cookie's life). Default 10 minutes; between 1m and 1h.
func WithStateTTL(d time.Duration) Option { return func(c *config) { c.stateTTL = d } }

// WithCodeTTL sets the life of exchange mode's one-time code. Default
// 60 seconds, the time a client needs to post it back; at most 5m.
func WithCodeTTL(d time.Duration) Option { return func(c *config) { c.codeTTL = d } }

// WithHTTPClient sets the client for the providers' discovery, token,
// JWKS and userinfo endpoints. Default: http.Client with a 15 s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc != nil {
			c.client = hc
		}
	}
}

// WithClock sets the clock for the state's expiry and ID token checks.
// Default time.Now; tests move it.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets where failed sign-ins are logged (never a code, token
// or state). Default: discarded.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithInsecureStateCookie drops Secure from the state cookie, for
// plain-http local development only: in production it would let the
// state cross the network in clear.
func WithInsecureStateCookie() Option { return func(c *config) { c.insecureCookie = true } }
