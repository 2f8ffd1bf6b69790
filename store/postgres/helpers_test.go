package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

// The test database (internal/pgtest): DATABASE_URL, or
// postgres://postgres@127.0.0.1:5432/test; without one the tests skip,
// or fail when CI is set.
var needPool = pgtest.Pool

// newStore returns a Store in a schema of its own on pool, closed (and the
// schema dropped) at cleanup.
func newStore(t testing.TB, pool *pgxpool.Pool, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	opts = append([]postgres.Option{postgres.WithSchema(pgtest.Schema(t, pool))}, opts...)
	s, err := postgres.New(pool, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isRevoked(t testing.TB, s *postgres.Store, c store.Check) bool {
	t.Helper()
	r, err := s.IsRevoked(context.Background(), c)
	if err != nil {
		t.Fatalf("IsRevoked(%+v): %v", c, err)
	}
	return r
}

// eventually polls cond every millisecond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}
