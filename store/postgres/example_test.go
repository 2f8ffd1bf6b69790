package postgres_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

// A Store on a pool the application owns. The example has no Output line,
// so it is compiled but not run: it needs a PostgreSQL.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // the Store never closes a pool it was handed

	// Migrates the schema "gatekeep" (users, sessions, revocations, ...).
	st, err := postgres.New(pool)
	if err != nil {
		log.Fatal(err) // wraps store.ErrUnavailable, or ErrSchemaVersion
	}
	defer st.Close()

	// Logout: the token's id is revoked until the token would expire anyway.
	exp := time.Now().Add(15 * time.Minute)
	if err := st.Revoke(ctx, "jti-123", exp); err != nil {
		log.Fatal(err)
	}
	// On every request: answered from the local view, no round trip.
	revoked, err := st.IsRevoked(ctx, store.Check{TokenID: "jti-123", UserID: "u1", IssuedAt: time.Now()})
	if err != nil {
		log.Fatal(err) // fail closed: refuse the request
	}
	fmt.Println("revoked:", revoked)
}

// Migrations as a deployment step of their own: Migrate once, then start
// every instance WithoutAutoMigrate, which refuses a schema at another
// version.
func ExampleMigrate() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://owner@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, postgres.WithSchema("auth")); err != nil {
		log.Fatal(err)
	}

	st, err := postgres.Open(ctx, "postgres://app@127.0.0.1:5432/app",
		postgres.WithSchema("auth"), postgres.WithoutAutoMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // closes the pool Open made
}
