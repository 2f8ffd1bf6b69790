package auth

import (
	"context"
	"errors"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// An Observer receives what gatekeep counts, for metrics: the outcome of
// every authentication, lifecycle events (logins, refreshes, reuse
// detections, throttles, store outages) and every store call with its
// latency. Set one with [WithObserver]; without one nothing is measured
// and nothing is called (the request path then costs what it costs
// without this hook).
//
// Methods are called synchronously on the request's goroutine, from many
// goroutines at once: an implementation is safe for concurrent use and
// quick (increment a counter, record a histogram sample), never blocking
// on I/O. ctx is the request's context. No argument ever holds a token,
// password or key. Embed [NopObserver] to implement only some methods.
type Observer interface {
	// Authentication is called once for each request authenticated by
	// [Gate.Authenticate] (and so Require, Optional, Authorize and Guard)
	// and for each [Gate.AuthenticateToken] call, with its outcome.
	Authentication(ctx context.Context, o AuthOutcome)
	// Event is called once for each lifecycle event.
	Event(ctx context.Context, e Event)
	// StoreCall is called after each call to the store with its latency.
	StoreCall(ctx context.Context, c StoreCall)
}

// NopObserver is an [Observer] that does nothing: embed it in an Observer
// that implements only some of the methods.
type NopObserver struct{}

// Authentication implements [Observer].
func (NopObserver) Authentication(context.Context, AuthOutcome) {}

// Event implements [Observer].
func (NopObserver) Event(context.Context, Event) {}

// StoreCall implements [Observer].
func (NopObserver) StoreCall(context.Context, StoreCall) {}

var _ Observer = NopObserver{}

// WithObserver sets the [Observer] that receives gatekeep's counts and
// store latencies. Default none: nothing is measured. A Gate ([NewGate])
// takes it too, and reports authentications and its Revoker's calls.
func WithObserver(o Observer) GateOption {
	return gateOption(func(c *gateConfig) {
		if isNil(o) {
			o = nil
		}
		c.observer = o
	})
}

// AuthOutcome is the outcome of one authentication.
type AuthOutcome uint8

// The outcomes of an authentication, named by [AuthOutcome.String] as
// metric labels.
const (
	// AuthOK: a valid token; the request has a principal.
	AuthOK AuthOutcome = iota
	// AuthNoToken: no credentials at all (ErrNoToken).
	AuthNoToken
	// AuthInvalid: a token that is unusable: malformed, expired, badly
	// signed, of another type or issuer, or a cross-origin cookie request.
	AuthInvalid
	// AuthRevoked: a well-formed token that was revoked (ErrRevoked).
	AuthRevoked
	// AuthUnavailable: the store or key set could not answer
	// (ErrUnavailable); the request failed closed.
	AuthUnavailable
)

var outcomeNames = [...]string{"ok", "no_token", "invalid", "revoked", "unavailable"}

// String returns the outcome's label: ok, no_token, invalid, revoked or
// unavailable.
func (o AuthOutcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// outcomeOf classifies an authentication's error.
func outcomeOf(err error) AuthOutcome {
	switch {
	case err == nil:
		return AuthOK
	case errors.Is(err, ErrUnavailable):
		return AuthUnavailable
	case errors.Is(err, ErrNoToken):
		return AuthNoToken
	case errors.Is(err, ErrRevoked):
		return AuthRevoked
	}
	return AuthInvalid
}

// Event is a lifecycle event an [Observer] counts. Each matches an audit
// log line ([WithLogger]) of the same meaning.
type Event uint8

// The events, named by [Event.String] as metric labels.
const (
	// EventLogin: a successful password login (auth.login).
	EventLogin Event = iota + 1
	// EventLoginFailed: a wrong username or password (auth.login_failed).
	EventLoginFailed
	// EventRegister: a new account, logged in (auth.register).
	EventRegister
	// EventRefresh: a refresh token rotated (auth.refresh).
	EventRefresh
	// EventRefreshReuse: a spent refresh token presented again, which
	// ended its session (auth.refresh_reuse_detected).
	EventRefreshReuse
	// EventThrottled: a login, registration or password-reset request
	// refused by a throttle (auth.login_throttled, auth.request_throttled,
	// auth.password_reset_throttled).
	EventThrottled
	// EventStoreDown: the store stopped answering (auth.store_unavailable).
	EventStoreDown
	// EventStoreUp: the store answers again after EventStoreDown
	// (auth.store_recovered).
	EventStoreUp
)

var eventNames = [...]string{"", "login", "login_failed", "register", "refresh", "refresh_reuse",
	"throttled", "store_down", "store_up"}

// String returns the event's label: login, login_failed, register,
// refresh, refresh_reuse, throttled, store_down or store_up.
func (e Event) String() string {
	if e > 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "unknown"
}

// StoreCall describes one call to the store, for [Observer.StoreCall].
type StoreCall struct {
	// Op is the method called: "IsRevoked", "UserByUsername",
	// "RotateSession", ... (the store interfaces' method names).
	Op string
	// Duration is how long the call took.
	Duration time.Duration
	// Err is what it returned: nil, an answer (store.ErrNotFound,
	// store.ErrConflict, store.ErrInvalid) or a fault ([StoreCall.Failed]).
	Err error
}

// Failed reports whether the store could not answer: the call returned an
// error other than the answers store.ErrNotFound, store.ErrConflict and
// store.ErrInvalid. Count these as store errors.
func (c StoreCall) Failed() bool { return storeFault(c.Err) }

func storeFault(err error) bool {
	return err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) &&
		!errors.Is(err, store.ErrInvalid)
}

// observe reports a lifecycle event to the observer, if there is one.
func (g *Gate) observe(ctx context.Context, e Event) {
	if g.obs != nil {
		g.obs.Event(ctx, e)
	}
}
