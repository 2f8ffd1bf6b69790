package rotation_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

// redisStores returns n stores, each on a client of its own (n instances
// of an application), sharing one fresh prefix on the test Redis.
func redisStores(t *testing.T, n int) []*redisstore.Store {
	t.Helper()
	redistest.Client(t) // skips (or fails under CI) without a Redis
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "gktest-rot-" + hex.EncodeToString(b[:])
	out := make([]*redisstore.Store, n)
	for i := range out {
		opt := redistest.Options(t)
		opt.ContextTimeoutEnabled = true
		c := goredis.NewClient(opt)
		s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithTimeout(5*time.Second)) // a loaded CI machine
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); _ = c.Close() })
		out[i] = s
	}
	t.Cleanup(func() {
		c := goredis.NewClient(redistest.Options(t))
		defer c.Close()
		ctx := context.Background()
		it := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			c.Del(ctx, it.Val())
		}
	})
	return out
}

// TestTwoInstancesOnRedis: two instances on one Redis through several
// rotations, each reloading every reload interval at its own moment,
// while workers sign on either and verify on both: no instance ever signs
// a token the other cannot verify, long-lived tokens of a retired key
// verify until their own expiry, and each JWK Set holds the ring's keys.
func TestTwoInstancesOnRedis(t *testing.T) {
	ctx := context.Background()
	sts := redisStores(t, 2)
	clk := newClock()
	kek := newKEK(t)
	a := newInstance(t, sts[0], kek, token.ES256, clk, nil)
	b := newInstance(t, sts[1], kek, token.ES256, clk, nil)
	ins := []*instance{a, b}

	var signed, verified atomic.Int64
	// work signs on one instance and verifies on both, rounds times.
	work := func(w, rounds int) error {
		for i := range rounds {
			by := (w + i) % 2
			tok, err := ins[by].s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: clk.Now().Add(accessTTL)})
			if err != nil {
				return fmt.Errorf("Sign: %w", err)
			}
			signed.Add(1)
			for j, on := range ins {
				if _, err := on.v.Verify(ctx, token.Access, tok); err != nil {
					return fmt.Errorf("instance %d cannot verify a token of instance %d (kid %s): %w", j, by, kidOf(t, tok), err)
				}
				verified.Add(1)
			}
		}
		return nil
	}

	// Long-lived tokens, one signed by each instance every five minutes,
	// kept and checked on both until they expire.
	type longTok struct {
		tok string
		exp time.Time
	}
	var long []longTok
	longTTL := retain - time.Minute
	const tick = 15 * time.Second
	ticks := int((4*every + retain + 2*reload) / tick)
	var activeSeen []string
	for n := range ticks {
		clk.Advance(tick)
		// Each reloads every 30 s, A and B at different moments, while
		// four workers sign and verify.
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i, in := range ins {
			if (n+i)%2 == 0 {
				wg.Add(1)
				go func() { defer wg.Done(); errs[4+i] = in.r.Sync(ctx) }()
			}
		}
		for w := range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); errs[w] = work(w, 3) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("tick %d: %v", n, err)
		}
		for i, in := range ins {
			if (n+i)%2 != 0 {
				continue
			}
			ring, err := sts[i].SigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			actives := 0
			for _, k := range ring.Keys {
				want[k.ID] = true
				if k.State == store.KeyActive {
					actives++
					if len(activeSeen) == 0 || activeSeen[len(activeSeen)-1] != k.ID {
						activeSeen = append(activeSeen, k.ID)
					}
				}
			}
			if actives != 1 {
				t.Fatalf("tick %d: %d active keys in the ring", n, actives)
			}
			if got := jwksKids(in); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("tick %d: instance %d's JWK Set holds %v, the ring %v", n, i, got, want)
			}
		}
		if n%20 == 0 && n < ticks-int(longTTL/tick)-1 {
			for _, in := range ins {
				tok, err := in.s.Sign(token.Refresh, &token.Claims{Subject: "u", ExpiresAt: clk.Now().Add(longTTL)})
				if err != nil {
					t.Fatal(err)
				}
				long = append(long, longTok{tok, clk.Now().Add(longTTL)})
			}
		}
		kept := long[:0]
		for _, lt := range long {
			if !clk.Now().Before(lt.exp.Add(-time.Second)) {
				continue
			}
			for i, in := range ins {
				if _, err := in.v.Verify(ctx, token.Refresh, lt.tok); err != nil {
					t.Fatalf("tick %d: instance %d refuses a long-lived token of kid %s before its expiry: %v", n, i, kidOf(t, lt.tok), err)
				}
			}
			kept = append(kept, lt)
		}
		long = kept
	}
	if len(activeSeen) < 5 {
		t.Fatalf("only %d keys were active over the run, want at least 5 (four rotations)", len(activeSeen))
	}
	if signed.Load() < 10000 {
		t.Errorf("only %d tokens signed across the rotations, want thousands", signed.Load())
	}
	t.Logf("%d rotations, %d tokens signed, %d verifications", len(activeSeen)-1, signed.Load(), verified.Load())

	// The first key has retired and gone from both instances.
	for i, in := range ins {
		if _, err := in.r.LookupKey(ctx, activeSeen[0]); !errors.Is(err, token.ErrUnknownKey) {
			t.Errorf("instance %d still knows the first key after its retirement: %v", i, err)
		}
		if jwksKids(in)[activeSeen[0]] {
			t.Errorf("instance %d still publishes the first key", i)
		}
	}
}

// crashStore is a real store with a crash at a chosen write: with
// applied, the write reaches the store and the instance dies before it
// learns the result; without, it dies before the write leaves. Every call
// after the crash fails, as in a stopped process.
type crashStore struct {
	store.KeyStore
	crashAt int32 // the write (1, 2, ...) at which to crash; 0 never
	applied bool
	writes  atomic.Int32
	crashed atomic.Bool
}

var errCrashed = fmt.Errorf("crashed: %w", store.ErrUnavailable)

func (c *crashStore) write(f func() (int64, error)) (int64, error) {
	if c.crashed.Load() {
		return 0, errCrashed
	}
	if c.writes.Add(1) == c.crashAt {
		c.crashed.Store(true)
		if c.applied {
			_, _ = f()
		}
		return 0, errCrashed
	}
	return f()
}

func (c *crashStore) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.KeyStore.SigningKeys(ctx)
}

func (c *crashStore) CreateSigningKey(ctx context.Context, v int64, k *store.SigningKey) (int64, error) {
	return c.write(func() (int64, error) { return c.KeyStore.CreateSigningKey(ctx, v, k) })
}

func (c *crashStore) ActivateSigningKey(ctx context.Context, v int64, id string, at, ret time.Time) (int64, error) {
	return c.write(func() (int64, error) { return c.KeyStore.ActivateSigningKey(ctx, v, id, at, ret) })
}

func (c *crashStore) DeleteSigningKey(ctx context.Context, v int64, id string) (int64, error) {
	return c.write(func() (int64, error) { return c.KeyStore.DeleteSigningKey(ctx, v, id) })
}

// TestCrashMidRotation: the instance performing a step stops at that
// write, before or after it reaches Redis; the other finishes or redoes
// the step. No key is lost, never two are active, and tokens of every key
// verify on the survivor until they expire.
func TestCrashMidRotation(t *testing.T) {
	// A's writes: 1 creates the first key (at New), 2 the next key, 3
	// activates it, 4 creates the following next key, 5 deletes the
	// first key.
	for _, row := range []struct {
		name    string
		crashAt int32
		applied bool
	}{
		{"after creating the next key", 2, true},
		{"before creating the next key", 2, false},
		{"after activating", 3, true},
		{"before activating", 3, false},
		{"after deleting a retired key", 5, true},
		{"before deleting a retired key", 5, false},
	} {
		t.Run(row.name, func(t *testing.T) {
			ctx := context.Background()
			sts := redisStores(t, 2)
			clk := newClock()
			kek := newKEK(t)
			cs := &crashStore{KeyStore: sts[0], crashAt: row.crashAt, applied: row.applied}
			a := newInstance(t, cs, kek, token.ES256, clk, nil)
			b := newInstance(t, sts[1], kek, token.ES256, clk, nil)

			var toks []string
			var everActive []string
			const tick = 30 * time.Second
			for n := range int((3*every + retain) / tick) {
				clk.Advance(tick)
				if !cs.crashed.Load() {
					_ = a.r.Sync(ctx) // A syncs first: it performs the steps, until it crashes
					if cs.crashed.Load() {
						_ = a.r.Close()
					}
				}
				b.sync(t)
				s := states(t, sts[1])
				if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) > 1 {
					t.Fatalf("tick %d: ring %v, want one active and at most one next", n, s)
				}
				if act := s[store.KeyActive][0]; len(everActive) == 0 || everActive[len(everActive)-1] != act {
					everActive = append(everActive, act)
				}
				if got := b.r.KeySet().Active().KID(); got != s[store.KeyActive][0] {
					t.Fatalf("tick %d: B signs with %q, the ring's active key is %q", n, got, s[store.KeyActive][0])
				}
				toks = append(toks, b.sign(t, clk))
				if !cs.crashed.Load() {
					toks = append(toks, a.sign(t, clk))
				}
				// Every unexpired token verifies on the survivor.
				keep := toks[:0]
				for _, tok := range toks {
					if _, err := b.v.Verify(ctx, token.Access, tok); err != nil {
						if errors.Is(err, token.ErrExpired) {
							continue
						}
						t.Fatalf("tick %d: B refuses a live token of kid %s: %v", n, kidOf(t, tok), err)
					}
					keep = append(keep, tok)
				}
				toks = keep
			}
			if !cs.crashed.Load() {
				t.Fatalf("A never reached write %d", row.crashAt)
			}
			if len(everActive) < 3 {
				t.Errorf("rotation stalled after the crash: active keys over the run %v", everActive)
			}
		})
	}
}

// TestBackgroundReloads: with the real clock and no Sync of the test's
// own, the instances' background reloads alone rotate the key several
// times while tokens signed on either verify on both.
func TestBackgroundReloads(t *testing.T) {
	ctx := context.Background()
	sts := redisStores(t, 2)
	kek := newKEK(t)
	quiet := slog.New(slog.DiscardHandler)
	var ins []*instance
	for _, st := range sts {
		r, err := rotation.New(ctx, st, kek, token.EdDSA, 1500*time.Millisecond, rotation.WithPrepublish(time.Second),
			rotation.WithReloadInterval(100*time.Millisecond), rotation.WithRetain(time.Second), rotation.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		s, _ := token.NewSigner(r.KeySet())
		v, _ := token.NewVerifier(r)
		ins = append(ins, &instance{r: r, s: s, v: v})
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(6 * time.Second)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		by := ins[n%2]
		tok, err := by.s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		seen[kidOf(t, tok)] = true
		for i, on := range ins {
			if _, err := on.v.Verify(ctx, token.Access, tok); err != nil {
				t.Fatalf("instance %d refuses a token of instance %d: %v", i, n%2, err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("tokens were signed under %d kids in 6 s of rotation every 1.5 s, want at least 3", len(seen))
	}
	t.Logf("%d tokens under %d kids", n, len(seen))
}

// TestRedisAnnouncesChanges: on Redis an instance loads another's change
// at once, through the ring's channel, long before its own next reload.
func TestRedisAnnouncesChanges(t *testing.T) {
	sts := redisStores(t, 2)
	clk := newClock()
	kek := newKEK(t)
	slow := []rotation.Option{rotation.WithReloadInterval(50 * time.Minute), rotation.WithPrepublish(50 * time.Minute)}
	a := newInstance(t, sts[0], kek, token.ES256, clk, nil, slow...)
	b := newInstance(t, sts[1], kek, token.ES256, clk, nil, slow...)
	first := b.r.Version()
	clk.Advance(every)
	a.sync(t) // creates the next key
	deadline := time.Now().Add(5 * time.Second)
	for b.r.Version() == first {
		if time.Now().After(deadline) {
			t.Fatalf("B did not load A's change within 5 s (its own reload is 50 minutes away)")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(b.r.KeySet().Keys()) != 2 {
		t.Errorf("B holds %v after the announcement, want the active and the next one of %v", b.r.KeySet().Keys(), states(t, sts[0]))
	}
}
