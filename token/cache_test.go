package token_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/token"
)

// Set moves the clock of jwks_test.go to t.
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type cacheFixture struct {
	ks    *token.KeySet
	s     *token.JWTSigner
	v     *token.JWTVerifier
	cache *token.Cache
	clk   *fakeClock
}

func newCacheFixture(t testing.TB, capacity int, keys ...*token.Key) *cacheFixture {
	t.Helper()
	if len(keys) == 0 {
		keys = []*token.Key{keyFor(t, token.HS256, "hs")}
	}
	ks, err := token.NewKeySet(keys[0], keys[1:]...)
	require.NoError(t, err)
	clk := newFakeClock()
	c, err := token.NewCache(capacity)
	require.NoError(t, err)
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clk.Now)}
	s, err := token.NewSigner(ks, opts...)
	require.NoError(t, err)
	v, err := token.NewVerifier(ks, append(opts, token.WithCache(c))...)
	require.NoError(t, err)
	return &cacheFixture{ks: ks, s: s, v: v, cache: c, clk: clk}
}

func (f *cacheFixture) sign(t testing.TB, typ token.Type, c *token.Claims) string {
	t.Helper()
	if c == nil {
		c = &token.Claims{Subject: "u1", SessionID: "s1", Roles: []string{"user", "editor", "viewer"}}
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = f.clk.Now().Add(15 * time.Minute)
	}
	tok, err := f.s.Sign(typ, c)
	require.NoError(t, err)
	return tok
}

func TestCacheHitAndMiss(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	tok := f.sign(t, token.Access, nil)
	first, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	second, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	require.Equal(t, first, second)
	st := f.cache.Stats()
	require.Equal(t, uint64(1), st.Misses, "second verification was not a hit")
	require.Equal(t, 1, st.Entries)
	require.Equal(t, token.DefaultCacheCapacity, st.Capacity)

	// A hit hands out its own Claims: reassigning fields or appending
	// changes nothing for the next caller.
	second.Subject = "admin"
	second.Roles = append(second.Roles, "admin")
	third, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	require.Equal(t, "u1", third.Subject)
	require.Equal(t, []string{"user", "editor", "viewer"}, third.Roles)

	// Another token is a miss.
	_, err = f.v.Verify(ctx, token.Access, f.sign(t, token.Access, nil))
	require.NoError(t, err)
	require.Equal(t, uint64(2), f.cache.Stats().Misses)
}

// TestCacheAdmission: once the cache is full, a token enters on its second
// miss only, so tokens used once never push out the ones in use.
func TestCacheAdmission(t *testing.T) {
	const capacity = 16 // one shard
	f := newCacheFixture(t, capacity)
	ctx := context.Background()
	sign := func(i int) string {
		return f.sign(t, token.Access, &token.Claims{Subject: fmt.Sprint("u", i), ID: fmt.Sprint("j", i)})
	}
	verify := func(tok string) {
		t.Helper()
		_, err := f.v.Verify(ctx, token.Access, tok)
		require.NoError(t, err)
	}
	hot := make([]string, capacity)
	for i := range hot {
		hot[i] = sign(i)
		verify(hot[i]) // room: every token enters on its first miss
	}
	st := f.cache.Stats()
	require.Equal(t, capacity, st.Entries)
	require.Equal(t, uint64(capacity), st.Inserts)

	// One-off tokens: verified, not admitted, nothing evicted.
	for i := range 100 {
		verify(sign(capacity + i))
	}
	st = f.cache.Stats()
	require.Equal(t, uint64(capacity), st.Inserts, "a token seen once entered a full cache")
	require.Equal(t, uint64(100), st.NotAdmitted)
	require.Zero(t, st.Evictions)
	misses := st.Misses
	for _, tok := range hot {
		verify(tok)
	}
	require.Equal(t, misses, f.cache.Stats().Misses, "the tokens in use were pushed out")

	// A token in use: its second miss admits it, its third request hits,
	// however many tokens that fail verification come in between.
	tok := sign(1000)
	verify(tok)
	for i := range 1000 {
		_, err := f.v.Verify(ctx, token.Access, fmt.Sprintf("garbage.%d.x", i))
		require.Error(t, err)
		if forged := tok[:len(tok)-3] + fmt.Sprintf("%03d", i); forged != tok {
			_, err = f.v.Verify(ctx, token.Access, forged)
			require.Error(t, err)
		}
	}
	require.Equal(t, uint64(101), f.cache.Stats().NotAdmitted, "failures counted as left out")
	verify(tok)
	st = f.cache.Stats()
	require.Equal(t, uint64(capacity+1), st.Inserts)
	require.Equal(t, uint64(1), st.Evictions)
	require.Equal(t, capacity, st.Entries)
	verify(tok)
	require.Equal(t, st.Misses, f.cache.Stats().Misses, "an admitted token missed")
}

func TestCacheNeverCachesFailures(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	tok := f.sign(t, token.Access, nil)
	bad := tok[:len(tok)-2] + "AA" // attack: foreign signature
	expired := f.sign(t, token.Access, &token.Claims{Subject: "u", ExpiresAt: f.clk.Now().Add(-time.Hour)})
	for i := 0; i < 3; i++ {
		_, err := f.v.Verify(ctx, token.Access, bad)
		require.ErrorIs(t, err, token.ErrSignature)
		_, err = f.v.Verify(ctx, token.Access, expired)
		require.ErrorIs(t, err, token.ErrExpired)
	}
	require.Equal(t, 0, f.cache.Stats().Entries)
	require.Equal(t, uint64(6), f.cache.Stats().Misses)
}

func TestCacheExpiryOnHit(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	exp := f.clk.Now().Add(time.Minute)
	tok := f.sign(t, token.Access, &token.Claims{Subject: "u", ExpiresAt: exp})
	_, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)

	// RFC 7519 §4.1.4 with the default 30s leeway: good one ns before
	// exp+30s, from the cache...
	f.clk.Set(exp.Add(token.DefaultLeeway - time.Nanosecond))
	_, err = f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	require.Equal(t, uint64(1), f.cache.Stats().Misses)
	// ...and expired at exp+30s, though it is cached.
	f.clk.Set(exp.Add(token.DefaultLeeway))
	c, err := f.v.Verify(ctx, token.Access, tok)
	require.ErrorIs(t, err, token.ErrExpired)
	require.Nil(t, c)
	require.Equal(t, 0, f.cache.Stats().Entries, "expired entry kept")
}

func TestCacheNotBeforeOnHit(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	nbf := f.clk.Now()
	tok := f.sign(t, token.Access, &token.Claims{Subject: "u", NotBefore: nbf, IssuedAt: nbf.Add(-time.Hour)})
	_, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	// The clock steps back (NTP): a cached token is not yet valid again.
	f.clk.Set(nbf.Add(-token.DefaultLeeway - time.Second))
	_, err = f.v.Verify(ctx, token.Access, tok)
	require.ErrorIs(t, err, token.ErrNotYetValid)
	f.clk.Set(nbf)
	_, err = f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
}

func TestCacheIssuedAtOnHit(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	tok := f.sign(t, token.Access, nil) // iat = now
	_, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	f.clk.Add(-token.DefaultLeeway - time.Second)
	_, err = f.v.Verify(ctx, token.Access, tok)
	require.ErrorIs(t, err, token.ErrNotYetValid)
}

func TestCacheWrongTypeOnHit(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	refresh := f.sign(t, token.Refresh, nil)
	_, err := f.v.Verify(ctx, token.Refresh, refresh)
	require.NoError(t, err)
	// RFC 8725 §3.11: a cached refresh token is still no access token.
	for _, typ := range []token.Type{token.Access, token.Reset, token.MFA} {
		c, err := f.v.Verify(ctx, typ, refresh)
		require.ErrorIs(t, err, token.ErrWrongType)
		require.Nil(t, c)
	}
	_, err = f.v.Verify(ctx, token.Refresh, refresh)
	require.NoError(t, err)
}

func TestCacheKeyRemovalDropsEntries(t *testing.T) {
	oldK, newK := keyFor(t, token.ES256, "old"), keyFor(t, token.EdDSA, "new")
	f := newCacheFixture(t, 0, oldK, newK)
	ctx := context.Background()
	var oldToks []string
	for i := 0; i < 50; i++ {
		tok := f.sign(t, token.Access, nil)
		_, err := f.v.Verify(ctx, token.Access, tok)
		require.NoError(t, err)
		oldToks = append(oldToks, tok)
	}
	require.NoError(t, f.ks.SetActive("new"))
	newTok := f.sign(t, token.Access, nil)
	_, err := f.v.Verify(ctx, token.Access, newTok)
	require.NoError(t, err)
	require.Equal(t, 51, f.cache.Stats().Entries)

	require.NoError(t, f.ks.Remove("old"))
	for _, tok := range oldToks {
		c, err := f.v.Verify(ctx, token.Access, tok)
		require.ErrorIs(t, err, token.ErrUnknownKey)
		require.Nil(t, c)
	}
	_, err = f.v.Verify(ctx, token.Access, newTok)
	require.NoError(t, err)
	require.Equal(t, 1, f.cache.Stats().Entries)

	// attack: a different key put back under the old kid does not inherit
	// the old key's cached tokens.
	require.NoError(t, f.ks.Add(keyFor(t, token.HS256, "old")))
	_, err = f.v.Verify(ctx, token.Access, oldToks[0])
	require.Error(t, err)
}

func TestCacheVerifyInto(t *testing.T) {
	f := newCacheFixture(t, 0)
	ctx := context.Background()
	type app struct {
		Name string `json:"preferred_username"`
	}
	tok := f.sign(t, token.Access, &token.Claims{Subject: "u", Extra: app{"alice"}})
	// Verify first: the entry has no application claims yet.
	_, err := f.v.Verify(ctx, token.Access, tok)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		var got app
		c, err := token.VerifyInto(ctx, f.v, token.Access, tok, &got)
		require.NoError(t, err)
		require.Equal(t, "alice", got.Name)
		require.Equal(t, "u", c.Subject)
	}
	require.Equal(t, uint64(2), f.cache.Stats().Misses, "VerifyInto hits did not use the cache")
	// Another type of extra is decoded afresh, never mis-assigned.
	var other struct {
		Sub string `json:"sub"`
	}
	_, err = token.VerifyInto(ctx, f.v, token.Access, tok, &other)
	require.NoError(t, err)
	require.Equal(t, "u", other.Sub)
}

func TestCacheConfiguration(t *testing.T) {
	_, err := token.NewCache(-1)
	require.ErrorIs(t, err, token.ErrInvalidConfig)
	_, err = token.NewVerifier(mustSet(t), token.WithCache(nil))
	require.ErrorIs(t, err, token.ErrInvalidConfig)

	c, err := token.NewCache(10)
	require.NoError(t, err)
	ks := mustSet(t)
	v, err := token.NewVerifier(ks, token.WithCache(c))
	require.NoError(t, err)
	require.Same(t, c, v.Cache())
	// One cache, one verifier: entries depend on its issuer, audience
	// and keys.
	_, err = token.NewVerifier(ks, token.WithIssuer("other"), token.WithCache(c))
	require.ErrorIs(t, err, token.ErrInvalidConfig)

	bare, err := token.NewVerifier(ks)
	require.NoError(t, err)
	require.Nil(t, bare.Cache(), "a bare verifier caches nothing")
	c2, err := token.NewCache(0)
	require.NoError(t, err)
	cached, err := bare.Cached(c2)
	require.NoError(t, err)
	require.Same(t, c2, cached.Cache())
	require.Nil(t, bare.Cache())
	_, err = bare.Cached(c2)
	require.ErrorIs(t, err, token.ErrInvalidConfig)
	_, err = bare.Cached(nil)
	require.ErrorIs(t, err, token.ErrInvalidConfig)
	// A signer given the same option list ignores the cache.
	_, err = token.NewSigner(ks, token.WithCache(c))
	require.NoError(t, err)
}

// TestCacheCapacityBound loads 100 000 distinct valid tokens through a
// cache of 10 000, requests drawn with a Zipf skew (a few users are busy,
// most are not), and reports the hit rate.
func TestCacheCapacityBound(t *testing.T) {
	const distinct, capacity, requests = 100_000, 10_000, 300_000
	n := distinct
	if testing.Short() || raceEnabled {
		n = distinct / 10 // same shape, fewer signatures under -race
	}
	f := newCacheFixture(t, capacity)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.sign(t, token.Access, &token.Claims{Subject: fmt.Sprint("u", i), SessionID: "s", ID: fmt.Sprint("j", i)})
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(n-1))
	reqs := requests * n / distinct
	for i := 0; i < reqs; i++ {
		tok := toks[zipf.Uint64()]
		if _, err := f.v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			require.LessOrEqual(t, f.cache.Stats().Entries, capacity)
		}
	}
	// Then every token once, in order: the worst case for any cache.
	for _, tok := range toks {
		_, err := f.v.Verify(ctx, token.Access, tok)
		require.NoError(t, err)
	}
	st := f.cache.Stats()
	require.LessOrEqual(t, st.Entries, capacity)
	require.LessOrEqual(t, st.Capacity, capacity)
	total := uint64(reqs + n)
	hitRate := float64(total-st.Misses) / float64(total)
	t.Logf("%d distinct tokens, capacity %d, %d requests (Zipf s=1.1, then a scan): hit rate %.1f%%, %d evictions, %d entries",
		n, capacity, total, 100*hitRate, st.Evictions, st.Entries)
	require.Greater(t, hitRate, 0.3, "CLOCK lost the hot set")
}

// TestCacheBytesPerEntry measures the heap an entry costs with a gatekeep
// access token (sub, sid, jti, iat, exp, iss, aud, 3 roles, HS256).
func TestCacheBytesPerEntry(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	const n = 10_000
	f := newCacheFixture(t, 4*n) // room in every shard: all n stay
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.sign(t, token.Access, nil)
	}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		if _, err := f.v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, n, f.cache.Stats().Entries)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per entry (token %d bytes); default capacity %d ≈ %.1f MiB",
		per, len(toks[0]), token.DefaultCacheCapacity, per*token.DefaultCacheCapacity/(1<<20))
	require.Less(t, per, 2048.0)
	runtime.KeepAlive(toks)
}

// TestCacheConcurrent hammers one cache from many goroutines while keys
// rotate and are removed (run with -race): no token of a removed key is
// accepted once Remove has returned.
func TestCacheConcurrent(t *testing.T) {
	a, b := keyFor(t, token.HS256, "a"), keyFor(t, token.HS256, "b")
	f := newCacheFixture(t, 64, a, b) // small: constant eviction
	ctx := context.Background()
	var aToks, bToks []string
	for i := 0; i < 100; i++ {
		aToks = append(aToks, f.sign(t, token.Access, nil))
	}
	require.NoError(t, f.ks.SetActive("b"))
	for i := 0; i < 100; i++ {
		bToks = append(bToks, f.sign(t, token.Access, nil))
	}
	var removed atomic.Bool
	var wg, warm sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		warm.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if i == 50 {
					warm.Done() // a's tokens are in the cache by now
				}
				tok := bToks[(i*7+g)%len(bToks)]
				if _, err := f.v.Verify(ctx, token.Access, tok); err != nil {
					t.Error(err)
				}
				wasRemoved := removed.Load()
				_, err := f.v.Verify(ctx, token.Access, aToks[(i+g)%len(aToks)])
				if wasRemoved && err == nil {
					t.Error("token of a removed key accepted")
				}
			}
		}(g)
	}
	warm.Wait()
	require.NoError(t, f.ks.Remove("a"))
	removed.Store(true)
	wg.Wait()
	require.LessOrEqual(t, f.cache.Stats().Entries, 64)
}
