package postgres

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/store"
)

// Store is a [store.Store] on PostgreSQL. It is safe for concurrent use.
// Create it with [New] or [Open]; [Store.Close] stops its goroutines.
type Store struct {
	pool    *pgxpool.Pool
	own     bool // Open made pool, so Close closes it
	cfg     config
	q       queries
	channel string // the revocation channel: "<schema>_revocations"
	view    *view  // nil WithoutLocalView

	closed    atomic.Bool
	closeOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	fallbacks atomic.Int64 // IsRevoked answers that asked the database (tests, metrics)
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Pinger       = (*Store)(nil)
	_ store.WriteChecker = (*Store)(nil)
)

// New returns a Store on pool, a pool the application owns:
// [Store.Close] does not close it. Unless [WithoutAutoMigrate] is given,
// New first migrates the schema (see [Migrate]); with it, New checks that
// the schema is at [SchemaVersion]. Either way it contacts the database,
// and one that cannot answer gives an error wrapping
// [store.ErrUnavailable]; a schema newer than this code, one wrapping
// [ErrSchemaVersion].
//
// The local view (see the package documentation) holds one connection of
// its own, made from pool's connection settings, outside the pool.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, invalid("new", "nil pool")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), migrateBound(cfg.timeout))
	defer cancel()
	if cfg.autoMigrate {
		if err := migrate(ctx, pool, cfg.schema); err != nil {
			return nil, err
		}
	} else if err := checkVersion(ctx, pool, cfg.schema); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, cfg: cfg, q: newQueries(cfg.schema), channel: cfg.schema + "_revocations"}
	bg, stop := context.WithCancel(context.Background())
	s.cancel = stop
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.janitor(bg) }()
	if cfg.localView {
		s.view = newView(s)
		s.wg.Add(2)
		go func() { defer s.wg.Done(); s.view.listenLoop(bg) }()
		go func() { defer s.wg.Done(); s.view.pingLoop(bg) }()
	}
	return s, nil
}

// Open connects to the database that url names (a postgres:// URL or a
// key=value connection string, as libpq and pgx take them, for example
// DATABASE_URL) and returns a Store on a pool of its own; [Store.Close]
// closes that pool too. ctx bounds the connection and migration. Errors
// never repeat the URL, which may hold a password.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	url = strings.TrimSpace(url)
	if url == "" {
		return nil, invalid("open", "empty database URL")
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts passwords, but a malformed URL may not parse far
		// enough to find one.
		return nil, invalid("open", "cannot parse the database URL (postgres://user:password@host:port/database?options)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, unavailable("open", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, unavailable("open", err)
	}
	s, err := New(pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close stops the janitor and the local view (closing its connection)
// and, for a Store from [Open], closes its pool. Operations after Close
// return [ErrClosed]. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.cancel()
		s.wg.Wait()
		if s.own {
			s.pool.Close()
		}
	})
	return nil
}

// Ping reports whether the database answers, within the store's timeout.
func (s *Store) Ping(ctx context.Context) error {
	return boundedErr(s, ctx, "ping", func(ctx context.Context) error {
		if err := s.pool.Ping(ctx); err != nil {
			return unavailable("ping", err)
		}
		return nil
	})
}

// CheckWrite reports whether the database accepts a write (a read-only
// standby, a full disk, a default_transaction_read_only session refuse
// it): it upserts a row of its own among the one-time ids, expiring a
// minute later and swept by the janitor.
func (s *Store) CheckWrite(ctx context.Context) error {
	return boundedErr(s, ctx, "write check", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO `+s.q.once+` (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`, []byte("\x00gatekeep-health-probe"), s.now().Add(time.Minute))
		if err != nil {
			return unavailable("write check", err)
		}
		return nil
	})
}

// bounded runs one operation: it refuses on a closed store or a done
// context and bounds f by the store's timeout. pgx honours context
// deadlines on the socket, so f runs directly.
func bounded[T any](s *Store, ctx context.Context, op string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if s.closed.Load() {
		return zero, ErrClosed
	}
	if err := ctxDone(ctx, op); err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	return f(ctx)
}

func boundedErr(s *Store, ctx context.Context, op string, f func(context.Context) error) error {
	_, err := bounded(s, ctx, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

func (s *Store) now() time.Time { return s.cfg.clock() }

// sweepBatch is how many expired rows one janitor statement deletes, so a
// sweep never holds many locks or one long transaction.
const sweepBatch = 1000

// janitor deletes expired rows every sweep interval, in batches.
func (s *Store) janitor(ctx context.Context) {
	t := time.NewTicker(s.cfg.sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = s.Sweep(ctx)
	}
}

// Sweep deletes expired rows now, as the janitor does every sweep
// interval: batches of at most 1000 rows per table until none is left or
// the store's timeout passes for one batch. It returns how many it deleted.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for _, q := range s.q.sweeps {
		for ctx.Err() == nil {
			n, err := bounded(s, ctx, "sweep", func(ctx context.Context) (int64, error) {
				tag, err := s.pool.Exec(ctx, q, s.now(), sweepBatch)
				if err != nil {
					return 0, unavailable("sweep", err)
				}
				return tag.RowsAffected(), nil
			})
			total += n
			if err != nil {
				return total, err
			}
			if n < sweepBatch {
				break
			}
		}
	}
	return total, ctx.Err()
}

// queries are the statements, with the schema filled in.
type queries struct {
	users, sessions, revocations, marks, once, counters, totp string
	sweeps                                                    []string
}

func newQueries(schema string) queries {
	q := pgx.Identifier{schema}.Sanitize() + "."
	qs := queries{
		users: q + "users", sessions: q + "sessions", revocations: q + "revocations",
		marks: q + "user_marks", once: q + "used_once", counters: q + "counters",
		totp: q + "totp",
	}
	for _, t := range []struct{ table, col string }{
		{qs.revocations, "expires_at"}, {qs.marks, "expires_at"}, {qs.once, "expires_at"},
		{qs.counters, "expires_at"}, {qs.sessions, "idle_expires_at"},
	} {
		qs.sweeps = append(qs.sweeps, `DELETE FROM `+t.table+` WHERE ctid = ANY(ARRAY(SELECT ctid FROM `+t.table+
			` WHERE `+t.col+` <= $1 LIMIT $2))`)
	}
	return qs
}
