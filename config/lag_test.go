package config_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/redis"
)

func TestRevocationMaxLagParse(t *testing.T) {
	for _, row := range []struct {
		value string
		want  time.Duration
		err   string
	}{
		{"", 250 * time.Millisecond, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"100ms", 100 * time.Millisecond, ""},
		{"60s", time.Minute, ""},
		{"5ms", 0, `config: REVOCATION_MAX_LAG: want 0 (no local view) or a Go duration from 10ms to 60s, got "5ms"`},
		{"2m", 0, `config: REVOCATION_MAX_LAG: want 0 (no local view) or a Go duration from 10ms to 60s, got "2m"`},
		{"soon", 0, "config: REVOCATION_MAX_LAG: want "},
	} {
		t.Run(row.value, func(t *testing.T) {
			env := map[string]string{"JWT_SECRET": secret32, "AUTH_STORE": "redis", "REVOCATION_MAX_LAG": row.value}
			cfg, err := config.FromLookup(lookup(env))
			if row.err != "" {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), row.err), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, row.want, cfg.RevocationMaxLag)
		})
	}
}

// The bound REVOCATION_MAX_LAG states holds between two instances on one
// Redis while both processes' CPUs are busy (as password hashing makes
// them): a revocation acknowledged on A is enforced on B by any check that
// starts that long after the acknowledgement. The bound is the
// configuration's, not a timing of our code; with 0 it is immediate.
func TestRevocationMaxLagHoldsAcrossInstances(t *testing.T) {
	for _, lag := range []string{"0", "40ms", "250ms"} {
		t.Run(lag, func(t *testing.T) {
			_, prefix := needRedis(t)
			env := map[string]string{
				"JWT_SECRET": secret32, "AUTH_STORE": "redis", "REDIS_URL": redistest.URL(),
				"REVOCATION_MAX_LAG": lag,
			}
			cfg, err := config.FromLookup(lookup(env))
			require.NoError(t, err)
			opts := []config.BuildOption{config.WithRedisOptions(redis.WithPrefix(prefix))}
			a := build(t, cfg, opts...)
			b := build(t, cfg, opts...)
			ctx := context.Background()

			// Load every core, as concurrent logins do.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sum := sha256.Sum256(nil)
					for {
						select {
						case <-stop:
							return
						default:
							for range 1000 {
								sum = sha256.Sum256(sum[:])
							}
						}
					}
				}()
			}
			defer func() { close(stop); wg.Wait() }()

			issued := time.Now().Add(-time.Second)
			for i := range 30 {
				id := fmt.Sprintf("sid-%d", i)
				// Warm B's view with a check that passes before the revocation.
				// Under this load a round trip to Redis may time out: that
				// answer is "revoked" (fail closed), never a pass, so only a
				// pass after the bound is a failure of the bound.
				revoked, err := b.Store.IsRevoked(ctx, store.Check{SessionID: id, IssuedAt: issued})
				if err != nil {
					require.ErrorIs(t, err, store.ErrUnavailable)
					require.True(t, revoked, "an error answers revoked")
				} else {
					require.False(t, revoked)
				}
				require.NoError(t, a.Store.Revoke(ctx, id, time.Now().Add(time.Hour)))
				acked := time.Now()
				time.Sleep(time.Until(acked.Add(cfg.RevocationMaxLag)))
				revoked, err = b.Store.IsRevoked(ctx, store.Check{SessionID: id, IssuedAt: issued})
				if err != nil {
					require.ErrorIs(t, err, store.ErrUnavailable)
				}
				require.True(t, revoked, "round %d: a revocation acknowledged %s ago on A passed on B (REVOCATION_MAX_LAG=%s)", i, time.Since(acked), lag)
			}
		})
	}
}
