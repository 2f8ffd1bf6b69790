package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// Authenticator is the whole of gatekeep's auth: a [Gate] (the request
// side: [Gate.Authenticate], [Gate.Require], [Gate.Optional],
// [Gate.Authorize], [Gate.Guard]) together with a token Signer, a
// [store.Store] and a password [Hasher], which drive the lifecycle of
// accounts and sessions from Go ([Authenticator.Register],
// [Authenticator.Login], [Authenticator.Refresh], [Authenticator.Logout],
// [Authenticator.IssueTokens], ...) and serve the HTTP API's handlers,
// each a thin translation of one of those methods ([Authenticator.Mount]).
// It is safe for concurrent use.
type Authenticator struct {
	*Gate
	signer token.Signer
	st     store.Store
	// raw is the store as New was given it: optional capabilities
	// (store.TOTPStore, ...) are found on it by type assertion, since st
	// is the observing wrapper, which has only the base interfaces.
	raw       store.Store
	cfg       config
	hashSlots chan struct{}
	// hashWaiting counts requests waiting for a hashing slot.
	hashWaiting atomic.Int64
	// bulkSlots bounds the hash slots registrations hold (bulkShare).
	bulkSlots chan struct{}
	dummyHash string
	// dummies equalise logins over the hash parameter sets present.
	dummies dummies
	// ipInflight counts logins per client IP being checked right now.
	ipInflight inflight
	// health rate-limits GET /healthz's write probe.
	health writeProbe

	// Password-reset notifications run in the background (see Close).
	notifySlots    chan struct{}
	bgMu           sync.Mutex
	bgClosed       bool
	bg             sync.WaitGroup
	warnNoNotifier sync.Once
}

// New returns an Authenticator signing with signer, verifying with
// verifier and keeping state in st. Configure verifier with the same
// issuer, audience, leeway and clock as the options given here, and with
// the verified-token cache (token.WithCache) unless memory is tight: the
// Authenticator adds none. New validates every argument and option and
// returns an error wrapping ErrInvalidConfig; it never panics.
//
// Defaults: access tokens 15 minutes, refresh tokens (and session idle
// timeout) 7 days, sessions at most 30 days, leeway 30 seconds, argon2id
// passwords, 10 failed logins per account in 15 minutes.
func New(signer token.Signer, verifier token.Verifier, st store.Store, opts ...Option) (*Authenticator, error) {
	switch {
	case isNil(signer):
		return nil, fmt.Errorf("%w: nil signer", ErrInvalidConfig)
	case isNil(verifier):
		return nil, fmt.Errorf("%w: nil verifier", ErrInvalidConfig)
	case isNil(st):
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	cfg := defaultConfig()
	def, err := NewArgon2id(Argon2idParams{})
	if err != nil {
		return nil, err
	}
	cfg.hasher = def
	for _, o := range opts {
		if isNil(o) {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidConfig)
		}
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g, err := newGate(verifier, st, cfg.gateConfig)
	if err != nil {
		return nil, err
	}
	g.watch.now = cfg.now
	raw := st
	st = observeStore(st, g.watch) // the Gate and the lifecycle watch one store
	a := &Authenticator{
		Gate:      g,
		signer:    signer,
		st:        st,
		raw:       raw,
		cfg:       cfg,
		hashSlots: make(chan struct{}, cfg.maxHashes),
		bulkSlots: make(chan struct{}, bulkShare(cfg.maxHashes)),

		notifySlots: make(chan struct{}, maxPendingNotifications),
	}
	// The hash that unknown usernames are verified against, so that they
	// cost what a wrong password costs.
	var pw [24]byte
	_, _ = rand.Read(pw[:])
	if a.dummyHash, err = cfg.hasher.Hash(hex.EncodeToString(pw[:])); err != nil {
		return nil, fmt.Errorf("%w: the hasher cannot hash", ErrInvalidConfig)
	}
	if set := paramSetOf(a.dummyHash); set != "" {
		a.dummies.list = []dummyHash{{set, a.dummyHash}}
	}
	return a, nil
}

// isNil reports whether v is nil or a typed nil pointer, map, func...
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// Client describes who is calling a lifecycle method: the client IP,
// which login throttling counts by and audit events name, and the user
// agent a new session records. The HTTP handlers take it from the request
// ([Authenticator.ClientOf]); an application calling from Go passes what it
// knows (the zero Client is allowed: such calls share one throttling
// bucket, "unknown IP").
type Client struct {
	IP        netip.Addr
	UserAgent string
}

// ClientOf returns the Client of r: [Authenticator.ClientIP] (which
// honours [WithTrustedProxies]) and its User-Agent.
func (a *Authenticator) ClientOf(r *http.Request) Client {
	return Client{IP: a.ClientIP(r), UserAgent: r.UserAgent()}
}

// RevokeUser ends every session and every token of the user now: their
// access tokens stop working at once and their refresh tokens cannot be
// used. A login that starts after RevokeUser returns works.
//
// Token times have one-second resolution, so the user's valid-after time
// is set to the start of the current second (a token issued later in this
// second, by a new login, stays valid) and each of the user's live
// sessions is revoked by id (which stops the tokens issued earlier in this
// second). A login running concurrently with RevokeUser may survive it.
func (a *Authenticator) RevokeUser(ctx context.Context, userID string) error {
	now := a.cfg.now()
	until := now.Add(a.cfg.refreshTTL + a.cfg.leeway)
	sessions, err := a.st.UserSessions(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: listing sessions: %w", ErrUnavailable, err)
	}
	if err := a.st.RevokeUserBefore(ctx, userID, now.Truncate(time.Second), until); err != nil {
		return fmt.Errorf("%w: revoking the user's tokens: %w", ErrUnavailable, err)
	}
	for _, s := range sessions {
		if err := a.st.Revoke(ctx, s.ID, until); err != nil {
			return fmt.Errorf("%w: revoking a session: %w", ErrUnavailable, err)
		}
	}
	if err := a.st.DeleteUserSessions(ctx, userID); err != nil {
		return fmt.Errorf("%w: deleting sessions: %w", ErrUnavailable, err)
	}
	return nil
}
