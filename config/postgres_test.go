package config_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

func TestBuildPostgres(t *testing.T) {
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	env := map[string]string{
		"JWT_SECRET": secret32, "AUTH_STORE": "postgres", "DATABASE_URL": pgtest.URL(), "POSTGRES_SCHEMA": schema,
		"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "admin-password-Zq9",
	}
	cfg, err := config.FromLookup(lookup(env))
	require.NoError(t, err)
	log, logs := testLogger()

	st := build(t, cfg, config.WithLogger(log))
	assert.IsType(t, &postgres.Store{}, st.Store)
	roundTrip(t, st, time.Now())
	var id string
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT id FROM "`+schema+`".users WHERE username = 'admin'`).Scan(&id))

	// A second instance on the same database sees the admin and creates none.
	st2 := build(t, cfg, config.WithLogger(log))
	u2, err := st2.Store.UserByUsername(context.Background(), "admin")
	require.NoError(t, err)
	assert.Equal(t, id, u2.ID)
	assert.Equal(t, 1, strings.Count(logs.String(), "created the admin user"))
	assert.NotContains(t, logs.String(), "admin-password-Zq9")
}

// An unreachable database at start is one line naming DATABASE_URL,
// quickly, never a fallback to memory; the URL's password stays out of it.
func TestBuildPostgresRefused(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = secret32
	cfg.Store, cfg.DatabaseURL = config.StorePostgres, "postgres://gk:pw-Zq9s3@127.0.0.1:1/app?connect_timeout=2"
	start := time.Now()
	st, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.Error(t, err)
	assert.Nil(t, st)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.True(t, strings.HasPrefix(err.Error(), "config: DATABASE_URL: want a PostgreSQL that answers at start"), err.Error())
	// The cause, once, on a plain line.
	assert.Equal(t, 1, strings.Count(err.Error(), "connect: connection refused"), err.Error())
	assert.NotContains(t, err.Error(), "\t")
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.ErrorIs(t, err, store.ErrUnavailable)
	assert.NotContains(t, err.Error(), "Zq9s3")
	assert.NotContains(t, err.Error(), "\n")

	for _, r := range []struct {
		env    map[string]string
		prefix string
	}{
		{map[string]string{"AUTH_STORE": "postgres"}, "config: DATABASE_URL: want postgres://"},
		{map[string]string{"AUTH_STORE": "postgres", "DATABASE_URL": "mysql://u:pw-Zq9s3@h/db"}, "config: DATABASE_URL: want a postgres:// or postgresql:// URL"},
		{map[string]string{"AUTH_STORE": "postgres", "DATABASE_URL": "postgres://h/db", "POSTGRES_SCHEMA": "Auth-1"}, `config: POSTGRES_SCHEMA: want 1 to 48 characters`},
	} {
		_, err := config.FromLookup(lookup(r.env))
		require.Error(t, err, r.env)
		assert.True(t, strings.HasPrefix(err.Error(), r.prefix), err.Error())
		assert.NotContains(t, err.Error(), "Zq9s3")
	}
	cfg.DatabaseURL = "postgres://gk:pw-Zq9s3@[::1:5432/app"
	_, err = config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: DATABASE_URL: want a database URL store/postgres accepts"), err.Error())
	assert.NotContains(t, err.Error(), "Zq9s3")
}
