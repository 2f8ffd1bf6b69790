package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatekeep/gatekeep/store"
)

// ErrClosed is returned (wrapping [store.ErrUnavailable]) by every operation
// on a Store after [Store.Close].
var ErrClosed = fmt.Errorf("postgres: store closed: %w", store.ErrUnavailable)

// ErrSchemaVersion means the schema is not at the version this code
// knows: newer (a later gatekeep migrated it; upgrade this one), or older
// under [WithoutAutoMigrate] (run [Migrate]). It wraps
// [store.ErrUnavailable]: the store cannot serve.
var ErrSchemaVersion = fmt.Errorf("postgres: schema version mismatch: %w", store.ErrUnavailable)

// maxKey is the longest id, username or key the store accepts, in bytes:
// PostgreSQL's B-tree indexes refuse entries past about 2.7 kB, and a
// notification carries at most 8000 bytes.
const maxKey = 1024

// unavailable wraps a fault of the database or of the connection to it.
// pgx's error text names the server, the SQLSTATE and constraints, never
// the values we send (those travel as parameters) nor a password.
func unavailable(op string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
}

// ctxDone returns an ErrUnavailable-wrapping error when ctx is already
// done, so a cancelled call fails closed even when it could answer locally.
func ctxDone(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

func invalid(op, why string) error {
	return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrInvalid, why)
}

func notFound(op string) error { return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound) }

func conflict(op, why string) error {
	return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrConflict, why)
}

// uniqueViolation returns the constraint a unique_violation (23505) broke,
// or "" for any other error.
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

// undefinedTable reports whether err is undefined_table (42P01) or
// invalid_schema_name (3F000).
func undefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000")
}
