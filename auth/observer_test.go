package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// countingObserver records what it is told.
type countingObserver struct {
	mu       sync.Mutex
	outcomes map[AuthOutcome]int
	events   map[Event]int
	calls    map[string]int
	failed   map[string]int
	timed    int // calls with a positive duration
}

func newCountingObserver() *countingObserver {
	return &countingObserver{outcomes: map[AuthOutcome]int{}, events: map[Event]int{},
		calls: map[string]int{}, failed: map[string]int{}}
}

func (o *countingObserver) Authentication(_ context.Context, out AuthOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes[out]++
}

func (o *countingObserver) Event(_ context.Context, e Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events[e]++
}

func (o *countingObserver) StoreCall(_ context.Context, c StoreCall) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[c.Op]++
	if c.Failed() {
		o.failed[c.Op]++
	}
	if c.Duration > 0 {
		o.timed++
	}
}

func (o *countingObserver) outcome(out AuthOutcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.outcomes[out]
}

func (o *countingObserver) event(e Event) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.events[e]
}

func TestObserverCountsOutcomesAndEvents(t *testing.T) {
	obs := newCountingObserver()
	f := newFixture(t, nil, WithObserver(obs), WithLoginThrottle(2, time.Minute))

	tr := f.register("alice")
	assert.Equal(t, 1, obs.event(EventRegister))
	f.login("alice")
	assert.Equal(t, 1, obs.event(EventLogin))

	assert.Equal(t, http.StatusOK, f.status(tr.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, f.do(req{method: "GET", path: "/private"}).Code)
	assert.Equal(t, http.StatusUnauthorized, f.status("not.a.token"))
	// The Optional route without a token is anonymous, and still counted.
	assert.Equal(t, http.StatusOK, f.do(req{method: "GET", path: "/optional"}).Code)
	_, err := f.a.AuthenticateToken(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, 2, obs.outcome(AuthOK))
	assert.Equal(t, 2, obs.outcome(AuthNoToken))
	assert.Equal(t, 1, obs.outcome(AuthInvalid))

	w := f.refresh(tr.RefreshToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 1, obs.event(EventRefresh))
	// The spent refresh token again: reuse, which ends the session and so
	// revokes its access tokens.
	require.Equal(t, http.StatusUnauthorized, f.refresh(tr.RefreshToken).Code)
	assert.Equal(t, 1, obs.event(EventRefreshReuse))
	assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
	assert.Equal(t, 1, obs.outcome(AuthRevoked))

	for range 3 {
		f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password!")})
	}
	assert.Equal(t, 2, obs.event(EventLoginFailed))
	assert.Equal(t, 1, obs.event(EventThrottled))

	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Positive(t, obs.calls["IsRevoked"])
	assert.Positive(t, obs.calls["CreateUser"])
	assert.Positive(t, obs.calls["RotateSession"])
	assert.Positive(t, obs.timed, "no store call had a duration")
	assert.Empty(t, obs.failed, "an answer (not found, conflict) counted as a store error")
	assert.Zero(t, obs.outcomes[AuthUnavailable])
}

// A closed store fails every call: the observer counts unavailable
// outcomes and store errors, and the outage is logged once however many
// requests fail.
func TestObserverStoreDown(t *testing.T) {
	obs := newCountingObserver()
	f := newFixture(t, nil, WithObserver(obs))
	tr := f.register("alice")
	require.NoError(t, f.st.(interface{ Close() error }).Close())
	for range 5 {
		assert.Equal(t, http.StatusServiceUnavailable, f.status(tr.AccessToken))
	}
	f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	assert.Equal(t, 5, obs.outcome(AuthUnavailable))
	assert.Equal(t, 1, obs.event(EventStoreDown))
	assert.Zero(t, obs.event(EventStoreUp))
	obs.mu.Lock()
	assert.Equal(t, 5, obs.failed["IsRevoked"])
	assert.Len(t, obs.failed, 2, "IsRevoked and the login's first store call: %v", obs.failed)
	obs.mu.Unlock()
	assert.Equal(t, 1, strings.Count(strings.Join(f.logs.events(), "\n"), "auth.store_unavailable"))
	assert.NotContains(t, f.logs.all(), tr.AccessToken)
}

// The outage lines are logged without an observer too: the default.
func TestStoreOutageLoggedWithoutObserver(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	require.NoError(t, f.st.(interface{ Close() error }).Close())
	for range 3 {
		f.status(tr.AccessToken)
	}
	assert.Equal(t, []string{"auth.store_unavailable"}, filterEvents(f.logs.events(), "auth.store_"))
}

// A caller that gives up (a cancelled context) is not an outage; a
// deadline that passes is (the store is too slow).
func TestStoreWatchCancelledAndDeadline(t *testing.T) {
	logs := &logSink{}
	w := newStoreWatch(slog.New(logs), nil, newClock().Now)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	w.note(cancelled, "IsRevoked", context.Canceled)
	w.note(cancelled, "IsRevoked", errors.Join(store.ErrUnavailable, context.Canceled))
	assert.Empty(t, logs.events())
	expired, cancel2 := context.WithTimeout(t.Context(), -time.Second)
	defer cancel2()
	w.note(expired, "IsRevoked", errors.Join(store.ErrUnavailable, context.DeadlineExceeded))
	assert.Equal(t, []string{"auth.store_unavailable"}, logs.events())
}

// The state machine: one line when an outage starts, none while it lasts,
// one when calls succeed again outageSettle after the last failure; a
// store that flaps within outageSettle stays one outage.
func TestStoreWatchStateMachine(t *testing.T) {
	clk := newClock()
	logs := &logSink{}
	obs := newCountingObserver()
	w := newStoreWatch(slog.New(logs), obs, clk.Now)
	ctx := t.Context()
	boom := errors.Join(store.ErrUnavailable, errors.New("connection refused"))

	w.note(ctx, "IsRevoked", nil)
	w.note(ctx, "User", store.ErrNotFound) // an answer
	assert.Empty(t, logs.events())
	w.note(ctx, "IsRevoked", boom)
	w.note(ctx, "IsRevoked", boom)
	clk.Advance(time.Second)
	w.note(ctx, "IsRevoked", nil) // too soon: still down
	w.note(ctx, "IsRevoked", boom)
	clk.Advance(outageSettle - time.Millisecond)
	w.note(ctx, "IsRevoked", nil)
	assert.Equal(t, []string{"auth.store_unavailable"}, logs.events())
	clk.Advance(time.Millisecond)
	w.note(ctx, "User", store.ErrNotFound) // an answer is a store that answers
	w.note(ctx, "IsRevoked", nil)
	assert.Equal(t, []string{"auth.store_unavailable", "auth.store_recovered"}, logs.events())
	assert.Contains(t, logs.all(), "failed_calls=3")
	assert.Contains(t, logs.all(), "op=IsRevoked")
	assert.Equal(t, 1, obs.event(EventStoreDown))
	assert.Equal(t, 1, obs.event(EventStoreUp))
	w.note(ctx, "IsRevoked", boom)
	assert.Len(t, logs.events(), 3, "a new outage is a new line")
}

// An Authenticator's store keeps its optional abilities through the
// wrapper that watches it.
func TestWatchedStoreKeepsAbilities(t *testing.T) {
	m := memory.New()
	t.Cleanup(func() { _ = m.Close() })
	_, pinger := store.Store(m).(store.Pinger)
	_, writer := store.Store(m).(store.WriteChecker)
	w := newStoreWatch(slog.New(&logSink{}), nil, nil)
	st := observeStore(m, w)
	_, p2 := st.(store.Pinger)
	_, w2 := st.(store.WriteChecker)
	assert.Equal(t, pinger, p2)
	assert.Equal(t, writer, w2)
	assert.Same(t, m, st.(interface{ Unwrap() store.Store }).Unwrap())

	type onlyStore struct{ store.Store }
	bare := observeStore(onlyStore{m}, w)
	_, p3 := bare.(store.Pinger)
	_, w3 := bare.(store.WriteChecker)
	assert.False(t, p3 || w3, "the wrapper claims an ability the store lacks")
}

// A verify-only Gate reports its authentications and Revoker calls.
func TestGateObserver(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	obs := newCountingObserver()
	g, err := NewGate(f.verifier, f.st, WithObserver(obs), WithIssuer(testIssuer), WithAudience(testAudience))
	require.NoError(t, err)
	_, err = g.AuthenticateToken(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, 1, obs.outcome(AuthOK))
	obs.mu.Lock()
	assert.Equal(t, 1, obs.calls["IsRevoked"])
	obs.mu.Unlock()
	// A nil Observer is no observer.
	g, err = NewGate(f.verifier, f.st, WithObserver(nil))
	require.NoError(t, err)
	assert.Nil(t, g.obs)
}

func TestOutcomeAndEventNames(t *testing.T) {
	for o, want := range map[AuthOutcome]string{AuthOK: "ok", AuthNoToken: "no_token", AuthInvalid: "invalid",
		AuthRevoked: "revoked", AuthUnavailable: "unavailable", 200: "unknown"} {
		assert.Equal(t, want, o.String())
	}
	for e, want := range map[Event]string{EventLogin: "login", EventLoginFailed: "login_failed",
		EventRegister: "register", EventRefresh: "refresh", EventRefreshReuse: "refresh_reuse",
		EventThrottled: "throttled", EventStoreDown: "store_down", EventStoreUp: "store_up", 0: "unknown", 99: "unknown"} {
		assert.Equal(t, want, e.String())
	}
	assert.Equal(t, AuthUnavailable, outcomeOf(verifyErr(token.ErrUnavailable)))
	assert.Equal(t, AuthInvalid, outcomeOf(ErrCrossOrigin))
}

func filterEvents(events []string, prefix string) []string {
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}
