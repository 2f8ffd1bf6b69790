package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

// The local view: an in-process copy of the live revocations and user
// marks, kept by the revocation channel, so IsRevoked on a valid token
// costs no round trip. It is trusted only while provably caught up
// (DESIGN-NOTES §1):
//
//   - Every revocation is written and announced by one script, and Redis
//     delivers one channel's messages in the order it ran them.
//   - After every (re)subscribe the view is rebuilt from the keys (SCAN)
//     before it is trusted: messages sent while it was away are lost.
//   - The instance publishes its own ping every ping interval through the
//     ordinary client, so the ping reaches the node every write reaches.
//     A ping sent at t that comes back proves every revocation acknowledged
//     before t has arrived; the view is then trusted until t + max lag.
//   - Otherwise (no ping back in time, a broken subscription, a rebuild that
//     failed) IsRevoked asks Redis: stale means "ask Redis", never "allow".
//
// Revocations only grow (ids gain a later until, marks a later before), so
// merging the rebuild and the messages in any order gives the same view.
// Entries are dropped at their until, bounding memory by live revocations.
type view struct {
	s    *Store
	base time.Time // monotonic origin of fresh and of ping payloads
	inst string    // this instance's ping id

	// fresh is the monotonic time (ns since base) until which the view is
	// trusted; 0 when it is not.
	fresh atomic.Int64

	mu    sync.RWMutex
	ids   map[string]int64 // revoked token or session id -> until (unix ns)
	users map[string]mark

	psMu sync.Mutex
	ps   *goredis.PubSub
	done bool

	syncs  atomic.Int64 // completed rebuilds, for tests
	synced atomic.Bool  // subscribed and rebuilt: pings are worth sending
}

func newView(s *Store) *view {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &view{
		s: s, base: time.Now(), inst: hex.EncodeToString(b[:]),
		ids: make(map[string]int64), users: make(map[string]mark),
	}
}

// check answers c from the view; ok is false when the view is not
// trusted now and Redis must be asked.
func (v *view) check(c store.Check) (revoked, ok bool) {
	t := time.Now()
	if t.Sub(v.base) >= time.Duration(v.fresh.Load()) {
		return false, false
	}
	if v.s.cfg.customClock {
		t = v.s.cfg.clock()
	}
	now := t.UnixNano()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if u, hit := v.ids[c.TokenID]; hit && c.TokenID != "" && now < u {
		return true, true
	}
	if c.SessionID != "" {
		if u, hit := v.ids[c.SessionID]; hit && now < u {
			return true, true
		}
	}
	if m, hit := v.users[c.UserID]; hit && m.revokes(c.IssuedAt, now) {
		return true, true
	}
	return false, true
}

func (v *view) addID(id string, until int64) {
	v.mu.Lock()
	if until > v.ids[id] {
		v.ids[id] = until
	}
	v.mu.Unlock()
}

func (v *view) addMark(uid string, m mark) {
	v.mu.Lock()
	// An expired mark not swept yet is gone for Redis's script too: merging
	// with it would keep an old before alive here alone.
	cur, ok := v.users[uid]
	if ok && cur.until > v.s.now().UnixNano() {
		m.before = max(m.before, cur.before)
		m.until = max(m.until, cur.until)
	}
	v.users[uid] = m
	v.mu.Unlock()
}

// sweep drops entries whose until has passed.
func (v *view) sweep() {
	now := v.s.now().UnixNano()
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, u := range v.ids {
		if u <= now {
			delete(v.ids, id)
		}
	}
	for uid, m := range v.users {
		if m.until <= now {
			delete(v.users, uid)
		}
	}
}

func (v *view) distrust() { v.fresh.Store(0) }

// stop closes the current subscription so subscribeLoop returns.
func (v *view) stop() {
	v.psMu.Lock()
	defer v.psMu.Unlock()
	v.done = true
	if v.ps != nil {
		_ = v.ps.Close()
	}
}

// stallTimeout is how long a subscription may be silent before it is torn
// down: the instance's own pings arrive every ping interval.
func (v *view) stallTimeout() time.Duration { return max(time.Second, 4*v.s.cfg.maxLag) }

func (v *view) subscribeLoop(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		healthy := v.subscription(ctx)
		v.distrust()
		if healthy {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// subscription runs one subscription until it fails; it reports whether it
// got as far as a rebuild.
func (v *view) subscription(ctx context.Context) (healthy bool) {
	v.psMu.Lock()
	if v.done {
		v.psMu.Unlock()
		return false
	}
	// No channel yet, so no connection: stop never waits on a dial.
	var ps *goredis.PubSub
	if v.s.sharded {
		ps = v.s.c.SSubscribe(ctx)
	} else {
		ps = v.s.c.Subscribe(ctx)
	}
	v.ps = ps
	v.psMu.Unlock()
	defer func() { v.synced.Store(false); _ = ps.Close() }()

	sctx, cancel := context.WithTimeout(ctx, v.s.cfg.timeout)
	var err error
	if v.s.sharded {
		err = ps.SSubscribe(sctx, v.s.k.channel)
	} else {
		err = ps.Subscribe(sctx, v.s.k.channel)
	}
	cancel()
	if err != nil {
		return false
	}

	synced := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, v.stallTimeout())
		if err != nil {
			return healthy
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" && m.Kind != "ssubscribe" {
				return healthy // unsubscribed, e.g. the slot moved
			}
			v.distrust()
			synced = false
			v.synced.Store(false)
			if err := v.rebuild(ctx); err != nil {
				return healthy
			}
			synced, healthy = true, true
			v.synced.Store(true)
			v.syncs.Add(1)
		case *goredis.Message:
			v.apply(m.Payload, synced)
		}
	}
}

// apply applies one message: "i <until> <hex id>", "u <before><until>
// <hex user id>" or "p <instance> <sent ns since base>".
func (v *view) apply(payload string, synced bool) {
	kind, rest, _ := strings.Cut(payload, " ")
	a, b, _ := strings.Cut(rest, " ")
	switch kind {
	case "i":
		t, err1 := decTime(a)
		id, err2 := dec(b)
		if err1 == nil && err2 == nil {
			v.addID(id, t.UnixNano())
		}
	case "u":
		m, err1 := decMark(a)
		uid, err2 := dec(b)
		if err1 == nil && err2 == nil {
			v.addMark(uid, m)
		}
	case "p":
		if a != v.inst || !synced {
			return
		}
		sent, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return
		}
		until := sent + int64(v.s.cfg.maxLag)
		for {
			cur := v.fresh.Load()
			if until <= cur || v.fresh.CompareAndSwap(cur, until) {
				return
			}
		}
	}
}

// rebuild merges every revocation key into the view. It runs after the
// subscription is confirmed, so what it misses arrives as a message.
func (v *view) rebuild(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*v.s.cfg.timeout)
	defer cancel()
	var scanner goredis.Cmdable = v.s.c
	if cc, ok := v.s.c.(*goredis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, v.s.k.channel)
		if err != nil {
			return err
		}
		scanner = node
	}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		vals, err := v.s.c.MGet(ctx, batch...).Result()
		if err != nil {
			return err
		}
		for i, val := range vals {
			str, ok := val.(string)
			if !ok {
				continue // expired meanwhile
			}
			k := batch[i]
			switch {
			case strings.HasPrefix(k, v.s.k.revIDPfx):
				id, err1 := dec(k[len(v.s.k.revIDPfx):])
				t, err2 := decTime(str)
				if err1 == nil && err2 == nil {
					v.addID(id, t.UnixNano())
				}
			case strings.HasPrefix(k, v.s.k.revUsrPfx):
				uid, err1 := dec(k[len(v.s.k.revUsrPfx):])
				m, err2 := decMark(str)
				if err1 == nil && err2 == nil {
					v.addMark(uid, m)
				}
			}
		}
		batch = batch[:0]
		return nil
	}
	it := scanner.Scan(ctx, 0, v.s.k.revs+":*", 1000).Iterator()
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	return flush()
}

// pingLoop publishes this instance's ping every interval and sweeps
// expired entries about once a second.
func (v *view) pingLoop(ctx context.Context) {
	t := time.NewTicker(v.s.cfg.pingInterval)
	defer t.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Without a live subscription a ping proves nothing; skipping it
		// also keeps a dead Redis from being dialled 20 times a second.
		if v.synced.Load() {
			sent := time.Since(v.base).Nanoseconds()
			pctx, cancel := context.WithTimeout(ctx, v.s.cfg.timeout)
			_ = v.s.c.Do(pctx, v.s.pubCmd, v.s.k.channel, "p "+v.inst+" "+strconv.FormatInt(sent, 10)).Err()
			cancel()
		}
		if time.Since(lastSweep) >= time.Second {
			v.sweep()
			lastSweep = time.Now()
		}
	}
}
