package redis

import (
	"context"
	"encoding/json"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.IdentityStore = (*Store)(nil)

// Keys of the optional store.IdentityStore, all under one hash tag so that
// each change is one script on one slot (P the prefix, E an encoded id):
//
//	{P:id}:i:E      string JSON identity, by identity id
//	{P:id}:s:E:E    string identity id, by (issuer, subject)
//	{P:id}:u:E      zset   a user's encoded identity ids, scored by creation
//	{P:id}:seq      string the creation sequence
func (k keys) identities() string        { return "{" + k.prefix + ":id}" }
func (k keys) identity(id string) string { return k.identities() + ":i:" + enc(id) }
func (k keys) identityPrefix() string    { return k.identities() + ":i:" }
func (k keys) userIdentities(uid string) string {
	return k.identities() + ":u:" + enc(uid)
}
func (k keys) identitySubject(issuer, subject string) string {
	// Hex has no ':', so the pair cannot be read two ways.
	return k.identities() + ":s:" + enc(issuer) + ":" + enc(subject)
}

// KEYS: identity, subject, user zset, sequence. ARGV: encoded id, JSON.
// The compare-and-swap on the pair: 1 when the ID is taken, 2 when the pair
// is linked, 0 when created.
var createIdentityScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
local n = redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], n, ARGV[1])
return 0
`)

// KEYS: subject. ARGV: identity key prefix. The identity's JSON, or nil.
var identityBySubjectScript = goredis.NewScript(`
local e = redis.call('GET', KEYS[1])
if not e then return false end
return redis.call('GET', ARGV[1] .. e)
`)

// KEYS: user zset. ARGV: identity key prefix. The JSON of each, oldest first.
var userIdentitiesScript = goredis.NewScript(`
local out = {}
for _, e in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', ARGV[1] .. e)
  if v then out[#out + 1] = v end
end
return out
`)

// KEYS: identity, subject, user zset. ARGV: the JSON read, encoded id.
// Identities never change, so an identity still holding the JSON read is
// the one to delete: 1 when it is gone, 0 when deleted.
var deleteIdentityScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 1 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 0
`)

func decodeIdentity(op string, v any) (*store.Identity, error) {
	s, ok := v.(string)
	var id store.Identity
	if !ok || json.Unmarshal([]byte(s), &id) != nil {
		return nil, unavailable(op, errBadReply)
	}
	return &id, nil
}

// CreateIdentity implements [store.IdentityStore].
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	const op = "create identity"
	if id == nil || id.ID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return invalid(op, "empty ID, issuer, subject or user")
	}
	c := *id // read here: a call abandoned at its timeout must not touch id later
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		c.CreatedAt = s.now()
		v, err := json.Marshal(&c)
		if err != nil {
			return invalid(op, "identity cannot be encoded")
		}
		res, err := s.run(ctx, createIdentityScript, []string{
			s.k.identity(c.ID), s.k.identitySubject(c.Issuer, c.Subject),
			s.k.userIdentities(c.UserID), s.k.identities() + ":seq",
		}, enc(c.ID), string(v))
		if err != nil {
			return unavailable(op, err)
		}
		switch res {
		case int64(0):
			return nil
		case int64(1):
			return conflict(op, "identity ID taken")
		case int64(2):
			return conflict(op, "subject already linked")
		}
		return unavailable(op, errBadReply)
	})
}

// IdentityBySubject implements [store.IdentityStore].
func (s *Store) IdentityBySubject(ctx context.Context, issuer, subject string) (*store.Identity, error) {
	const op = "identity"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Identity, error) {
		v, err := s.run(ctx, identityBySubjectScript, []string{s.k.identitySubject(issuer, subject)}, s.k.identityPrefix())
		if err != nil {
			return nil, unavailable(op, err)
		}
		if v == nil {
			return nil, notFound(op)
		}
		return decodeIdentity(op, v)
	})
}

// UserIdentities implements [store.IdentityStore].
func (s *Store) UserIdentities(ctx context.Context, userID string) ([]*store.Identity, error) {
	const op = "user identities"
	return bounded(s, ctx, op, func(ctx context.Context) ([]*store.Identity, error) {
		v, err := s.run(ctx, userIdentitiesScript, []string{s.k.userIdentities(userID)}, s.k.identityPrefix())
		if err != nil {
			return nil, unavailable(op, err)
		}
		list, ok := v.([]any)
		if v != nil && !ok {
			return nil, unavailable(op, errBadReply)
		}
		out := make([]*store.Identity, 0, len(list))
		for _, e := range list {
			id, err := decodeIdentity(op, e)
			if err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, nil
	})
}

// DeleteIdentity implements [store.IdentityStore].
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	const op = "delete identity"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		raw, err := s.c.Get(ctx, s.k.identity(id)).Result()
		if isNil(err) {
			return notFound(op)
		}
		if err != nil {
			return unavailable(op, err)
		}
		got, err := decodeIdentity(op, raw)
		if err != nil {
			return err
		}
		res, err := s.run(ctx, deleteIdentityScript, []string{
			s.k.identity(id), s.k.identitySubject(got.Issuer, got.Subject), s.k.userIdentities(got.UserID),
		}, raw, enc(id))
		if err != nil {
			return unavailable(op, err)
		}
		if res != int64(0) {
			return notFound(op)
		}
		return nil
	})
}

// KEYS: identity, subject, user zset. ARGV: encoded id, "1" when the user
// has a password. The compare-and-swap of an unlink: 1
// when the identity is gone or another user's, 2 when it is the user's last
// way to sign in, 0 when deleted.
var unlinkIdentityScript = goredis.NewScript(`
if redis.call('ZSCORE', KEYS[3], ARGV[1]) == false then return 1 end
if ARGV[2] ~= '1' and redis.call('ZCARD', KEYS[3]) < 2 then return 2 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 0
`)

// UnlinkIdentity implements [store.IdentityStore]. The count of the user's
// links is checked and the link deleted in one script on the identities'
// slot; the password hash lives on the users' slot and is read before it
// (a Redis Cluster runs no script across slots). That is still a
// compare-and-swap for every flow of gatekeep: none removes a password
// hash once set (SetPasswordHash refuses an empty one), so a hash read is
// still there when the script runs.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, id string) error {
	const op = "unlink identity"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		raw, err := s.c.Get(ctx, s.k.identity(id)).Result()
		if isNil(err) {
			return notFound(op)
		}
		if err != nil {
			return unavailable(op, err)
		}
		got, err := decodeIdentity(op, raw)
		if err != nil {
			return err
		}
		if got.UserID != userID {
			return notFound(op)
		}
		ph, err := s.c.HGet(ctx, s.k.user(userID), "ph").Result()
		if err != nil && !isNil(err) {
			return unavailable(op, err)
		}
		hasPassword := "0"
		if ph != "" {
			hasPassword = "1"
		}
		res, err := s.run(ctx, unlinkIdentityScript, []string{
			s.k.identity(id), s.k.identitySubject(got.Issuer, got.Subject), s.k.userIdentities(userID),
		}, enc(id), hasPassword)
		if err != nil {
			return unavailable(op, err)
		}
		switch res {
		case int64(0):
			return nil
		case int64(1):
			return notFound(op)
		case int64(2):
			return conflict(op, "the user's last way to sign in")
		}
		return unavailable(op, errBadReply)
	})
}
