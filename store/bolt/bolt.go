package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/gatekeep/gatekeep/store"
)

// Bucket names. Records that expire (sessions, revocations, marks, one-time
// ids, counters) start their value with the 8-byte big-endian Unix
// nanosecond time at which they expire, so that reads and the janitor test
// expiry without decoding the rest.
var (
	bUsers        = []byte("users")         // user ID -> JSON user
	bUsernames    = []byte("usernames")     // canonical username -> user ID
	bSessions     = []byte("sessions")      // session ID -> expiry, JSON session
	bUserSessions = []byte("user_sessions") // userKey(user ID) + session ID -> empty
	bRevoked      = []byte("revoked")       // token or session ID -> until
	bMarks        = []byte("marks")         // user ID -> until, before
	bOnce         = []byte("once")          // one-time ID -> until
	bCounters     = []byte("counters")      // key -> resetAt, count
	bTOTP         = []byte("totp")          // user ID -> JSON store.TOTP

	allBuckets = [][]byte{bUsers, bUsernames, bSessions, bUserSessions, bRevoked, bMarks, bOnce, bCounters, bTOTP}
	// expiring lists the buckets the janitor sweeps.
	expiring = [][]byte{bSessions, bRevoked, bMarks, bOnce, bCounters}
)

// Store is a [store.Store] on a bbolt file. Create it with [New] or [Open]
// and stop its janitor with [Store.Close]. It is safe for concurrent use.
type Store struct {
	db     *bbolt.DB
	owned  bool // Close closes db (Open made it)
	now    func() time.Time
	log    *slog.Logger
	closed atomic.Bool
	failed atomic.Bool   // a call met damage: no call enters bbolt again
	broken chan struct{} // closed when failed is set
	// wlock admits one writer into bbolt at a time, so that a writer whose
	// panic left bbolt's own write lock held strands nobody: the others
	// wait here, with their context, and see failed once admitted.
	wlock chan struct{}
	idx   *index
	disk  bool // IsRevoked reads the file, not idx (benchmarks only)
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// live lists the databases a Store is using. The store's index of
// revocations is authoritative only while it is the file's one writer: a
// bbolt file is locked to one process, and this keeps a second Store in
// the same process off it.
var live = struct {
	sync.Mutex
	dbs map[*bbolt.DB]bool
}{dbs: map[*bbolt.DB]bool{}}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Pinger       = (*Store)(nil)
	_ store.WriteChecker = (*Store)(nil)
)

// New returns a store on db, creating its buckets if needed, and starts the
// janitor. The caller keeps ownership of db: Close stops the janitor but
// does not close db. The store keeps revocations and valid-after marks in
// memory, read from db at New and updated by its own writes, so it must be
// db's only Store (New fails with [ErrInvalidOption] while another is open
// on it) and nothing else may write its buckets.
func New(db *bbolt.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *bbolt.DB", ErrInvalidOption)
	}
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	s, _, err := newStore(db, false, cfg)
	return s, err
}

// Open opens (or creates, mode 0600) the bbolt file at path and returns a
// store that owns it: Close closes the file. When another process holds
// the file's lock past the open timeout ([WithOpenTimeout], default one
// second) it fails with an error matching [ErrLocked] and
// [store.ErrUnavailable] rather than wait for ever.
func Open(path string, opts ...Option) (*Store, error) {
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	if err := checkSize(path); err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	var db *bbolt.DB
	err = guard(func() (err error) {
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: cfg.openTimeout})
		return err
	})
	if errors.Is(err, ErrCorrupt) {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (waited %s): %w", path, ErrLocked, cfg.openTimeout, store.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	if err := checkFile(db, cfg.checkLimit); err != nil {
		_ = guard(db.Close)
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s, stuck, err := newStore(db, true, cfg)
	if err != nil {
		// After a panic in a write transaction bbolt may hold its write
		// lock for good, and db.Close would wait for it: leave the file to
		// the process exit then.
		if !stuck {
			_ = guard(db.Close)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return s, nil
}

// checkFile runs bbolt's own consistency check over the whole file when it
// is at most limit bytes (0 skips it), and reports the first problem.
func checkFile(db *bbolt.DB, limit int64) error {
	if limit <= 0 {
		return nil
	}
	return guard(func() error {
		return db.View(func(tx *bbolt.Tx) error {
			if tx.Size() > limit {
				return nil
			}
			if err := walk(tx); err != nil {
				return err
			}
			var first error
			for err := range tx.Check(bbolt.WithKVStringer(lengthsOnly{})) {
				if first == nil {
					first = err
				}
			}
			if first != nil {
				return corrupt(first)
			}
			return nil
		})
	})
}

func configure(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.sweepInterval <= 0 {
		return cfg, fmt.Errorf("%w: sweep interval %s is not positive", ErrInvalidOption, cfg.sweepInterval)
	}
	if cfg.openTimeout <= 0 {
		return cfg, fmt.Errorf("%w: open timeout %s is not positive (bbolt would wait for ever)", ErrInvalidOption, cfg.openTimeout)
	}
	return cfg, nil
}

// newStore makes the buckets, loads the index and starts the janitor.
// stuck reports that a panic inside bbolt's write transaction may have left
// its locks held (the caller must not close db then).
func newStore(db *bbolt.DB, owned bool, cfg config) (s *Store, stuck bool, err error) {
	live.Lock()
	taken := live.dbs[db]
	live.dbs[db] = true
	live.Unlock()
	if taken {
		return nil, false, fmt.Errorf("%w: another Store is open on this *bbolt.DB (close it first)", ErrInvalidOption)
	}
	defer func() {
		if err != nil {
			live.Lock()
			delete(live.dbs, db)
			live.Unlock()
		}
	}()
	// A panic in our function is recovered inside the transaction, so
	// bbolt rolls back as for an error; one that escapes came from bbolt's
	// commit or rollback, which may leave its locks held.
	stuck, err = recoverFault(func() error {
		return db.Update(func(tx *bbolt.Tx) error {
			return guard(func() error {
				for _, name := range allBuckets {
					if _, err := tx.CreateBucketIfNotExists(name); err != nil {
						return err
					}
				}
				return nil
			})
		})
	})
	if errors.Is(err, ErrCorrupt) {
		return nil, stuck, fmt.Errorf("bolt: create buckets: %w", err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("bolt: create buckets: %w: %w", store.ErrUnavailable, err)
	}
	idx := newIndex()
	err = guard(func() error {
		return db.View(func(tx *bbolt.Tx) error { return idx.load(tx, unixNano(cfg.now())) })
	})
	if errors.Is(err, ErrCorrupt) {
		return nil, false, fmt.Errorf("bolt: read revocations: %w", err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("bolt: read revocations: %w: %w", store.ErrUnavailable, err)
	}
	s = &Store{db: db, owned: owned, now: cfg.now, log: cfg.logger, idx: idx, disk: cfg.diskRevocations,
		wlock: make(chan struct{}, 1), broken: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go s.janitor(cfg.sweepInterval)
	return s, false, nil
}

// Close stops the janitor and, when the store was made by [Open], closes
// the file. Every later call fails with [ErrClosed] and
// [store.ErrUnavailable]. Closing twice is not an error. After a call met
// damage ([ErrCorrupt]) bbolt's locks may be held for good: Close then
// neither waits for the janitor nor closes the file (the process exit
// releases it), and says so with an error matching ErrCorrupt.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		defer func() {
			live.Lock()
			delete(live.dbs, s.db)
			live.Unlock()
		}()
		// Wait for the janitor and for a writer in flight, unless a call
		// meets damage meanwhile (the janitor or the writer may then be
		// stuck inside bbolt for good).
		select {
		case <-s.done:
		case <-s.broken:
		}
		select {
		case s.wlock <- struct{}{}:
		case <-s.broken:
		}
		if s.failed.Load() {
			if s.owned {
				err = fmt.Errorf("bolt: close: file left open: %w", errFailed)
			}
			return
		}
		if s.owned {
			err = s.guard(s.db.Close)
		}
	})
	return err
}

// Ping reports whether the file answers a read transaction.
func (s *Store) Ping(ctx context.Context) error {
	err := s.view(ctx, func(*bbolt.Tx) error { return nil })
	if err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	return nil
}

// healthKey is CheckWrite's record, among the one-time ids: it expires a
// minute after each probe and the janitor removes it.
var healthKey = []byte("\x00gatekeep-health-probe")

// CheckWrite reports whether the file accepts a write transaction (a full
// disk, a file made read-only, damage): it writes its own short-lived
// record and commits, fsync included.
func (s *Store) CheckWrite(ctx context.Context) error {
	until := make([]byte, 8)
	putInt(until, unixNano(s.now().Add(time.Minute)))
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bOnce).Put(healthKey, until)
	})
	if err != nil {
		return fmt.Errorf("bolt: write check: %w", err)
	}
	return nil
}

// check is the prologue of every method.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	if s.failed.Load() {
		return errFailed
	}
	return nil
}

// view runs fn in a read transaction after the prologue.
func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return wrap(s.guard(func() error { return s.db.View(fn) }))
}

// update runs fn in a write transaction after the prologue; the context is
// checked again once the write lock is held, so a call cancelled while
// waiting for it changes nothing.
func (s *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	return s.write(ctx, fn, nil)
}

// write is update, then committed (when not nil) once the transaction has
// committed, still holding the write lock: the in-memory index changes in
// the order the file does.
func (s *Store) write(ctx context.Context, fn func(*bbolt.Tx) error, committed func()) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return errClosed
	case <-s.broken:
		return errFailed
	}
	defer func() { <-s.wlock }()
	if err := s.check(ctx); err != nil { // closed or failed while waiting
		return err
	}
	err := s.guard(func() error {
		return s.db.Update(func(tx *bbolt.Tx) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(tx)
		})
	})
	if err == nil && committed != nil {
		committed()
	}
	return wrap(err)
}

// wrap gives err the store's meaning: our sentinels and context errors
// pass through, input bbolt cannot store is ErrInvalid, anything else
// means the file cannot answer.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, bberrors.ErrKeyRequired), errors.Is(err, bberrors.ErrKeyTooLarge),
		errors.Is(err, bberrors.ErrValueTooLarge):
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// A failed sweep is retried at the next tick; a damaged file
			// is reported, never a crash of the process.
			if err := s.sweep(); err != nil {
				s.log.Error("bolt: janitor sweep failed", "err", err)
			}
		}
	}
}

// sweep deletes every expired record, with the session index entries of
// expired sessions, in one write transaction, then drops the expired
// revocations and marks from the index.
func (s *Store) sweep() error {
	if s.closed.Load() {
		return nil
	}
	if s.failed.Load() {
		return errFailed
	}
	select {
	case s.wlock <- struct{}{}:
	case <-s.stop:
		return nil
	case <-s.broken:
		return errFailed
	}
	defer func() { <-s.wlock }()
	if s.failed.Load() {
		return errFailed
	}
	var dead map[string][][]byte
	err := s.guard(func() (err error) {
		dead, err = s.sweepTx()
		return err
	})
	if err == nil {
		s.idx.drop(dead[string(bRevoked)], dead[string(bMarks)])
	}
	return err
}

func (s *Store) sweepTx() (map[string][][]byte, error) {
	now := unixNano(s.now())
	all := map[string][][]byte{}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		clear(all)
		for _, name := range expiring {
			b := tx.Bucket(name)
			var dead [][]byte
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if expired(v, now) {
					dead = append(dead, bytes.Clone(k))
				}
			}
			all[string(name)] = dead
			for _, k := range dead {
				if bytes.Equal(name, bSessions) {
					if se, err := decodeSession(b.Get(k)); err == nil {
						if err := tx.Bucket(bUserSessions).Delete(indexKey(se.UserID, se.ID)); err != nil {
							return err
						}
					}
				}
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return all, err
}

// Bounds of the times a Unix-nanosecond int64 holds (years 1678 to 2262).
var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to the int64 range, so that an until in
// the year 3000 means "for ever" instead of wrapping into the past.
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxNano):
		return math.MaxInt64
	case t.Before(minNano):
		return math.MinInt64
	}
	return t.UnixNano()
}

func putInt(b []byte, v int64) { binary.BigEndian.PutUint64(b, uint64(v)) }

func getInt(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }

// expired reports whether a value that starts with its expiry time has
// expired at now. A value too short to hold one counts as expired.
func expired(v []byte, now int64) bool {
	return len(v) < 8 || getInt(v) <= now
}

// indexKey is the user_sessions key of a session: the user ID prefixed by
// its length, so that no user's prefix is another's ("a" and "a:b" never
// share one), then the session ID.
func indexKey(userID, sessionID string) []byte {
	k := userKey(userID)
	return append(k, sessionID...)
}

func userKey(userID string) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(userID)+32)
	k = binary.AppendUvarint(k, uint64(len(userID)))
	return append(k, userID...)
}
