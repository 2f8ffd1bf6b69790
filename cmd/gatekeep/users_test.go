package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/redis"
)

// backend is a store the environment selects, as a server would see it.
type backend struct {
	env  map[string]string
	opts []config.BuildOption
}

func boltBackend(t *testing.T) backend {
	return backend{env: map[string]string{
		"AUTH_STORE": "bolt", "BOLT_PATH": filepath.Join(t.TempDir(), "gatekeep.db"), "JWT_SECRET": testSecret,
	}}
}

func redisBackend(t *testing.T) backend {
	rc := redistest.Client(t) // skips (or fails under CI) without a Redis
	prefix := fmt.Sprintf("gk-cli-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		// store/redis puts the prefix in a hash tag: {prefix:u}, {prefix:r}...
		iter := rc.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rc.Del(ctx, iter.Val())
		}
	})
	return backend{
		env:  map[string]string{"AUTH_STORE": "redis", "REDIS_URL": redistest.URL(), "JWT_SECRET": testSecret},
		opts: []config.BuildOption{config.WithRedisOptions(redis.WithPrefix(prefix))},
	}
}

func postgresBackend(t *testing.T) backend {
	pool := pgtest.Pool(t) // skips (or fails under CI) without a PostgreSQL
	return backend{env: map[string]string{
		"AUTH_STORE": "postgres", "DATABASE_URL": pgtest.URL(), "POSTGRES_SCHEMA": pgtest.Schema(t, pool), "JWT_SECRET": testSecret,
	}}
}

func (b backend) run(t *testing.T, stdin string, a ...string) result {
	t.Helper()
	return gk(t, invocation{args: a, stdin: stdin, env: b.env, opts: b.opts})
}

// server builds the stack a server would build on the same store, for as
// long as f runs (bolt allows one process at a time).
func (b backend) server(t *testing.T, f func(st *config.Stack)) {
	t.Helper()
	cfg, err := config.FromLookup(mapLookup(b.env))
	require.NoError(t, err)
	st, err := config.Build(t.Context(), cfg, b.opts...)
	require.NoError(t, err)
	defer st.Close()
	f(st)
}

func login(t *testing.T, st *config.Stack, username, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	st.Auth.LoginHandler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp.AccessToken
}

func TestUsersBolt(t *testing.T)     { testUsers(t, boltBackend(t)) }
func TestUsersRedis(t *testing.T)    { testUsers(t, redisBackend(t)) }
func TestUsersPostgres(t *testing.T) { testUsers(t, postgresBackend(t)) }

func testUsers(t *testing.T, b backend) {
	const pw = "correct horse battery"

	// create
	r := b.run(t, pw+"\n", "users", "create", "-username", "Alice", "-email", "alice@example.com", "-json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var alice userJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &alice))
	assert.Equal(t, "alice", alice.Username, "stored canonical")
	assert.Equal(t, []string{"user"}, alice.Roles)
	assert.NotContains(t, r.stdout+r.stderr, pw)
	assert.NotContains(t, r.stdout, "argon2id", "never a hash")

	r = b.run(t, pw+"\n", "users", "create", "-username", "bob", "-roles", "admin,user")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "(bob) with roles admin,user")

	for _, tc := range []struct {
		name, stdin, stderr string
		args                []string
		code                int
	}{
		{name: "username taken (canonical)", stdin: pw, args: args("users", "create", "-username", "ALICE"), code: exitFailure, stderr: `the username "alice" is taken`},
		{name: "short password", stdin: "pw1234", args: args("users", "create", "-username", "carol"), code: exitFailure, stderr: "password too short"},
		{name: "no password", args: args("users", "create", "-username", "carol"), code: exitFailure, stderr: "no password"},
		{name: "no username", stdin: pw, args: args("users", "create"), code: exitUsage, stderr: "-username is required"},
		{name: "bad email", stdin: pw, args: args("users", "create", "-username", "carol", "-email", "Carol <c@x.io>"), code: exitUsage},
		{name: "username too long", stdin: pw, args: args("users", "create", "-username", strings.Repeat("a", 129)), code: exitUsage, stderr: "at most 128 bytes"},
		{name: "role twice", stdin: pw, args: args("users", "create", "-username", "carol", "-roles", "a,a"), code: exitUsage, stderr: "twice"},
		{name: "set-roles unknown user", args: args("users", "set-roles", "nobody", "admin"), code: exitFailure, stderr: `no user has the id or username "nobody"`},
		{name: "set-roles needs two arguments", args: args("users", "set-roles", "alice"), code: exitUsage},
		{name: "delete needs a user", args: args("users", "delete"), code: exitUsage},
		{name: "unknown subcommand", args: args("users", "purge"), code: exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.run(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}

	// list, in both forms, never with a hash
	r = b.run(t, "", "users", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `(?m)^ID +USERNAME +EMAIL +ROLES +CREATED$`, r.stdout)
	assert.Regexp(t, `(?m)^`+alice.ID+` +alice +alice@example.com +user +`, r.stdout)
	assert.NotContains(t, r.stdout, "$argon2id$")
	r = b.run(t, "", "users", "list", "-json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var list []userJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 2)

	// The password the tool hashed logs in on the server; sessions list sees it.
	var access string
	b.server(t, func(st *config.Stack) { access = login(t, st, "alice", pw) })
	r = b.run(t, "", "sessions", "list", "-json", "alice")
	require.Equal(t, exitOK, r.code, r.stderr)
	var sessions []sessionJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sessions))
	require.Len(t, sessions, 1)
	r = b.run(t, "", "sessions", "list", alice.ID)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, sessions[0].ID)

	// revoke-sessions ends the session and its access token at once.
	r = b.run(t, "", "users", "revoke-sessions", "alice")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1 live session(s) ended")
	b.server(t, func(st *config.Stack) {
		_, err := st.Auth.AuthenticateToken(t.Context(), access)
		assert.ErrorIs(t, err, auth.ErrRevoked)
		access = login(t, st, "alice", pw)
	})

	// set-roles takes effect and, as the admin API, ends the sessions.
	r = b.run(t, "", "users", "set-roles", "alice", "editor,user")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "now has roles editor,user")
	b.server(t, func(st *config.Stack) {
		u, err := st.Store.UserByUsername(t.Context(), "alice")
		require.NoError(t, err)
		assert.Equal(t, []string{"editor", "user"}, u.Roles)
		_, err = st.Auth.AuthenticateToken(t.Context(), access)
		assert.ErrorIs(t, err, auth.ErrRevoked)
	})
	r = b.run(t, "", "users", "set-roles", "alice", "")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "now has roles -")

	// delete
	r = b.run(t, "", "users", "delete", "bob")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = b.run(t, "", "users", "delete", "bob")
	assert.Equal(t, exitFailure, r.code)
	b.server(t, func(st *config.Stack) {
		_, err := st.Store.UserByUsername(t.Context(), "bob")
		assert.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestUsersMemoryRefused(t *testing.T) {
	for _, a := range [][]string{{"users", "list"}, {"users", "delete", "x"}, {"sessions", "list", "x"}} {
		r := gk(t, invocation{args: a, env: map[string]string{"JWT_SECRET": testSecret}})
		assert.Equal(t, exitFailure, r.code)
		assert.Equal(t, "gatekeep: "+errMemoryStore.Error()+"\n", r.stderr)
	}
}

func TestUsersStoreUnreachable(t *testing.T) {
	// A port nothing listens on: the error names REDIS_URL, as the server's does.
	r := gk(t, invocation{args: args("users", "list"), env: map[string]string{"AUTH_STORE": "redis", "REDIS_URL": "redis://:pw-Zq9s3@127.0.0.1:1/0", "JWT_SECRET": testSecret}})
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "gatekeep: config: REDIS_URL: want a Redis that answers at start")
	assert.Contains(t, r.stderr, "connect: connection refused", "the cause, in gatekeep's line")
	assert.NotContains(t, r.stderr, "pw-Zq9s3", "the URL's password")
}
