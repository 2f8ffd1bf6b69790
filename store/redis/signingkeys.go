package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

var (
	_ store.KeyStore   = (*Store)(nil)
	_ store.KeyWatcher = (*Store)(nil)
)

// The signing key ring is one hash, {P:k}, so every change is one script
// on one slot (a Cluster included):
//
//	v     the ring version (HINCRBY; absent means 0)
//	a     the encoded id of the active key, absent when there is none
//	d:E   the key's fixed part as JSON: algorithm, created, sealed key
//	s:E   its state; t:E its activation time; r:E its retire-at time
//
// E is the hex-encoded kid, so no kid can reach another key's fields.
// Every change is announced, by the script that makes it, on the channel
// {P:k}:ch (sharded on a Cluster, in the ring's slot).
func (k keys) signingKeys() string        { return "{" + k.prefix + ":k}" }
func (k keys) signingKeysChannel() string { return "{" + k.prefix + ":k}:ch" }

type keyData struct {
	Algorithm string    `json:"alg"`
	CreatedAt time.Time `json:"created"`
	Sealed    []byte    `json:"sealed"`
}

// Replies of the key scripts: {0, version} the ring moved, {1} no such key
// (or, on create, id taken), {2, state} the key's state forbids the step,
// {3, version} done.
const keyRingPrelude = `
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[1] then return {0, v} end
`

// announce ends every successful change: KEYS[2] is the channel, ARGV[2]
// the publish command; the message is the new version.
const announce = `
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call(ARGV[2], KEYS[2], nv)
return {3, nv}
`

// ARGV: version, publish command, E, state, fixed part, activation time.
var createKeyScript = goredis.NewScript(keyRingPrelude + `
local e = ARGV[3]
if redis.call('HEXISTS', KEYS[1], 's:' .. e) == 1 then return {1} end
if ARGV[4] == 'active' then
  if redis.call('HEXISTS', KEYS[1], 'a') == 1 then return {2, 'active'} end
  redis.call('HSET', KEYS[1], 'a', e)
end
redis.call('HSET', KEYS[1], 'd:' .. e, ARGV[5], 's:' .. e, ARGV[4], 't:' .. e, ARGV[6], 'r:' .. e, '')
` + announce)

// ARGV: version, publish command, E, at, retire-at.
var activateKeyScript = goredis.NewScript(keyRingPrelude + `
local e = ARGV[3]
local st = redis.call('HGET', KEYS[1], 's:' .. e)
if not st then return {1} end
if st ~= 'next' then return {2, st} end
local a = redis.call('HGET', KEYS[1], 'a')
if a then redis.call('HSET', KEYS[1], 's:' .. a, 'retiring', 'r:' .. a, ARGV[5]) end
redis.call('HSET', KEYS[1], 's:' .. e, 'active', 't:' .. e, ARGV[4], 'a', e)
` + announce)

// ARGV: version, publish command, E.
var deleteKeyScript = goredis.NewScript(keyRingPrelude + `
local e = ARGV[3]
local st = redis.call('HGET', KEYS[1], 's:' .. e)
if not st then return {1} end
if st == 'active' then return {2, st} end
redis.call('HDEL', KEYS[1], 'd:' .. e, 's:' .. e, 't:' .. e, 'r:' .. e)
` + announce)

// SigningKeys implements [store.KeyStore].
func (s *Store) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	const op = "signing keys"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.KeyRing, error) {
		h, err := s.c.HGetAll(ctx, s.k.signingKeys()).Result()
		if err != nil {
			return nil, unavailable(op, err)
		}
		ring, err := decodeRing(h)
		if err != nil {
			return nil, unavailable(op, err)
		}
		return ring, nil
	})
}

func decodeRing(h map[string]string) (*store.KeyRing, error) {
	ring := &store.KeyRing{}
	if v, ok := h["v"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errBadReply
		}
		ring.Version = n
	}
	for f, d := range h {
		e, ok := strings.CutPrefix(f, "d:")
		if !ok {
			continue
		}
		id, err := dec(e)
		if err != nil {
			return nil, errBadReply
		}
		var kd keyData
		if err := json.Unmarshal([]byte(d), &kd); err != nil {
			return nil, errBadReply
		}
		at, err1 := decTime(h["t:"+e])
		ret, err2 := decTime(h["r:"+e])
		if err1 != nil || err2 != nil {
			return nil, errBadReply
		}
		ring.Keys = append(ring.Keys, &store.SigningKey{ID: id, Algorithm: kd.Algorithm, State: store.KeyState(h["s:"+e]),
			CreatedAt: kd.CreatedAt, ActivatedAt: at, RetireAt: ret, Sealed: kd.Sealed})
	}
	slices.SortFunc(ring.Keys, func(a, b *store.SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ring, nil
}

// changeKeys runs one key script and maps its reply.
func (s *Store) changeKeys(ctx context.Context, op string, sc *goredis.Script, version int64, args ...any) (int64, error) {
	return bounded(s, ctx, op, func(ctx context.Context) (int64, error) {
		res, err := s.run(ctx, sc, []string{s.k.signingKeys(), s.k.signingKeysChannel()},
			append([]any{strconv.FormatInt(version, 10), s.pubCmd}, args...)...)
		if err != nil {
			return 0, unavailable(op, err)
		}
		arr, ok := res.([]any)
		if !ok || len(arr) == 0 {
			return 0, unavailable(op, errBadReply)
		}
		code, _ := arr[0].(int64)
		switch code {
		case 0:
			cur, _ := arr[1].(string)
			return 0, conflict(op, fmt.Sprintf("key ring is at version %s, not %d", cur, version))
		case 1:
			if sc == createKeyScript {
				return 0, conflict(op, "key id taken")
			}
			return 0, notFound(op)
		case 2:
			st, _ := arr[1].(string)
			if sc == createKeyScript {
				return 0, conflict(op, "an active key exists")
			}
			return 0, conflict(op, "key is "+st)
		case 3:
			if v, ok := arr[1].(int64); ok {
				return v, nil
			}
		}
		return 0, unavailable(op, errBadReply)
	})
}

// CreateSigningKey implements [store.KeyStore].
func (s *Store) CreateSigningKey(ctx context.Context, version int64, k *store.SigningKey) (int64, error) {
	const op = "create signing key"
	if err := store.CheckNewSigningKey(k); err != nil {
		return 0, fmt.Errorf("redis: %s: %w", op, err)
	}
	d, err := json.Marshal(keyData{Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, Sealed: k.Sealed})
	if err != nil {
		return 0, invalid(op, "unencodable key")
	}
	at := ""
	if k.State == store.KeyActive {
		at = encTime(k.ActivatedAt)
	}
	return s.changeKeys(ctx, op, createKeyScript, version, enc(k.ID), string(k.State), string(d), at)
}

// ActivateSigningKey implements [store.KeyStore].
func (s *Store) ActivateSigningKey(ctx context.Context, version int64, id string, at, retireAt time.Time) (int64, error) {
	const op = "activate signing key"
	if at.IsZero() || retireAt.IsZero() {
		return 0, invalid(op, "zero time")
	}
	return s.changeKeys(ctx, op, activateKeyScript, version, enc(id), encTime(at), encTime(retireAt))
}

// DeleteSigningKey implements [store.KeyStore].
func (s *Store) DeleteSigningKey(ctx context.Context, version int64, id string) (int64, error) {
	return s.changeKeys(ctx, "delete signing key", deleteKeyScript, version, enc(id))
}

// WatchSigningKeys implements [store.KeyWatcher] with a subscription to
// the ring's channel: notify runs once the subscription is confirmed
// (changes before it are not announced again) and after every change,
// and the subscription is made again after a failure, until ctx ends.
func (s *Store) WatchSigningKeys(ctx context.Context, notify func()) error {
	for ctx.Err() == nil {
		if s.closed.Load() {
			return ErrClosed
		}
		s.watchOnce(ctx, notify)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second): // a failed subscription is retried, not spun
		}
	}
	return ctx.Err()
}

func (s *Store) watchOnce(ctx context.Context, notify func()) {
	var ps *goredis.PubSub
	if s.sharded {
		ps = s.c.SSubscribe(ctx)
	} else {
		ps = s.c.Subscribe(ctx)
	}
	defer ps.Close()
	// Receive does not return on a cancelled context by itself: closing
	// the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	var err error
	if s.sharded {
		err = ps.SSubscribe(sctx, s.k.signingKeysChannel())
	} else {
		err = ps.Subscribe(sctx, s.k.signingKeysChannel())
	}
	cancel()
	if err != nil {
		return
	}
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" && m.Kind != "ssubscribe" {
				return
			}
			notify()
		case *goredis.Message:
			notify()
		}
	}
}
