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
	linkByEmail    bool
	errorURL       string
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

// WithLinkByVerifiedEmail lets a first sign-in whose provider marks the
// email verified join the existing user with exactly that email (the only
// one with it) instead of creating a user; an unverified email never
// joins. Default off: turn it on only for providers whose verified emails
// you trust, and know that an account registered with someone else's
// email (gatekeep does not verify the email given at registration) then
// becomes that person's sign-in, while its password still works: the
// pre-hijacking hazard of account merging. The lookup reads the users
// page by page (no store indexes emails), once per first sign-in.
func WithLinkByVerifiedEmail() Option { return func(c *config) { c.linkByEmail = true } }

// WithErrorURL sends the browser of a failed callback to u with
// "?error=<code>" (the JSON error's code, such as invalid_request or
// identity_linked; never a token or a description) instead of answering
// JSON. u is a path or an http(s) URL without a fragment. Default unset:
// the callback answers failures in JSON, as every endpoint does.
func WithErrorURL(u string) Option { return func(c *config) { c.errorURL = u } }
