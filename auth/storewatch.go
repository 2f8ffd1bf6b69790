package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// outageSettle is how long a store that failed must go without failing
// before its recovery is logged: a store that flaps (answers one call, fails
// the next) stays one outage, so an outage costs two log lines however
// often its calls fail, and at most two lines are logged per outageSettle.
const outageSettle = 5 * time.Second

// storeWatch follows the store's health from the outcome of its calls, a
// two-state machine: up until a call fails (a fault, not an answer such as
// not found, and not a call whose caller cancelled it; a deadline that
// passed is a store too slow, a fault), which logs one
// warning (auth.store_unavailable); down until a call succeeds at least
// outageSettle after the last failure, which logs one warning
// (auth.store_recovered). While up, a successful call costs one atomic
// load (see busy).
type storeWatch struct {
	log  *slog.Logger
	obs  Observer
	now  func() time.Time
	down atomic.Bool

	mu        sync.Mutex
	since     time.Time // when the outage began
	lastFault time.Time
	faults    int64 // failed calls in this outage
}

// newStoreWatch returns a watch logging to log and telling obs (nil for
// none), on the clock now (nil for time.Now).
func newStoreWatch(log *slog.Logger, obs Observer, now func() time.Time) *storeWatch {
	if now == nil {
		now = time.Now
	}
	return &storeWatch{log: log, obs: obs, now: now}
}

// note is called with the result of every store call: a fault, or (to end
// an outage) anything while down.
func (w *storeWatch) note(ctx context.Context, op string, err error) {
	fault := storeFault(err)
	if fault && errors.Is(ctx.Err(), context.Canceled) {
		return // the caller gave up: that says nothing of the store
	}
	if !fault && !w.down.Load() {
		return
	}
	now := w.now()
	w.mu.Lock()
	var line string
	var attrs []slog.Attr
	var event Event
	switch {
	case fault && !w.down.Load():
		w.down.Store(true)
		w.since, w.lastFault, w.faults = now, now, 1
		line, event = "auth.store_unavailable", EventStoreDown
		attrs = []slog.Attr{slog.String("op", op), slog.String("error", err.Error())}
	case fault:
		w.lastFault = now
		w.faults++
	case w.down.Load() && now.Sub(w.lastFault) >= outageSettle:
		w.down.Store(false)
		line, event = "auth.store_recovered", EventStoreUp
		attrs = []slog.Attr{slog.Duration("down_for", now.Sub(w.since)), slog.Int64("failed_calls", w.faults)}
	}
	w.mu.Unlock()
	// Logged and observed outside the lock, so that a slow log handler or
	// Observer holds up no other store call.
	if line == "" {
		return
	}
	w.log.LogAttrs(ctx, slog.LevelWarn, line, attrs...)
	if w.obs != nil {
		w.obs.Event(ctx, event)
	}
}

// begin starts timing a store call, when there is an Observer to tell: a
// monotonic reading.
func (w *storeWatch) begin() time.Duration {
	if w.obs == nil {
		return 0
	}
	return time.Since(epoch)
}

// busy reports whether a successful call must be reported: there is an
// Observer, or an outage to end. Callers on the request path write
// "err != nil || w.busy()" out, so that a healthy store without an
// Observer costs two tests and an atomic load, and no call.
func (w *storeWatch) busy() bool { return w.obs != nil || w.down.Load() }

// report tells the Observer of a call that began at t and feeds the
// state machine.
func (w *storeWatch) report(ctx context.Context, op string, t time.Duration, err error) {
	if w.obs != nil {
		w.obs.StoreCall(ctx, StoreCall{Op: op, Duration: time.Since(epoch) - t, Err: err})
	}
	if err != nil || w.down.Load() {
		w.note(ctx, op, err)
	}
}

// epoch is the origin of begin's monotonic readings.
var epoch = time.Now()

// watchedStore wraps the store an Authenticator uses: every call feeds the
// storeWatch and, with an Observer, is timed. The revocation check on
// every request does not go through it: the Gate reports that call to the
// same storeWatch itself (Gate.checkRevoked). It keeps the wrapped store's
// optional abilities ([store.Pinger], [store.WriteChecker]) by the types
// observeStore picks; Unwrap returns the store itself.
type watchedStore struct {
	st store.Store
	w  *storeWatch
}

// Unwrap returns the store as it was given to [New].
func (s *watchedStore) Unwrap() store.Store { return s.st }

func (s *watchedStore) begin() time.Duration { return s.w.begin() }

// end reports a call that began at t.
func (s *watchedStore) end(ctx context.Context, op string, t time.Duration, err error) {
	if err != nil || s.w.busy() {
		s.w.report(ctx, op, t, err)
	}
}

// observeStore wraps st for New, reporting to w.
func observeStore(st store.Store, w *storeWatch) store.Store {
	s := &watchedStore{st: st, w: w}
	p, isPinger := st.(store.Pinger)
	wc, isWriter := st.(store.WriteChecker)
	switch {
	case isPinger && isWriter:
		return &watchedPingWriter{watchedPinger{s, p}, wc}
	case isPinger:
		return &watchedPinger{s, p}
	case isWriter:
		return &watchedWriter{s, wc}
	}
	return s
}

type watchedPinger struct {
	*watchedStore
	p store.Pinger
}

func (s *watchedPinger) Ping(ctx context.Context) error {
	t := s.begin()
	err := s.p.Ping(ctx)
	s.end(ctx, "Ping", t, err)
	return err
}

type watchedWriter struct {
	*watchedStore
	wc store.WriteChecker
}

func (s *watchedWriter) CheckWrite(ctx context.Context) error {
	return checkWrite(ctx, s.watchedStore, s.wc)
}

type watchedPingWriter struct {
	watchedPinger
	wc store.WriteChecker
}

func (s *watchedPingWriter) CheckWrite(ctx context.Context) error {
	return checkWrite(ctx, s.watchedStore, s.wc)
}

func checkWrite(ctx context.Context, s *watchedStore, wc store.WriteChecker) error {
	t := s.begin()
	err := wc.CheckWrite(ctx)
	s.end(ctx, "CheckWrite", t, err)
	return err
}

var (
	_ store.Store        = (*watchedStore)(nil)
	_ store.Pinger       = (*watchedPinger)(nil)
	_ store.WriteChecker = (*watchedWriter)(nil)
	_ store.Pinger       = (*watchedPingWriter)(nil)
	_ store.WriteChecker = (*watchedPingWriter)(nil)
)

// The store's methods, each timed and watched.

func (s *watchedStore) CreateUser(ctx context.Context, u *store.User) error {
	t := s.begin()
	err := s.st.CreateUser(ctx, u)
	s.end(ctx, "CreateUser", t, err)
	return err
}

func (s *watchedStore) User(ctx context.Context, id string) (*store.User, error) {
	t := s.begin()
	u, err := s.st.User(ctx, id)
	s.end(ctx, "User", t, err)
	return u, err
}

func (s *watchedStore) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	t := s.begin()
	u, err := s.st.UserByUsername(ctx, username)
	s.end(ctx, "UserByUsername", t, err)
	return u, err
}

func (s *watchedStore) UpdateUser(ctx context.Context, id string, upd store.UserUpdate) (*store.User, error) {
	t := s.begin()
	u, err := s.st.UpdateUser(ctx, id, upd)
	s.end(ctx, "UpdateUser", t, err)
	return u, err
}

func (s *watchedStore) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	t := s.begin()
	us, next, err := s.st.ListUsers(ctx, cursor, limit)
	s.end(ctx, "ListUsers", t, err)
	return us, next, err
}

func (s *watchedStore) DeleteUser(ctx context.Context, id string) error {
	t := s.begin()
	err := s.st.DeleteUser(ctx, id)
	s.end(ctx, "DeleteUser", t, err)
	return err
}

func (s *watchedStore) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	t := s.begin()
	u, err := s.st.SetPasswordHash(ctx, id, expected, next)
	s.end(ctx, "SetPasswordHash", t, err)
	return u, err
}

func (s *watchedStore) CreateSession(ctx context.Context, sess *store.Session) error {
	t := s.begin()
	err := s.st.CreateSession(ctx, sess)
	s.end(ctx, "CreateSession", t, err)
	return err
}

func (s *watchedStore) Session(ctx context.Context, id string) (*store.Session, error) {
	t := s.begin()
	sess, err := s.st.Session(ctx, id)
	s.end(ctx, "Session", t, err)
	return sess, err
}

func (s *watchedStore) RotateSession(ctx context.Context, id string, r store.Rotation) (*store.Session, error) {
	t := s.begin()
	sess, err := s.st.RotateSession(ctx, id, r)
	s.end(ctx, "RotateSession", t, err)
	return sess, err
}

func (s *watchedStore) DeleteSession(ctx context.Context, id string) error {
	t := s.begin()
	err := s.st.DeleteSession(ctx, id)
	s.end(ctx, "DeleteSession", t, err)
	return err
}

func (s *watchedStore) DeleteUserSessions(ctx context.Context, userID string) error {
	t := s.begin()
	err := s.st.DeleteUserSessions(ctx, userID)
	s.end(ctx, "DeleteUserSessions", t, err)
	return err
}

func (s *watchedStore) UserSessions(ctx context.Context, userID string) ([]*store.Session, error) {
	t := s.begin()
	ss, err := s.st.UserSessions(ctx, userID)
	s.end(ctx, "UserSessions", t, err)
	return ss, err
}

func (s *watchedStore) Revoke(ctx context.Context, id string, until time.Time) error {
	t := s.begin()
	err := s.st.Revoke(ctx, id, until)
	s.end(ctx, "Revoke", t, err)
	return err
}

func (s *watchedStore) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	t := s.begin()
	err := s.st.RevokeUserBefore(ctx, userID, before, until)
	s.end(ctx, "RevokeUserBefore", t, err)
	return err
}

func (s *watchedStore) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	t := s.begin()
	revoked, err := s.st.IsRevoked(ctx, c)
	s.end(ctx, "IsRevoked", t, err)
	return revoked, err
}

func (s *watchedStore) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	t := s.begin()
	first, err := s.st.UseOnce(ctx, id, until)
	s.end(ctx, "UseOnce", t, err)
	return first, err
}

func (s *watchedStore) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	t := s.begin()
	n, resetAt, err := s.st.Incr(ctx, key, window)
	s.end(ctx, "Incr", t, err)
	return n, resetAt, err
}

func (s *watchedStore) Count(ctx context.Context, key string) (int64, time.Time, error) {
	t := s.begin()
	n, resetAt, err := s.st.Count(ctx, key)
	s.end(ctx, "Count", t, err)
	return n, resetAt, err
}

func (s *watchedStore) Reset(ctx context.Context, key string) error {
	t := s.begin()
	err := s.st.Reset(ctx, key)
	s.end(ctx, "Reset", t, err)
	return err
}
