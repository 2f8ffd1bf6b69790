package postgres_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

func TestMigrateConcurrentlyOnce(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = postgres.Migrate(t.Context(), pool, postgres.WithSchema(schema)) })
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	var n, v int
	must(t, pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM "`+schema+`".schema_version`).Scan(&n, &v))
	if n != postgres.SchemaVersion || v != postgres.SchemaVersion {
		t.Errorf("schema_version holds %d rows up to %d, want %d rows up to %d", n, v, postgres.SchemaVersion, postgres.SchemaVersion)
	}
}

func TestWithoutAutoMigrate(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	_, err := postgres.New(pool, postgres.WithSchema(schema), postgres.WithoutAutoMigrate())
	if !errors.Is(err, postgres.ErrSchemaVersion) {
		t.Fatalf("New on an empty schema WithoutAutoMigrate: %v, want ErrSchemaVersion", err)
	}
	must(t, postgres.Migrate(t.Context(), pool, postgres.WithSchema(schema)))
	s, err := postgres.New(pool, postgres.WithSchema(schema), postgres.WithoutAutoMigrate())
	must(t, err)
	_ = s.Close()
}

func TestNewerSchemaRefused(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	must(t, postgres.Migrate(t.Context(), pool, postgres.WithSchema(schema)))
	_, err := pool.Exec(t.Context(), `INSERT INTO "`+schema+`".schema_version (version) VALUES ($1)`, postgres.SchemaVersion+1)
	must(t, err)
	for _, auto := range []bool{true, false} {
		opts := []postgres.Option{postgres.WithSchema(schema)}
		if !auto {
			opts = append(opts, postgres.WithoutAutoMigrate())
		}
		_, err := postgres.New(pool, opts...)
		if !errors.Is(err, postgres.ErrSchemaVersion) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("auto-migrate %v: New on a newer schema: %v, want ErrSchemaVersion", auto, err)
		}
		t.Logf("auto-migrate %v: %v", auto, err)
	}
	if err := postgres.Migrate(t.Context(), pool, postgres.WithSchema(schema)); !errors.Is(err, postgres.ErrSchemaVersion) {
		t.Errorf("Migrate on a newer schema: %v, want ErrSchemaVersion", err)
	}
}

func TestOptionsRefused(t *testing.T) {
	pool := needPool(t)
	for _, o := range []postgres.Option{
		postgres.WithSchema(""), postgres.WithSchema("Gate"), postgres.WithSchema("1x"), postgres.WithSchema(`a"b`),
		postgres.WithTimeout(0), postgres.WithViewMaxLag(postgres.DefaultPingIntervalForTest), postgres.WithSweepInterval(0),
	} {
		if _, err := postgres.New(pool, o); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("New with a bad option: %v, want ErrInvalid", err)
		}
	}
	if _, err := postgres.New(nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New(nil): %v, want ErrInvalid", err)
	}
}

func TestOpenUnreachableAndBadURL(t *testing.T) {
	ctx := t.Context()
	_, err := postgres.Open(ctx, "postgres://gk:s3cret-pw@127.0.0.1:1/none?connect_timeout=2")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of a closed port: %v, want ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the error repeats the password: %v", err)
	}
	_, err = postgres.Open(ctx, "postgres://gk:s3cret-pw@[::1:5432/x")
	if !errors.Is(err, store.ErrInvalid) || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open of a malformed URL: %v, want ErrInvalid without the password", err)
	}
}
