package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/: NNNN_name.sql, applied in
// order, each exactly once.
type migration struct {
	version int
	sql     string
}

// migrations returns the embedded migrations in order; their numbers run
// 1, 2, 3... without a gap (a test checks it).
func migrations() []migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	var ms []migration
	for _, n := range names {
		num, _, _ := strings.Cut(path.Base(n), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			panic("postgres: migration " + n + " has no number")
		}
		b, _ := migrationFiles.ReadFile(n)
		ms = append(ms, migration{v, string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms
}

// SchemaVersion is the schema version this code migrates to and serves.
var SchemaVersion = len(migrations())

// Migrate creates the schema ([WithSchema], default "gatekeep") and applies
// every embedded migration it lacks, in one transaction under an advisory
// lock, so two instances starting together apply each migration once and
// neither sees a half-migrated schema. The applied version is recorded in
// the schema's schema_version table. A schema at a later version than
// this code knows is refused with an error wrapping [ErrSchemaVersion]
// and left unchanged. Only [WithSchema] matters among opts.
//
// [New] and [Open] call it unless [WithoutAutoMigrate] is given; call it
// yourself when migrations are a deployment step of their own.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if pool == nil {
		return invalid("migrate", "nil pool")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	cfg.localView = false
	if err := cfg.validate(); err != nil {
		return err
	}
	return migrate(ctx, pool, cfg.schema)
}

func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	const op = "migrate"
	q := pgx.Identifier{schema}.Sanitize()
	ms := migrations()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// One lock per schema, held to the end of the transaction.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('gatekeep migrate ' || $1, 0))`, schema); err != nil {
			return unavailable(op, err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+q); err != nil {
			return unavailable(op, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+q+`.schema_version (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return unavailable(op, err)
		}
		var cur int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+q+`.schema_version`).Scan(&cur); err != nil {
			return unavailable(op, err)
		}
		if cur > len(ms) {
			return tooNew(schema, cur)
		}
		for _, m := range ms[cur:] {
			if _, err := tx.Exec(ctx, strings.ReplaceAll(m.sql, "{schema}", q)); err != nil {
				return unavailable(fmt.Sprintf("%s to version %d", op, m.version), err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+q+`.schema_version (version) VALUES ($1)`, m.version); err != nil {
				return unavailable(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

// checkVersion refuses a schema that is not at [SchemaVersion].
func checkVersion(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	var cur int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+pgx.Identifier{schema}.Sanitize()+`.schema_version`).Scan(&cur)
	if undefinedTable(err) {
		cur, err = 0, nil
	}
	if err != nil {
		return unavailable("check schema version", err)
	}
	switch {
	case cur > SchemaVersion:
		return tooNew(schema, cur)
	case cur < SchemaVersion:
		return fmt.Errorf("%w: schema %q is at version %d, this gatekeep needs %d: run postgres.Migrate (or drop WithoutAutoMigrate)",
			ErrSchemaVersion, schema, cur, SchemaVersion)
	}
	return nil
}

func tooNew(schema string, cur int) error {
	return fmt.Errorf("%w: schema %q is at version %d, newer than this gatekeep's %d: upgrade gatekeep, or give this one a schema of its own",
		ErrSchemaVersion, schema, cur, SchemaVersion)
}

// migrateBound bounds the migration New runs: long enough to wait for
// another instance's migration, short enough to fail a start.
func migrateBound(timeout time.Duration) time.Duration { return max(30*time.Second, 10*timeout) }
