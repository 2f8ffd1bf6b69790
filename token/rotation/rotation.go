package rotation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// Rotator keeps a [token.KeySet] in step with a store's key ring and
// performs the rotation policy (see the package documentation). On a
// store that is a [store.KeyWatcher] (Redis), it also reloads as soon as
// another instance announces a change. It is a [token.KeySource] too: a verifier over it reloads the ring when a token
// names a kid it does not know, at most once per reload interval. Safe
// for concurrent use; [Rotator.Close] stops its goroutine.
type Rotator struct {
	st    store.KeyStore
	kek   *token.KEK
	alg   token.Algorithm
	every time.Duration
	cfg   config
	ks    *token.KeySet

	mu     sync.Mutex        // serialises Sync and reloads
	opened map[string]opened // by kid; guarded by mu
	ver    atomic.Int64      // ring version last applied
	err    atomic.Pointer[error]

	lastKidReload atomic.Int64 // clock UnixNano of the last unknown-kid reload

	kick        chan struct{} // a KeyWatcher's announcement: reload now
	cancelWatch context.CancelFunc
	watching    sync.WaitGroup

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ token.KeySource = (*Rotator)(nil)

// opened is a ring key as this instance opened it (or failed to).
type opened struct {
	sealed []byte
	key    *token.Key
	err    error
}

// New returns a Rotator over st that signs new keys with alg, rotating
// every period (which must exceed zero). It reads the ring at once, and
// when the ring is empty creates its first key, active from the start
// (there is nothing to pre-publish it to yet); when New returns, the key
// set has an active key, or New fails (wrapping [ErrNoSigningKey] when the
// ring's active key does not open with kek). It then reloads every
// reload interval in a goroutine, performing each step that is due.
func New(ctx context.Context, st store.KeyStore, kek *token.KEK, alg token.Algorithm, every time.Duration, opts ...Option) (*Rotator, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch {
	case len(cfg.errs) > 0:
		return nil, cfg.errs[0]
	case st == nil:
		return nil, fmt.Errorf("%w: nil key store", ErrInvalidConfig)
	case kek == nil:
		return nil, fmt.Errorf("%w: automatic key rotation needs a key-encryption key", ErrInvalidConfig)
	case every <= 0:
		return nil, fmt.Errorf("%w: rotation period must be positive", ErrInvalidConfig)
	case cfg.prepublish < cfg.reload:
		return nil, fmt.Errorf("%w: pre-publication (%s) shorter than the reload interval (%s): an instance could sign with a key another has not loaded", ErrInvalidConfig, cfg.prepublish, cfg.reload)
	}
	if !slices.Contains(token.Algorithms(), alg) {
		return nil, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidConfig, alg)
	}
	// Replace, unlike NewKeySet, accepts the empty set a verify-only
	// start may be.
	ks := new(token.KeySet)
	if err := ks.Replace(nil, cfg.static...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	r := &Rotator{st: st, kek: kek, alg: alg, every: every, cfg: cfg, ks: ks,
		opened: map[string]opened{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := r.Sync(ctx); err != nil && ks.Active() == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSigningKey, err)
	}
	if ks.Active() == nil {
		err := ErrNoSigningKey
		if e := r.Err(); e != nil {
			err = fmt.Errorf("%w: %w", ErrNoSigningKey, e)
		}
		return nil, err
	}
	go r.loop()
	if w, ok := st.(store.KeyWatcher); ok {
		wctx, cancel := context.WithCancel(context.Background())
		r.cancelWatch = cancel
		r.watching.Add(1)
		go func() {
			defer r.watching.Done()
			_ = w.WatchSigningKeys(wctx, func() {
				select {
				case r.kick <- struct{}{}:
				default: // a reload is pending already
				}
			})
		}()
	}
	return r, nil
}

// KeySet returns the key set the Rotator keeps: build the [token.Signer]
// and the JWK Set handler on it. It holds the ring's next, active and
// retiring keys and the verify-only keys of [WithVerifyOnly].
func (r *Rotator) KeySet() *token.KeySet { return r.ks }

// Version returns the ring version last loaded.
func (r *Rotator) Version() int64 { return r.ver.Load() }

// Err returns the error of the last reload, or nil when it succeeded.
// After an error the key set is the one last loaded (or, when the ring's
// active key did not open, has no active key).
func (r *Rotator) Err() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *Rotator) setErr(err error) {
	if err == nil {
		r.err.Store(nil)
		return
	}
	r.err.Store(&err)
}

// Close stops the background reloads. The key set keeps its keys.
// Closing twice is not an error.
func (r *Rotator) Close() error {
	r.once.Do(func() {
		if r.cancelWatch != nil {
			r.cancelWatch()
		}
		r.watching.Wait()
		close(r.stop)
		<-r.done
	})
	return nil
}

func (r *Rotator) loop() {
	defer close(r.done)
	t := time.NewTicker(r.cfg.reload)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(syncTimeout, r.cfg.reload))
			err := r.Sync(ctx)
			cancel()
			if err != nil {
				r.cfg.log.Warn("rotation: reloading the signing keys failed; keeping the keys last loaded", slog.String("error", err.Error()))
			}
		case <-r.kick:
			// Another instance announced a change: load it now rather
			// than at the next tick.
			ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
			_ = r.reload(ctx)
			cancel()
		}
	}
}

// LookupKey implements [token.KeySource]: a key of the set, or, for a kid
// the set lacks, one reload of the ring when none was prompted this
// reload interval, then the set again. It never reports the store's
// faults as anything but an unknown key: the kid is the caller's choice.
func (r *Rotator) LookupKey(ctx context.Context, kid string) (*token.Key, error) {
	if k, err := r.ks.LookupKey(ctx, kid); err == nil {
		return k, nil
	}
	now := r.cfg.clock().UnixNano()
	last := r.lastKidReload.Load()
	if (last != 0 && now-last < int64(r.cfg.reload)) || !r.lastKidReload.CompareAndSwap(last, now) {
		return nil, token.ErrUnknownKey
	}
	if err := r.reload(ctx); err != nil {
		return nil, token.ErrUnknownKey
	}
	return r.ks.LookupKey(ctx, kid)
}

// reload reads the ring and applies it, performing no step.
func (r *Rotator) reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(ctx)
}

// reloadLocked is reload with r.mu held.
func (r *Rotator) reloadLocked(ctx context.Context) error {
	ring, err := r.st.SigningKeys(ctx)
	if err != nil {
		r.setErr(err)
		return err
	}
	err = r.apply(ring)
	r.setErr(err)
	return err
}

// Sync reads the ring, performs every step of the policy that is due
// (each a compare-and-swap in the store: when another instance changed
// the ring first, Sync reads it again and adopts its result), and loads
// the result into the key set. The background goroutine calls it every
// reload interval; tests with an injected clock call it themselves.
func (r *Rotator) Sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.sync(ctx)
	r.setErr(err)
	return err
}

func (r *Rotator) sync(ctx context.Context) error {
	for range maxSteps {
		ring, err := r.st.SigningKeys(ctx)
		if err != nil {
			return err
		}
		if err := r.apply(ring); err != nil {
			// A key that does not open: write nothing, sign with nothing
			// we cannot prove is the ring's.
			return err
		}
		done, err := r.step(ctx, ring)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			continue // another instance moved first: read its result
		}
		if err != nil || done {
			return err
		}
	}
	return nil
}

// apply opens the ring's keys (once per kid) and replaces the key set with
// them and the static keys. It returns an error wrapping ErrUnopenable
// when a key does not open, after loading every key that does; the
// active key is then left out if it is the one that failed.
func (r *Rotator) apply(ring *store.KeyRing) error {
	var active *token.Key
	var verify []*token.Key
	var firstErr error
	seen := make(map[string]bool, len(ring.Keys))
	actives := 0
	for _, k := range ring.Keys {
		seen[k.ID] = true
		o, ok := r.opened[k.ID]
		if !ok || !bytes.Equal(o.sealed, k.Sealed) {
			o = opened{sealed: bytes.Clone(k.Sealed)}
			o.key, o.err = r.kek.Open(k.ID, token.Algorithm(k.Algorithm), k.Sealed)
			if o.err != nil {
				o.err = fmt.Errorf("%w: %q (%s): %w", ErrUnopenable, k.ID, k.State, o.err)
				r.cfg.log.Error("rotation: a signing key of the ring does not open with this instance's key-encryption key; this instance writes nothing to the ring",
					slog.String("kid", k.ID), slog.String("state", string(k.State)))
			}
			r.opened[k.ID] = o
		}
		if o.err != nil {
			if firstErr == nil {
				firstErr = o.err
			}
			continue
		}
		if k.State == store.KeyActive {
			actives++
			active = o.key
			continue
		}
		verify = append(verify, o.key)
	}
	for kid := range r.opened {
		if !seen[kid] {
			delete(r.opened, kid)
		}
	}
	if actives > 1 {
		// Not a state any store allows; refuse to choose.
		active = nil
		firstErr = errors.Join(firstErr, fmt.Errorf("%w: the ring has %d active keys", ErrNoSigningKey, actives))
	}
	for _, k := range r.cfg.static {
		if !seen[k.KID()] {
			verify = append(verify, k)
		}
	}
	if err := r.ks.Replace(active, verify...); err != nil {
		return err
	}
	r.ver.Store(ring.Version)
	return firstErr
}

// step performs the first step of the policy that is due on ring, and
// reports whether none was (done).
func (r *Rotator) step(ctx context.Context, ring *store.KeyRing) (done bool, err error) {
	now := r.cfg.clock()
	var active, next *store.SigningKey
	for _, k := range ring.Keys {
		switch k.State {
		case store.KeyActive:
			active = k
		case store.KeyNext:
			if next == nil { // the oldest: keys are ordered by CreatedAt
				next = k
			}
		}
	}
	retireAt := now.Add(r.cfg.reload + r.cfg.retain)
	switch {
	case active == nil && next != nil:
		// Nothing signs: promote at once rather than wait.
		_, err = r.st.ActivateSigningKey(ctx, ring.Version, next.ID, now, retireAt)
		r.audit(ctx, err, "rotation: signing key activated", next.ID, next.Algorithm)
		return false, err
	case active == nil:
		return false, r.create(ctx, ring.Version, store.KeyActive, now)
	}
	for _, k := range ring.Keys {
		if k.State == store.KeyRetiring && !now.Before(k.RetireAt) {
			_, err = r.st.DeleteSigningKey(ctx, ring.Version, k.ID)
			r.audit(ctx, err, "rotation: signing key deleted", k.ID, k.Algorithm)
			return false, err
		}
	}
	due := active.ActivatedAt.Add(r.every)
	switch {
	case next == nil && !now.Before(due.Add(-r.cfg.prepublish)):
		return false, r.create(ctx, ring.Version, store.KeyNext, now)
	case next != nil && !now.Before(due) && !now.Before(next.CreatedAt.Add(r.cfg.prepublish)):
		_, err = r.st.ActivateSigningKey(ctx, ring.Version, next.ID, now, retireAt)
		if err == nil {
			r.cfg.log.LogAttrs(ctx, slog.LevelInfo, "rotation: signing key retiring",
				slog.String("kid", active.ID), slog.String("alg", active.Algorithm), slog.Time("retire_at", retireAt))
		}
		r.audit(ctx, err, "rotation: signing key activated", next.ID, next.Algorithm)
		return false, err
	}
	return true, nil
}

// Step is what [Rotator.RotateNow] did.
type Step struct {
	// Action is "created" (a next key, now in the JWK Set) or "activated"
	// (the next key signs; the active one went retiring).
	Action string
	Kid    string
}

// RotateNow performs the next step of a rotation now, ahead of the
// schedule but never ahead of the pre-publication: when the ring has no
// next key it creates one (published in the JWK Set, signing nothing yet);
// when it has one published for at least the pre-publication time
// (WithPrepublish) it activates it, and the active key goes retiring. A
// next key published more recently is refused with a [*TooEarlyError]
// saying when. Run it twice, the pre-publication apart, to rotate at once
// (gatekeep keys rotate). Every instance picks the change up as it does a
// scheduled one. The step is a compare-and-swap like every other: a
// concurrent change by another instance makes it return store.ErrConflict
// rather than act on a ring it did not read.
func (r *Rotator) RotateNow(ctx context.Context) (Step, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ring, err := r.st.SigningKeys(ctx)
	if err != nil {
		return Step{}, err
	}
	if err := r.apply(ring); err != nil {
		return Step{}, err
	}
	now := r.cfg.clock()
	var next *store.SigningKey
	for _, k := range ring.Keys {
		if k.State == store.KeyNext && next == nil {
			next = k
		}
	}
	if next == nil {
		before := make(map[string]bool, len(r.opened))
		for kid := range r.opened {
			before[kid] = true
		}
		if err := r.create(ctx, ring.Version, store.KeyNext, now); err != nil {
			return Step{}, err
		}
		st := Step{Action: "created"}
		for kid := range r.opened {
			if !before[kid] {
				st.Kid = kid
			}
		}
		return st, r.reloadLocked(ctx)
	}
	if at := next.CreatedAt.Add(r.cfg.prepublish); now.Before(at) {
		return Step{}, &TooEarlyError{Kid: next.ID, At: at}
	}
	if _, err := r.st.ActivateSigningKey(ctx, ring.Version, next.ID, now, now.Add(r.cfg.reload+r.cfg.retain)); err != nil {
		return Step{}, err
	}
	r.audit(ctx, nil, "rotation: signing key activated", next.ID, next.Algorithm, slog.Bool("forced", true))
	return Step{Action: "activated", Kid: next.ID}, r.reloadLocked(ctx)
}

// create makes, seals and stores a new key in state.
func (r *Rotator) create(ctx context.Context, version int64, state store.KeyState, now time.Time) error {
	k, err := token.GenerateKey(r.alg, "")
	if err != nil {
		return err
	}
	sealed, err := r.kek.Seal(k)
	if err != nil {
		return err
	}
	rec := &store.SigningKey{ID: k.KID(), Algorithm: string(r.alg), State: state, CreatedAt: now, Sealed: sealed}
	if state == store.KeyActive {
		rec.ActivatedAt = now
	}
	_, err = r.st.CreateSigningKey(ctx, version, rec)
	if err == nil {
		// Keep the key we made rather than open it again.
		r.opened[k.KID()] = opened{sealed: sealed, key: k}
	}
	r.audit(ctx, err, "rotation: signing key created", k.KID(), string(r.alg), slog.String("state", string(state)))
	return err
}

// audit logs a step this instance performed; a lost race is not one.
func (r *Rotator) audit(ctx context.Context, err error, msg, kid, alg string, extra ...slog.Attr) {
	if err != nil {
		return
	}
	r.cfg.log.LogAttrs(ctx, slog.LevelInfo, msg, append([]slog.Attr{slog.String("kid", kid), slog.String("alg", alg)}, extra...)...)
}
