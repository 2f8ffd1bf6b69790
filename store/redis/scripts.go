package redis

import goredis "github.com/redis/go-redis/v9"

// Every multi-step change is one Lua script, so Redis runs it atomically;
// all keys of one script share a hash tag. Times are 19-digit nanosecond
// strings (see encTime): comparing them as strings is comparing the times.
// ms(t) turns one into the milliseconds PEXPIREAT wants, rounded up.

const luaMS = `local function ms(t) return tonumber(string.sub(t, 1, 13)) + 1 end
`

// KEYS: user, username, ids. ARGV: encoded id, then field/value pairs.
// Returns 0 created, 1 id taken, 2 username taken.
var createUserScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 0
`)

// KEYS: username. ARGV: user key prefix. The user key is derived from the
// index, in the same hash tag, so this is one round trip.
var userByNameScript = goredis.NewScript(`
local e = redis.call('GET', KEYS[1])
if not e then return false end
return redis.call('HGETALL', ARGV[1] .. e)
`)

// KEYS: user. ARGV: field/value pairs. Returns the updated hash, or nil.
var updateUserScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
`)

// KEYS: user. ARGV: expected hash, next hash, updated at. A user created
// without a hash has none stored, which compares as "". Returns {0}
// missing, {1, hash} conflict (the stored hash is not the expected one),
// {2, hash} swapped.
var setPasswordHashScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if (redis.call('HGET', KEYS[1], 'ph') or '') ~= ARGV[1] then return {1, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 'ph', ARGV[2], 'ua', ARGV[3])
return {2, redis.call('HGETALL', KEYS[1])}
`)

// KEYS: user, ids, totp enrolment. ARGV: encoded id. Frees the username
// only if it still points at this user. Returns 1 deleted, 0 missing.
var deleteUserScript = goredis.NewScript(`
local nk = redis.call('HGET', KEYS[1], 'nk')
if not nk then return 0 end
if redis.call('GET', nk) == ARGV[1] then redis.call('DEL', nk) end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// KEYS: ids. ARGV: lex min, count, user key prefix. Returns the hashes.
var listUsersScript = goredis.NewScript(`
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, e in ipairs(ids) do out[i] = redis.call('HGETALL', ARGV[3] .. e) end
return out
`)

// KEYS: user's session index. ARGV: absolute expiry ms (score), encoded
// session id, now ms. Prunes ended sessions, never lowers a score, and
// keeps the index alive as long as its longest session.
var indexSessionScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', KEYS[1], tonumber(top[2]) + 1000) end
return 1
`)

// KEYS: session. ARGV: end (encoded), field/value pairs. Returns 1 created,
// 0 id taken.
var createSessionScript = goredis.NewScript(luaMS + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ms(ARGV[1]))
return 1
`)

// KEYS: session. ARGV: expected, next, at, idle expiry, now (times
// encoded). Returns {0} missing or ended, {1, hash} conflict, {2, hash}
// rotated. The idle expiry never passes the absolute one.
var rotateSessionScript = goredis.NewScript(luaMS + `
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return {0} end
local f = {}
for i = 1, #h, 2 do f[h[i]] = h[i + 1] end
if f['end'] <= ARGV[5] then return {0} end
if f['rid'] ~= ARGV[1] then return {1, h} end
local ie = ARGV[4]
if f['ea'] < ie then ie = f['ea'] end
redis.call('HSET', KEYS[1], 'prid', f['rid'], 'rid', ARGV[2], 'lu', ARGV[3], 'ra', ARGV[3], 'ie', ie, 'end', ie)
redis.call('PEXPIREAT', KEYS[1], ms(ie))
return {2, redis.call('HGETALL', KEYS[1])}
`)

// KEYS: session. ARGV: now. Returns 1 deleted, 0 missing or ended.
var deleteSessionScript = goredis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'end')
if not e then return 0 end
redis.call('DEL', KEYS[1])
if e <= ARGV[1] then return 0 end
return 1
`)

// KEYS: session. ARGV: user id. Deletes the session only if it is that
// user's.
var deleteOwnedSessionScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'uid') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// KEYS: revoked id, channel. ARGV: until, publish command, encoded id.
// Keeps the later until, and announces the result in the same script, so
// no subscriber can see the key without the message or the reverse.
var revokeScript = goredis.NewScript(luaMS + `
local u = ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur and cur > u then u = cur end
redis.call('SET', KEYS[1], u, 'PXAT', ms(u))
redis.call(ARGV[2], KEYS[2], 'i ' .. u .. ' ' .. ARGV[3])
return u
`)

// KEYS: user mark, channel. ARGV: before, until, publish command, encoded
// user id. Both times only move forward. Returns the stored mark.
var revokeUserScript = goredis.NewScript(luaMS + `
local b, u = ARGV[1], ARGV[2]
local cur = redis.call('GET', KEYS[1])
if cur then
  local cb, cu = string.sub(cur, 1, 19), string.sub(cur, 20, 38)
  if cb > b then b = cb end
  if cu > u then u = cu end
end
redis.call('SET', KEYS[1], b .. u, 'PXAT', ms(u))
redis.call(ARGV[3], KEYS[2], 'u ' .. b .. u .. ' ' .. ARGV[4])
return b .. u
`)

// KEYS: counter. ARGV: now, window end (encoded). Returns {n, end}.
var incrScript = goredis.NewScript(luaMS + `
local e = redis.call('HGET', KEYS[1], 'e')
if (not e) or e <= ARGV[1] then
  redis.call('HSET', KEYS[1], 'n', 1, 'e', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ms(ARGV[2]))
  return {1, ARGV[2]}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), e}
`)
