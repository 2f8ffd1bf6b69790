package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

// A database that answers reads but refuses writes (here: every session
// read-only, as on a hot standby) fails CheckWrite while Ping passes, so
// /healthz can tell.
func TestCheckWriteReadOnly(t *testing.T) {
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	s, err := postgres.New(pool, postgres.WithSchema(schema))
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	must(t, s.CheckWrite(ctx))

	pc, err := pgxpool.ParseConfig(pgtest.URL())
	must(t, err)
	pc.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	ro, err := pgxpool.NewWithConfig(ctx, pc)
	must(t, err)
	t.Cleanup(ro.Close)
	rs, err := postgres.New(ro, postgres.WithSchema(schema), postgres.WithoutAutoMigrate(), postgres.WithoutLocalView())
	must(t, err)
	t.Cleanup(func() { _ = rs.Close() })
	must(t, rs.Ping(ctx))
	if err := rs.CheckWrite(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CheckWrite on a read-only database = %v; want ErrUnavailable", err)
	}
}
