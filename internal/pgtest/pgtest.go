// Package pgtest finds the PostgreSQL that gatekeep's tests talk to:
// DATABASE_URL, or postgres://postgres@127.0.0.1:5432/test. Without one, a
// test skips with a message — or fails when the CI variable is set, so
// that CI never passes by skipping the PostgreSQL tests. Each test gets a
// schema of its own, dropped when it ends. Test code only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/internal/redistest"
)

// URL returns DATABASE_URL, or postgres://postgres@127.0.0.1:5432/test.
func URL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Pool returns a pool on the test database, closed when t ends. Without a
// database that answers it calls [Unavailable]. An unparsable
// DATABASE_URL fails the test without printing it: it may hold a password.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pc, err := pgxpool.ParseConfig(URL())
	if err != nil {
		t.Fatal("DATABASE_URL cannot be parsed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err == nil {
		err = p.Ping(ctx)
		if err != nil {
			p.Close()
		}
	}
	if err != nil {
		Unavailable(t, "no PostgreSQL answers at "+pc.ConnConfig.Host+" (set DATABASE_URL, or start one with database test)")
	}
	t.Cleanup(p.Close)
	return p
}

// Schema returns a schema name of its own for one test, and drops that
// schema (CASCADE) on pool when the test ends.
func Schema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gktest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() { Drop(t, pool, name) })
	return name
}

// Drop drops schema and everything in it.
func Drop(t testing.TB, pool *pgxpool.Pool, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
		t.Logf("cleanup of schema %s: %v", schema, err)
	}
}

// Unavailable skips t for a missing dependency, or fails it when CI is set.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	redistest.Unavailable(t, why)
}
