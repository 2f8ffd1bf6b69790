package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

// The local view: an in-process copy of the live revocations and user
// marks, kept by LISTEN/NOTIFY, so IsRevoked on a valid token costs no
// round trip. It is trusted only while provably caught up, by the same
// argument as the Redis store's view:
//
//   - Every revocation is written and announced (pg_notify) by one
//     statement; PostgreSQL delivers a notification at its transaction's
//     commit, in commit order, to every session listening then.
//   - The listener is one dedicated connection, made from the pool's
//     settings but outside the pool (a pooled connection is handed to
//     other work and would drop LISTEN with it). After every (re)connect
//     it runs LISTEN, then rebuilds the view from the tables before it is
//     trusted: what was committed while it was away is in the tables, and
//     what commits after LISTEN arrives as a notification.
//   - The instance sends its own ping notification every ping interval
//     through the pool. A ping sent at t that comes back proves every
//     revocation committed before t has arrived; the view is then trusted
//     until t + max lag.
//   - Otherwise (no ping back in time, a broken or silent listener, a
//     rebuild that failed) IsRevoked asks the database: stale means "ask",
//     never "allow".
//
// Revocations only grow (ids gain a later expiry, marks a later valid
// after), so merging the rebuild and the notifications in any order gives
// the same view. Entries are dropped at their expiry, bounding memory by
// live revocations.
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

	syncs  atomic.Int64 // completed rebuilds, for tests
	synced atomic.Bool  // listening and rebuilt: pings are worth sending
	pid    atomic.Uint32
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
// trusted now and the database must be asked.
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
	if m, hit := v.users[c.UserID]; hit && c.UserID != "" && m.revokes(c.IssuedAt, now) {
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
	// An expired mark not swept yet is replaced by the database too:
	// merging with it would keep an old valid-after alive here alone.
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

// stallTimeout is how long the listener may be silent before it is torn
// down: the instance's own pings arrive every ping interval.
func (v *view) stallTimeout() time.Duration { return max(time.Second, 4*v.s.cfg.maxLag) }

func (v *view) listenLoop(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		healthy := v.listen(ctx)
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

// listen runs one listening connection until it fails; it reports whether
// it got as far as a rebuild.
func (v *view) listen(ctx context.Context) (healthy bool) {
	cctx, cancel := context.WithTimeout(ctx, v.s.cfg.timeout)
	conn, err := pgx.ConnectConfig(cctx, v.s.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return false
	}
	defer func() {
		v.synced.Store(false)
		cctx, cancel := context.WithTimeout(context.Background(), v.s.cfg.timeout)
		_ = conn.Close(cctx)
		cancel()
	}()
	v.pid.Store(conn.PgConn().PID())

	lctx, cancel := context.WithTimeout(ctx, v.s.cfg.timeout)
	_, err = conn.Exec(lctx, "LISTEN "+pgx.Identifier{v.s.channel}.Sanitize())
	cancel()
	if err != nil {
		return false
	}
	// Listening from here on: rebuild, then trust once a ping comes back.
	// Notifications that arrive during the rebuild wait in conn's buffer.
	if err := v.rebuild(ctx, conn); err != nil {
		return false
	}
	v.synced.Store(true)
	v.syncs.Add(1)
	for {
		wctx, cancel := context.WithTimeout(ctx, v.stallTimeout())
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			return true
		}
		v.apply(n.Payload)
	}
}

// apply applies one notification (see revoker.go for the payloads).
func (v *view) apply(payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	a, rest, _ := strings.Cut(rest, " ")
	switch kind {
	case "i":
		us, err1 := strconv.ParseInt(a, 10, 64)
		id, err2 := hex.DecodeString(rest)
		if err1 == nil && err2 == nil {
			v.addID(string(id), us*1000)
		}
	case "u":
		b, h, _ := strings.Cut(rest, " ")
		before, err1 := strconv.ParseInt(a, 10, 64)
		until, err2 := strconv.ParseInt(b, 10, 64)
		uid, err3 := hex.DecodeString(h)
		if err1 == nil && err2 == nil && err3 == nil {
			v.addMark(string(uid), mark{before: before * 1000, until: until * 1000})
		}
	case "p":
		if a != v.inst || !v.synced.Load() {
			return
		}
		sent, err := strconv.ParseInt(rest, 10, 64)
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

// rebuild merges every live revocation and mark into the view, reading on
// the listening connection after LISTEN, so what it misses arrives as a
// notification.
func (v *view) rebuild(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 10*v.s.cfg.timeout)
	defer cancel()
	now := v.s.now()
	rows, err := conn.Query(ctx, `SELECT id, expires_at FROM `+v.s.q.revocations+` WHERE expires_at > $1`, now)
	if err != nil {
		return err
	}
	var id []byte
	var until time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &until}, func() error {
		v.addID(string(id), until.UnixNano())
		return nil
	})
	if err != nil {
		return err
	}
	var before time.Time
	rows, err = conn.Query(ctx, `SELECT user_id, valid_after, expires_at FROM `+v.s.q.marks+` WHERE expires_at > $1`, now)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, []any{&id, &before, &until}, func() error {
		v.addMark(string(id), mark{before: before.UnixNano(), until: until.UnixNano()})
		return nil
	})
	return err
}

// pingLoop sends this instance's ping every interval and sweeps expired
// entries about once a second.
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
		// Without a live listener a ping proves nothing; skipping it also
		// keeps a dead database from being dialled 20 times a second.
		if v.synced.Load() {
			sent := time.Since(v.base).Nanoseconds()
			pctx, cancel := context.WithTimeout(ctx, v.s.cfg.timeout)
			_, _ = v.s.pool.Exec(pctx, `SELECT pg_notify($1, $2)`, v.s.channel, "p "+v.inst+" "+strconv.FormatInt(sent, 10))
			cancel()
		}
		if time.Since(lastSweep) >= time.Second {
			v.sweep()
			lastSweep = time.Now()
		}
	}
}
