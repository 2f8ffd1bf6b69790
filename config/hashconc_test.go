package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

func TestPasswordHashConcurrency(t *testing.T) {
	from := func(v string) (config.Config, error) {
		return config.FromLookup(func(k string) (string, bool) {
			if k == "PASSWORD_HASH_CONCURRENCY" {
				return v, true
			}
			return "", false
		})
	}
	cfg, err := from("3")
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.PasswordHashConcurrency)
	for _, bad := range []string{"-1", "two", "1.5"} {
		_, err := from(bad)
		assert.ErrorIs(t, err, config.ErrInvalid, bad)
		assert.ErrorContains(t, err, "config: PASSWORD_HASH_CONCURRENCY: want", bad)
	}
	def, err := config.FromLookup(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, 0, def.PasswordHashConcurrency, "unset: auth's default, half the cores")
}
