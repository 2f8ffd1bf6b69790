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
var outageSettle = 5 * time.Second

// storeWatch follows the store's health from the outcome of its calls, a
// two-state machine: up until a call fails (a fault, not an answer such as
// not found, and not a call whose caller cancelled it; a deadline that
// passed is a store too slow, a fault), which logs one
// warning (auth.store_unavailable); down until a call succeeds at least
// outageSettle after the last failure, which logs one warning
// (auth.store_recovered). While up, a successful call costs one atomic
// load.
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

func newStoreWatch(log *slog.Logger, obs Observer, now func() time.Time) *storeWatch {
	w := &storeWatch{}
	w.init(log, obs, now)
	return w
}

func (w *storeWatch) init(log *slog.Logger, obs Observer, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	w.log, w.obs, w.now = log, obs, now
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
	defer w.mu.Unlock()
	switch {
	case fault && !w.down.Load():
		w.down.Store(true)
		w.since, w.lastFault, w.faults = now, now, 1
		w.log.LogAttrs(ctx, slog.LevelWarn, "auth.store_unavailable",
			slog.String("op", op), slog.String("error", err.Error()))
		if w.obs != nil {
			w.obs.Event(ctx, EventStoreDown)
		}
	case fault:
		w.lastFault = now
		w.faults++
	case w.down.Load() && now.Sub(w.lastFault) >= outageSettle:
		w.down.Store(false)
		w.log.LogAttrs(ctx, slog.LevelWarn, "auth.store_recovered",
			slog.Duration("down_for", now.Sub(w.since)), slog.Int64("failed_calls", w.faults))
		if w.obs != nil {
			w.obs.Event(ctx, EventStoreUp)
		}
	}
}

// watchedStore wraps the store an Authenticator (or the Revoker a Gate)
// uses: every call feeds the storeWatch and, with an Observer, is timed.
// It keeps the wrapped store's optional abilities ([store.Pinger],
// [store.WriteChecker]) by the types observeStore picks; Unwrap returns
// the store itself.
type watchedStore struct {
	st  store.Store   // nil when only a Revoker is wrapped
	rev store.Revoker // st, or the Gate's Revoker
	obs Observer
	w   storeWatch
}

// watched marks a Revoker that is already a watchedStore, so that the Gate
// inside an Authenticator does not wrap the Authenticator's store twice.
type watched interface{ watchedBy() *storeWatch }

func (s *watchedStore) watchedBy() *storeWatch { return &s.w }

// Unwrap returns the store as it was given to [New].
func (s *watchedStore) Unwrap() store.Store { return s.st }

// epoch is the origin of begin's monotonic readings.
var epoch = time.Now()

// begin starts timing a call, when there is an Observer to tell: a
// monotonic reading.
func (s *watchedStore) begin() time.Duration {
	if s.obs == nil {
		return 0
	}
	return time.Since(epoch)
}

// end reports a call that began at t. IsRevoked, on every request's path,
// has it written out: a healthy store and no Observer then cost three
// tests (one an atomic load) and no call.
func (s *watchedStore) end(ctx context.Context, op string, t time.Duration, err error) {
	if err != nil || s.obs != nil || s.w.down.Load() {
		s.report(ctx, op, t, err)
	}
}

func (s *watchedStore) report(ctx context.Context, op string, t time.Duration, err error) {
	if s.obs != nil {
		s.obs.StoreCall(ctx, StoreCall{Op: op, Duration: time.Since(epoch) - t, Err: err})
	}
	if err != nil || s.w.down.Load() {
		s.w.note(ctx, op, err)
	}
}

// observeStore wraps st for New.
func observeStore(st store.Store, obs Observer, log *slog.Logger, now func() time.Time) store.Store {
	s := &watchedStore{st: st, rev: st, obs: obs}
	s.w.init(log, obs, now)
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

// observeRevoker wraps a Gate's Revoker, unless it is New's watchedStore.
func observeRevoker(r store.Revoker, obs Observer, log *slog.Logger) store.Revoker {
	if _, ok := r.(watched); ok {
		return r
	}
	s := &watchedStore{rev: r, obs: obs}
	s.w.init(log, obs, nil)
	return &watchedRevoker{s}
}

// watchedRevoker is a Gate's own Revoker, watched: only the Revoker's
// methods.
type watchedRevoker struct{ s *watchedStore }

func (r *watchedRevoker) watchedBy() *storeWatch { return &r.s.w }

func (r *watchedRevoker) Revoke(ctx context.Context, id string, until time.Time) error {
	return r.s.Revoke(ctx, id, until)
}

func (r *watchedRevoker) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	return r.s.RevokeUserBefore(ctx, userID, before, until)
}

func (r *watchedRevoker) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	return r.s.IsRevoked(ctx, c)
}

func (r *watchedRevoker) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	return r.s.UseOnce(ctx, id, until)
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
	_ store.Revoker      = (*watchedRevoker)(nil)
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
	err := s.rev.Revoke(ctx, id, until)
	s.end(ctx, "Revoke", t, err)
	return err
}

func (s *watchedStore) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	t := s.begin()
	err := s.rev.RevokeUserBefore(ctx, userID, before, until)
	s.end(ctx, "RevokeUserBefore", t, err)
	return err
}

func (s *watchedStore) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	t := s.begin()
	revoked, err := s.rev.IsRevoked(ctx, c)
	if err != nil || s.obs != nil || s.w.down.Load() { // end, inlined
		s.report(ctx, "IsRevoked", t, err)
	}
	return revoked, err
}

func (s *watchedStore) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	t := s.begin()
	first, err := s.rev.UseOnce(ctx, id, until)
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
