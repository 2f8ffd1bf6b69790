package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeys lists the ring and rotates it by hand on a real bolt file:
// create the next key, refuse to activate it before its pre-publication,
// activate it after; never key material in the output.
func TestKeys(t *testing.T) {
	env := map[string]string{
		"AUTH_STORE": "bolt", "BOLT_PATH": filepath.Join(t.TempDir(), "gatekeep.db"),
		"JWT_ALG": "ES256", "JWT_ROTATE_EVERY": "720h", "JWT_KEY_PREPUBLISH": "30s",
		"JWT_KEY_ENCRYPTION_KEY": strings.Repeat("0f", 32),
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	run := func(at time.Time, a ...string) result {
		return gk(t, invocation{args: a, env: env, now: at})
	}
	list := func(at time.Time) []keyJSON {
		r := run(at, "keys", "list", "-json")
		require.Equal(t, exitOK, r.code, r.stderr)
		var keys []keyJSON
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &keys))
		assert.NotContains(t, r.stdout, "sealed")
		return keys
	}
	first := list(now) // the first server start (here, the tool's Build) made the first key
	require.Len(t, first, 1)
	assert.Equal(t, "active", first[0].State)
	assert.Equal(t, "ES256", first[0].Algorithm)

	r := run(now, "keys", "rotate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "created the next key")
	keys := list(now)
	require.Len(t, keys, 2)

	r = run(now.Add(10*time.Second), "keys", "rotate")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "published since less than JWT_KEY_PREPUBLISH; run again from 2030-01-02T03:04:35Z")

	r = run(now.Add(31*time.Second), "keys", "rotate", "-json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var step map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &step))
	assert.Equal(t, "activated", step["action"])
	states := map[string]string{}
	for _, k := range list(now.Add(31 * time.Second)) {
		states[k.Kid] = k.State
	}
	assert.Equal(t, "retiring", states[first[0].Kid])
	assert.Equal(t, "active", states[step["kid"]])

	human := run(now.Add(31*time.Second), "keys", "list")
	require.Equal(t, exitOK, human.code, human.stderr)
	assert.Contains(t, human.stdout, "KID")
	assert.Contains(t, human.stdout, "retiring")

	// Without automatic rotation there is nothing to rotate.
	delete(env, "JWT_ROTATE_EVERY")
	delete(env, "JWT_KEY_PREPUBLISH")
	r = run(now, "keys", "rotate")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "automatic rotation is off")
	r = run(now, "keys", "list", "extra")
	assert.Equal(t, exitUsage, r.code)
}
