package redis

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Key layout. Every id that comes from outside (user ids, usernames,
// session ids, token ids, counter keys) is hex-encoded before it
// enters a key, so ':', '*', '{', '}' or a NUL in an id can neither reach
// another record nor move a key to another hash tag. The prefix is limited
// to [A-Za-z0-9._-] for the same reason. Hex keeps byte order, so the
// user id index orders by ID as ListUsers must. P is the prefix, E an
// encoded id.
//
//	{P:u}:i:E   hash   a user, by id           all users share one hash tag,
//	{P:u}:n:E   string user id, by username    so create/delete/rename are one
//	{P:u}:ids   zset   every user id (lex)     script on one slot
//	{P:u}:t:E   string a user's TOTP enrolment (JSON), beside the user
//	{P:s:E}     hash   a session, by session id
//	{P:us:E}    zset   a user's session ids, scored by absolute expiry
//	{P:r}:i:E   string revoked token or session id: until
//	{P:r}:u:E   string a user's valid-after mark: before, until
//	{P:r}:ch    the revocation channel (sharded on a Cluster)
//	{P:o:E}     string a one-time id that was used
//	{P:c:E}     hash   a counter window
type keys struct {
	users     string // "{P:u}"
	userIDs   string // "{P:u}:ids"
	revs      string // "{P:r}"
	channel   string // "{P:r}:ch"
	revIDPfx  string // "{P:r}:i:"
	revUsrPfx string // "{P:r}:u:"
	prefix    string
}

func newKeys(prefix string) keys {
	return keys{
		users:     "{" + prefix + ":u}",
		userIDs:   "{" + prefix + ":u}:ids",
		revs:      "{" + prefix + ":r}",
		channel:   "{" + prefix + ":r}:ch",
		revIDPfx:  "{" + prefix + ":r}:i:",
		revUsrPfx: "{" + prefix + ":r}:u:",
		prefix:    prefix,
	}
}

func enc(id string) string { return hex.EncodeToString([]byte(id)) }

func dec(e string) (string, error) {
	b, err := hex.DecodeString(e)
	return string(b), err
}

// userKeyPrefix is "{P:u}:i:", to which the user scripts append an encoded id.
func (k keys) userKeyPrefix() string    { return k.users + ":i:" }
func (k keys) user(id string) string    { return k.users + ":i:" + enc(id) }
func (k keys) username(n string) string { return k.users + ":n:" + enc(n) }
func (k keys) totp(id string) string    { return k.users + ":t:" + enc(id) }
func (k keys) session(id string) string { return "{" + k.prefix + ":s:" + enc(id) + "}" }
func (k keys) userSessions(uid string) string {
	return "{" + k.prefix + ":us:" + enc(uid) + "}"
}
func (k keys) revokedID(id string) string { return k.revIDPfx + enc(id) }
func (k keys) userMark(uid string) string { return k.revUsrPfx + enc(uid) }
func (k keys) once(id string) string      { return "{" + k.prefix + ":o:" + enc(id) + "}" }
func (k keys) counter(key string) string  { return "{" + k.prefix + ":c:" + enc(key) + "}" }

// Times are stored as unix nanoseconds in 19 zero-padded digits, so the Lua
// scripts compare them as strings (Lua numbers are doubles and would round
// them). Times outside 1970..2262 are clamped: an earlier "before" revokes
// nothing more than 1970 would, and nothing lives until 2262.
const timeDigits = 19

var maxTime = time.Unix(0, math.MaxInt64)

func encTime(t time.Time) string {
	var n int64
	switch {
	case t.Before(time.Unix(0, 0)):
		n = 0
	case t.After(maxTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return fmt.Sprintf("%019d", n)
}

// encOptTime is encTime, but "" for the zero time, which round-trips.
func encOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return encTime(t)
}

func decTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) != timeDigits {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return time.Unix(0, n), nil
}
