package token

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheCapacity is the number of verified tokens a [Cache] keeps when
// [NewCache] is given 0. An entry costs about 1.2 KiB with a typical access
// token (the token string, its claims and bookkeeping), so a full default
// cache holds about 40 MiB (TestCacheDefaultFullMemory measures it).
const DefaultCacheCapacity = 32 << 10

// Cache remembers tokens that passed full verification, so that a later
// verification of the same token string skips the signature and JSON work.
// Give it to one verifier with [WithCache] or [JWTVerifier.Cached].
//
// It changes nothing about what is accepted:
//   - it is keyed by the exact token string (compared in full, never by
//     hash alone), and only tokens that passed every check enter it;
//     failures are never cached;
//   - on every hit the expected type must equal the one the token was
//     verified for, and exp, nbf and iat are checked again against the
//     verifier's clock with its leeway, so an entry is never served past
//     the token's exp (plus the leeway a fresh verification would allow);
//   - on every hit the key the token was verified with must still be the
//     one its key source returns for its kid: a key removed from a
//     [KeySet] (or replaced under the same kid) invalidates every entry it
//     verified, in O(1) per hit;
//   - revocation is not the cache's business: callers (the auth
//     middleware) run their revocation checks on every request, hit or
//     miss.
//
// Memory is bounded by the capacity. The cache is split into shards by a
// keyed hash of the token; a hit normally reads one atomic slot of its
// shard's index and takes no lock (a token whose slot another holds falls
// back to the shard's read lock), and it writes nothing shared once the
// entry's reference bit is set, so hits scale with cores. Each shard evicts by CLOCK (second chance): a hit
// only sets a bit (no list to reorder, so no write lock on the hit path as
// LRU would need), and an insertion sweeps the hand past recently used
// entries, taking expired and invalidated ones first; amortised O(1).
//
// Admission: while a shard has room (fewer entries than its share of the
// capacity: expired and invalidated ones leave as they are met), every
// verified token enters it. Once it is full, a token enters on its second
// verified miss only, and only if no more than about capacity other
// verified tokens were left out in between (a doorkeeper: one table slot
// per entry remembers the last token left out there; tokens that fail
// verification never touch it). A token the cache could not serve again
// before evicting it — used once, or one of a working set far larger than
// the cache — then costs a miss no more than verifying without a cache
// would, instead of a copy, an insertion and an eviction that are never
// repaid; a token in use is admitted on its second request and hits from
// its third.
//
// A Cache is safe for concurrent use.
type Cache struct {
	seed     maphash.Seed
	shards   []cacheShard
	mask     uint64
	perShard int
	owner    atomic.Pointer[JWTVerifier]
	// seen is the doorkeeper: the hash of the last verified token left
	// out at each slot.
	seen []atomic.Uint64
	// A miss ends in exactly one of an insertion, a pass (verified, not
	// admitted) or a failure: Misses is their sum, one count per miss.
	fails   atomic.Uint64
	passes  atomic.Uint64
	inserts atomic.Uint64
	evicts  atomic.Uint64
}

type cacheShard struct {
	// idx is a direct-mapped index over m that hits read without any
	// lock or shared write. It is only a hint: a slot may hold an evicted
	// entry (still a verified token: every hit re-runs the checks) or
	// another token (the exact string decides), and a token whose slot
	// another took is found in m under the read lock.
	idx  []atomic.Pointer[cacheEntry]
	mu   sync.RWMutex
	m    map[uint64]*cacheEntry
	ring []*cacheEntry // CLOCK slots; an entry not in m is free
	hand int
	live atomic.Int32 // len(m), for admit to read without the lock
	_    [64]byte     // keep neighbouring shards' locks off one cache line
}

// cacheEntry is immutable once published, except ref.
type cacheEntry struct {
	tok  string
	hash uint64
	key  *Key
	typ  Type
	// The time rules of a full verification, precomputed with the
	// verifier's leeway: served while validFrom <= now < expAt.
	expAt     time.Time // exp + leeway
	validFrom time.Time // max(nbf, iat) - leeway; zero when neither is set
	extra     any       // *T of the VerifyInto call that inserted it, or nil
	ref       atomic.Bool
	slot      int // index in its shard's ring; guarded by the shard's mu
	// v holds the claims hits copy out (their arrays shared, capped); it
	// is never handed out itself.
	v verified
}

// CacheStats describes a Cache at one moment.
type CacheStats struct {
	// Entries is the number of tokens held; Capacity its bound.
	Entries, Capacity int
	// Misses counts verifications that did not find a usable entry;
	// Inserts the tokens added; Evictions the entries pushed out to make
	// room (expired and invalidated ones included); NotAdmitted the
	// verified tokens left out by the doorkeeper (see [Cache]).
	Misses, Inserts, Evictions, NotAdmitted uint64
}

// NewCache returns a cache holding at most capacity verified tokens; 0
// means [DefaultCacheCapacity]. A negative capacity is refused.
func NewCache(capacity int) (*Cache, error) {
	if capacity < 0 {
		return nil, fmt.Errorf("%w: negative cache capacity", ErrInvalidConfig)
	}
	if capacity == 0 {
		capacity = DefaultCacheCapacity
	}
	// Up to 64 shards, each of at least 16 entries when there is room:
	// enough to spread 2–64 cores' hits, few enough that CLOCK sees a
	// useful history per shard.
	n := 1
	for n < 64 && capacity/(n*2) >= 16 {
		n *= 2
	}
	c := &Cache{
		seed:     maphash.MakeSeed(),
		shards:   make([]cacheShard, n),
		mask:     uint64(n - 1),
		perShard: capacity / n, // total never exceeds capacity
	}
	slots := 2
	for slots < 2*c.perShard {
		slots *= 2
	}
	c.seen = make([]atomic.Uint64, slots/2*n) // a power of two ≥ capacity
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
		c.shards[i].idx = make([]atomic.Pointer[cacheEntry], slots)
	}
	return c, nil
}

// Stats returns the cache's counters and size.
func (c *Cache) Stats() CacheStats {
	s := CacheStats{
		Capacity: c.perShard * len(c.shards),
		Inserts:  c.inserts.Load(), Evictions: c.evicts.Load(), NotAdmitted: c.passes.Load(),
	}
	s.Misses = s.Inserts + s.NotAdmitted + c.fails.Load()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		s.Entries += len(sh.m)
		sh.mu.RUnlock()
	}
	return s
}

// bind makes v the cache's only verifier: entries depend on v's issuer,
// audience and key source, so two verifiers must not share one cache.
func (c *Cache) bind(v *JWTVerifier) error {
	if !c.owner.CompareAndSwap(nil, v) {
		return fmt.Errorf("%w: the cache already serves another verifier", ErrInvalidConfig)
	}
	return nil
}

func (c *Cache) shard(h uint64) *cacheShard { return &c.shards[(h>>32)&c.mask] }

// admit reports whether a token that missed, of hash h, is to be inserted
// once verified: always while its shard has room, and then on a second
// miss that finds it still remembered by the doorkeeper.
func (c *Cache) admit(h uint64) bool {
	return int(c.shard(h).live.Load()) < c.perShard || c.seenSlot(h).Load() == h
}

// remember records in the doorkeeper a token that was verified but not
// admitted. Only verified tokens are remembered, so that requests with
// tokens that fail cannot make the cache forget the ones in use.
func (c *Cache) remember(h uint64) {
	c.seenSlot(h).Store(h)
	c.passes.Add(1)
}

func (c *Cache) seenSlot(h uint64) *atomic.Uint64 { return &c.seen[h&uint64(len(c.seen)-1)] }

// get returns the entry for tok, or nil. The caller checks its validity.
func (c *Cache) get(h uint64, tok string) *cacheEntry {
	sh := c.shard(h)
	e := sh.slot(h).Load()
	if e == nil || e.hash != h || e.tok != tok {
		sh.mu.RLock()
		e = sh.m[h]
		sh.mu.RUnlock()
		if e == nil || e.tok != tok {
			return nil
		}
	}
	if !e.ref.Load() { // read before write: a hot entry's line stays shared
		e.ref.Store(true)
	}
	return e
}

func (sh *cacheShard) slot(h uint64) *atomic.Pointer[cacheEntry] {
	return &sh.idx[h&uint64(len(sh.idx)-1)]
}

// link makes e the entry for its hash; the caller holds sh.mu.
func (sh *cacheShard) link(e *cacheEntry) {
	sh.m[e.hash] = e
	sh.slot(e.hash).Store(e)
	sh.live.Store(int32(len(sh.m)))
}

// unlink removes e; the caller holds sh.mu.
func (sh *cacheShard) unlink(e *cacheEntry) {
	delete(sh.m, e.hash)
	sh.slot(e.hash).CompareAndSwap(e, nil)
	sh.live.Store(int32(len(sh.m)))
}

// drop removes e if it is still the entry for its hash.
func (c *Cache) drop(e *cacheEntry) {
	sh := c.shard(e.hash)
	sh.mu.Lock()
	if sh.m[e.hash] == e {
		sh.unlink(e)
	}
	sh.mu.Unlock()
}

// put inserts e, replacing any entry with the same hash (the same token
// verified again, or a colliding one: the exact string decides on lookup).
// Entries that cannot be served at now or later go first.
func (c *Cache) put(e *cacheEntry, now time.Time) {
	if c.perShard == 0 {
		return
	}
	sh := c.shard(e.hash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c.inserts.Add(1)
	if old, ok := sh.m[e.hash]; ok {
		e.slot = old.slot
		sh.ring[e.slot] = e
		sh.link(e)
		return
	}
	if len(sh.ring) < c.perShard {
		e.slot = len(sh.ring)
		sh.ring = append(sh.ring, e)
		sh.link(e)
		return
	}
	// CLOCK: free and dead slots first, then the first entry not used
	// since the hand last passed. Two turns at most: the first clears
	// every bit.
	for range 2 * len(sh.ring) {
		i := sh.hand
		sh.hand++
		if sh.hand == len(sh.ring) {
			sh.hand = 0
		}
		r := sh.ring[i]
		live := sh.m[r.hash] == r
		if live && r.ref.Load() && now.Before(r.expAt) {
			r.ref.Store(false)
			continue
		}
		if live {
			sh.unlink(r)
			c.evicts.Add(1)
		}
		e.slot = i
		sh.ring[i] = e
		sh.link(e)
		return
	}
}

// hashTail is how much of a token's end the cache hashes: the last bytes
// of its signature, as unpredictable as the signature itself, so no
// two tokens a key signed share them unless they are the same token. The
// hash only places an entry; the exact string decides every lookup, so
// tokens sharing a tail (forgeries, which fail verification and never
// enter) cost a lookup no more than any other miss.
const hashTail = 32

func (c *Cache) hash(tok string) uint64 {
	if len(tok) > hashTail {
		tok = tok[len(tok)-hashTail:]
	}
	return maphash.String(c.seed, tok)
}

// init fills e from the verification that produced e.v: tok is the
// entry's own copy of the token.
func (e *cacheEntry) init(h uint64, tok string, key *Key, typ Type, lw time.Duration, in *inClaims, extra any) {
	e.tok, e.hash, e.key, e.typ, e.extra = tok, h, key, typ, extra
	e.expAt = time.Unix(in.Exp.sec, 0).Add(lw)
	// now.Add(lw).Before(t) is now.Before(t.Add(-lw)): the same instant.
	for _, d := range []numericDate{in.Nbf, in.Iat} {
		if t := time.Unix(d.sec, 0).Add(-lw); d.present && (e.validFrom.IsZero() || t.After(e.validFrom)) {
			e.validFrom = t
		}
	}
	// Capped, so that a caller's append never writes into the arrays.
	cl := &e.v.claims
	cl.Audience = cl.Audience[:len(cl.Audience):len(cl.Audience)]
	cl.Roles = cl.Roles[:len(cl.Roles):len(cl.Roles)]
}

// cloneString copies s so the cache does not pin a larger buffer s may be
// part of (a request's header block, say).
func cloneString(s string) string { return strings.Clone(s) }

// servable applies the time rules of a full verification to an entry.
func (e *cacheEntry) servable(now time.Time) bool {
	return now.Before(e.expAt) && (e.validFrom.IsZero() || !now.Before(e.validFrom))
}

// timesValid applies the time rules of a full verification.
func (v *JWTVerifier) timesValid(now time.Time, exp int64, nbf, iat numericDate) error {
	lw := v.cfg.leeway
	// RFC 7519 §4.1.4: valid only while now is before exp.
	if !now.Before(time.Unix(exp, 0).Add(lw)) {
		return ErrExpired
	}
	if nbf.present && now.Add(lw).Before(time.Unix(nbf.sec, 0)) {
		return fmt.Errorf("%w: nbf in the future", ErrNotYetValid)
	}
	if iat.present && now.Add(lw).Before(time.Unix(iat.sec, 0)) {
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	return nil
}
