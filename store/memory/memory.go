package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// Store is an in-process [store.Store]. Create it with [New] and stop its
// janitor with [Store.Close]. It is safe for concurrent use.
type Store struct {
	now    func() time.Time
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	users    userTable
	sessions sessionTable
	counters counterTable
	keyRing  keyRing
	// identities is the optional store.IdentityStore (identities.go).
	identities identityTable

	seed   maphash.Seed
	shards [revShards]revShard
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Pinger       = (*Store)(nil)
	_ store.WriteChecker = (*Store)(nil)
)

// New returns an empty store and starts its janitor, which removes expired
// entries every sweep interval (see [WithSweepInterval]). Call Close when
// done with it.
func New(opts ...Option) *Store {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Store{
		now:  cfg.now,
		stop: make(chan struct{}),
		done: make(chan struct{}),
		seed: maphash.MakeSeed(),
	}
	s.users.init()
	s.sessions.init()
	s.counters.init(cfg.maxCounters)
	for i := range s.shards {
		s.shards[i].init()
	}
	go s.janitor(cfg.sweepInterval)
	return s
}

// Close stops the janitor and waits for it to return. Every later call on
// the store fails with [ErrClosed] and [store.ErrUnavailable]. Closing twice
// is not an error.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
	})
	return nil
}

// Ping reports whether the store answers: nil until Close.
func (s *Store) Ping(ctx context.Context) error { return s.check(ctx) }

// CheckWrite reports whether the store accepts writes: nil until Close
// (memory never refuses one).
func (s *Store) CheckWrite(ctx context.Context) error { return s.check(ctx) }

// check is the prologue of every method: a cancelled context or a closed
// store ends the call before it reads or changes anything.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
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
			s.sweep()
		}
	}
}

// sweep removes every entry that has expired.
func (s *Store) sweep() {
	now := s.now()
	s.sessions.sweep(now)
	s.counters.sweep(now)
	n := now.UnixNano()
	for i := range s.shards {
		s.shards[i].sweep(n)
	}
}
