package config_test

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/redistest"
)

// With AUTH_STORE unset, one store variable moves the store, with a note.
func TestStoreVariableSelectsStore(t *testing.T) {
	for _, row := range []struct {
		env  map[string]string
		want config.StoreKind
		note string
	}{
		{nil, config.StoreMemory, ""},
		{map[string]string{"REDIS_URL": "redis://10.0.0.5:6379/0"}, config.StoreRedis, "REDIS_URL selects the redis store"},
		{map[string]string{"BOLT_PATH": "/var/lib/gk.db"}, config.StoreBolt, "BOLT_PATH selects the bolt store"},
		{map[string]string{"DATABASE_URL": "postgres://app@db/app"}, config.StorePostgres, "DATABASE_URL selects the postgres store"},
		// An empty value is unset.
		{map[string]string{"REDIS_URL": " ", "BOLT_PATH": "/var/lib/gk.db"}, config.StoreBolt, "BOLT_PATH selects"},
		// AUTH_STORE, when set, decides.
		{map[string]string{"AUTH_STORE": "memory", "REDIS_URL": "redis://10.0.0.5:6379/0", "BOLT_PATH": "x.db"}, config.StoreMemory, ""},
		{map[string]string{"AUTH_STORE": "bolt", "REDIS_URL": "redis://10.0.0.5:6379/0", "DATABASE_URL": "postgres://db/app"}, config.StoreBolt, ""},
	} {
		c, err := config.FromLookup(lookup(row.env))
		require.NoError(t, err, "%v", row.env)
		assert.Equal(t, row.want, c.Store, "%v", row.env)
		if row.note == "" {
			assert.Empty(t, c.Notes(), "%v", row.env)
		} else if assert.Len(t, c.Notes(), 1) {
			assert.Contains(t, c.Notes()[0], "AUTH_STORE is unset: "+row.note)
		}
	}
}

// Two store variables without AUTH_STORE: an error naming both (never a
// value: the URLs may hold passwords).
func TestTwoStoreVariablesWithoutAuthStore(t *testing.T) {
	for _, row := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"REDIS_URL": "redis://:pw-Zq9s3@h:6379", "BOLT_PATH": "x.db"}, "when REDIS_URL and BOLT_PATH are both set"},
		{map[string]string{"BOLT_PATH": "x.db", "DATABASE_URL": "postgres://u:pw-Zq9s3@h/db"}, "when BOLT_PATH and DATABASE_URL are both set"},
		{map[string]string{"REDIS_URL": "redis://:pw-Zq9s3@h:6379", "DATABASE_URL": "postgres://u:pw-Zq9s3@h/db"}, "when REDIS_URL and DATABASE_URL are both set"},
		{map[string]string{"REDIS_URL": "redis://h:6379", "BOLT_PATH": "x.db", "DATABASE_URL": "postgres://h/db"}, "when REDIS_URL, BOLT_PATH and DATABASE_URL are all set"},
	} {
		_, err := config.FromLookup(lookup(row.env))
		require.ErrorIs(t, err, config.ErrInvalid)
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "config: AUTH_STORE: want it set to memory, bolt, redis or postgres "+row.want), msg)
		assert.NotContains(t, msg, "Zq9s3")
	}
}

func TestRedisPrefixVariable(t *testing.T) {
	c, err := config.FromLookup(lookup(nil))
	require.NoError(t, err)
	assert.Equal(t, "gatekeep", c.RedisPrefix)
	c, err = config.FromLookup(lookup(map[string]string{"REDIS_URL": "redis://h:6379", "REDIS_PREFIX": " app1.prod "}))
	require.NoError(t, err)
	assert.Equal(t, "app1.prod", c.RedisPrefix)
	for _, bad := range []string{"app:1", "{app}", strings.Repeat("p", 65), "app 1"} {
		_, err = config.FromLookup(lookup(map[string]string{"AUTH_STORE": "redis", "REDIS_PREFIX": bad}))
		require.ErrorIs(t, err, config.ErrInvalid, bad)
		assert.True(t, strings.HasPrefix(err.Error(), "config: REDIS_PREFIX: want 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', got "), err.Error())
	}
}

// REDIS_PREFIX puts every key of the built store under that prefix, on a
// real Redis.
func TestRedisPrefixBuild(t *testing.T) {
	rc := redistest.Client(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "gkcfg-" + hex.EncodeToString(b[:])
	cfg, err := config.FromLookup(lookup(map[string]string{
		"JWT_SECRET": secret32, "REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix,
		"ADMIN_USERNAME": "prefixed", "ADMIN_PASSWORD": "prefixed-password",
	}))
	require.NoError(t, err)
	require.Equal(t, config.StoreRedis, cfg.Store)
	var logs syncBuffer
	st, err := config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	assert.Contains(t, logs.String(), "AUTH_STORE is unset: REDIS_URL selects the redis store")

	keys, err := rc.Keys(t.Context(), "{"+prefix+":*").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, keys, "no key under the prefix")
	t.Cleanup(func() {
		if len(keys) > 0 {
			rc.Del(t.Context(), keys...)
		}
	})
}
