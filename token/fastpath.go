package token

import (
	"bytes"
	"context"
	"encoding/json"
	"math/bits"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The fast path. Both halves only ever narrow what is done, never what is
// accepted: a header or payload outside what they recognise takes the
// general path, and FuzzFastPathAgrees holds the two to the same answers.

// fastHeaders remembers encoded headers exactly as our Signer writes them,
// each for one key and one typ. Entries are learnt on the general path
// (after the header was decoded and checked), so the table holds at most
// one entry per configured key and typ asked for: an attacker cannot grow
// it. Reads take no lock.
type fastHeaders struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string]fastHeader]
}

type fastHeader struct {
	key *Key
	typ Type
}

// maxFastHeaders bounds the table; when full it starts over.
const maxFastHeaders = 64

// encodeHeader is the header our Signer writes.
func encodeHeader(alg Algorithm, kid string, typ Type) ([]byte, error) {
	return json.Marshal(header{Alg: string(alg), Kid: kid, Typ: string(typ)})
}

// fastHeader returns the key for a header segment known byte for byte, or
// nil to send the token down the general path (which also gives the precise
// error for a key that has gone).
func (v *JWTVerifier) fastHeader(ctx context.Context, hSeg string, typ Type) *Key {
	if v.cfg.noFast {
		return nil
	}
	m := v.hdrs.m.Load()
	if m == nil {
		return nil
	}
	fh, ok := (*m)[hSeg]
	if !ok || fh.typ != typ {
		return nil
	}
	k, err := v.keys.LookupKey(ctx, fh.key.kid)
	if err != nil || k != fh.key {
		return nil
	}
	return k
}

// learnHeader records hSeg when its decoded form hdr is exactly the header
// the Signer writes for key and typ. The general path has already checked
// that header (alg pinned to key, kid, typ, no crit), and strict base64url
// gives each byte string one spelling, so a later token whose header
// segment is equal needs none of that work again.
func (v *JWTVerifier) learnHeader(hSeg string, hdr []byte, key *Key, typ Type) {
	if v.cfg.noFast || key.kid == "" {
		return
	}
	if m := v.hdrs.m.Load(); m != nil {
		if fh, ok := (*m)[hSeg]; ok && fh.key == key && fh.typ == typ {
			return
		}
	}
	want, err := encodeHeader(key.alg, key.kid, typ)
	if err != nil || !bytes.Equal(want, hdr) {
		return
	}
	h := v.hdrs
	h.mu.Lock()
	defer h.mu.Unlock()
	next := make(map[string]fastHeader)
	if old := h.m.Load(); old != nil && len(*old) < maxFastHeaders {
		for s, fh := range *old {
			next[s] = fh
		}
	}
	next[cloneString(hSeg)] = fastHeader{key: key, typ: typ}
	h.m.Store(&next)
}

// decodeClaims decodes a payload straight into in, without reflection,
// when the payload is in the subset for which the result is certain to be
// what encoding/json gives for inClaims: a JSON object whose members have
// ASCII names without escapes, no registered name twice or in another
// case, registered string claims as strings without escapes, aud a
// non-empty string or an array of them, roles an array of strings, and
// exp/nbf/iat integers of at most 16 digits. Other members are skipped
// after a strict syntax check. It reports false for anything else
// (including every error), and the caller then runs encoding/json, which
// gives the general path's answer and error.
//
// Strings are substrings of one copy of the payload: one allocation for
// all of them.
func decodeClaims(payload []byte, in *inClaims) bool {
	return decodeClaimsString(string(payload), in, nil)
}

// claimArrays holds the arrays behind a short aud (one member) and short
// roles (up to four) in the allocation of the verification that reads
// them, so that they cost no allocation of their own.
type claimArrays struct {
	aud   [1]string
	roles [4]string
}

// decodeClaimsString is decodeClaims over s, which the strings in in then
// share; arr, when not nil, backs short aud and roles lists. The scanning
// functions below take the input and an index and return the index after
// what they read, so that both stay in registers.
func decodeClaimsString(s string, in *inClaims, arr *claimArrays) bool {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	var seen uint16
	in.extra = false
	if i = skipWS(s, i+1); i < len(s) && s[i] == '}' {
		return skipWS(s, i+1) == len(s)
	}
	for {
		name, j, _, ok := scanString(s, i, true)
		if !ok {
			return false
		}
		if i = skipWS(s, j); i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipWS(s, i+1)
		bit := uint16(0)
		switch name {
		case "iss":
			bit = 1 << 0
			in.Iss, i, ok = str(s, i)
		case "sub":
			bit = 1 << 1
			in.Sub, i, ok = str(s, i)
		case "aud":
			bit = 1 << 2
			i, ok = aud(s, i, &in.Aud, arr)
		case "exp":
			bit = 1 << 3
			i, ok = date(s, i, &in.Exp)
		case "nbf":
			bit = 1 << 4
			i, ok = date(s, i, &in.Nbf)
		case "iat":
			bit = 1 << 5
			i, ok = date(s, i, &in.Iat)
		case "jti":
			bit = 1 << 6
			in.Jti, i, ok = str(s, i)
		case "sid":
			bit = 1 << 7
			in.Sid, i, ok = str(s, i)
		case "roles":
			bit = 1 << 8
			var buf []string
			if arr != nil {
				buf = arr.roles[:0]
			} else {
				buf = make([]string, 0, 4)
			}
			in.Roles, i, ok = strs(s, i, false, buf)
		case usernameClaim:
			bit = 1 << 9
			in.User, i, ok = str(s, i)
		default:
			// encoding/json would match a name differing only in case.
			if known(name) {
				return false
			}
			in.extra = true
			p := claimParser{s: s, i: i}
			ok = p.skip(0)
			i = p.i
		}
		if !ok || seen&bit != 0 {
			return false // duplicates: encoding/json's last-wins is not ours to copy
		}
		seen |= bit
		if i = skipWS(s, i); i < len(s) && s[i] == '}' {
			return skipWS(s, i+1) == len(s)
		}
		if i >= len(s) || s[i] != ',' {
			return false
		}
		i = skipWS(s, i+1)
	}
}

func foldsToRegistered(name string) bool {
	for r := range registered {
		if len(r) == len(name) && asciiEqualFold(r, name) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// skipWS returns the index of the first byte at or after i that is not
// JSON whitespace; the common case, none, is inlined.
func skipWS(s string, i int) int {
	if i < len(s) && s[i] > ' ' {
		return i
	}
	return skipWSSlow(s, i)
}

func skipWSSlow(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return i
}

// strClass marks the bytes a string scan stops at: 1 for the closing
// quote, 2 for what the fast path does not decode (a backslash, a control
// character) and 4 for a byte outside ASCII (refused in member names).
var strClass = func() (t [256]byte) {
	for c := range 0x20 {
		t[c] = 2
	}
	t['"'] = 1
	t['\\'] = 2
	for c := 0x80; c < 0x100; c++ {
		t[c] = 4
	}
	return t
}()

// scanString reads the string at s[i:] — printable ASCII only when ascii,
// any byte but a backslash or a control character otherwise — and returns
// its body, the index after its closing quote, and whether a byte outside
// ASCII was seen.
func scanString(s string, i int, ascii bool) (v string, next int, high, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false, false
	}
	i++
	start := i
	// Eight bytes at a time: the first byte that ends the scan is found
	// without a branch per byte; the byte loop takes the last few.
	for i+8 <= len(s) {
		w := load64(s, i)
		m := stops8(w)
		if ascii {
			m |= w & hi8
		}
		if m == 0 {
			high = high || w&hi8 != 0
			i += 8
			continue
		}
		k := bits.TrailingZeros64(m) / 8 // the lowest flagged byte is a true one
		if s[i+k] != '"' {
			return "", i, false, false
		}
		high = high || w&hi8&(1<<(8*k)-1) != 0
		return s[start : i+k], i + k + 1, high, true
	}
	for ; i < len(s); i++ {
		c := strClass[s[i]]
		if c&2 != 0 || ascii && c == 4 {
			return "", i, false, false
		}
		if c == 1 {
			return s[start:i], i + 1, high, true
		}
		high = high || c == 4
	}
	return "", i, false, false
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// load64 reads s[i:i+8] as a little-endian word (one load once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// stops8 sets the high bit of each byte of w that is a quote, a backslash
// or a control character. A borrow out of a flagged byte can flag the
// byte above it too, so only the lowest flag is certain; no byte below it
// is ever flagged falsely.
func stops8(w uint64) uint64 {
	ctl := (w - 0x20*lo8) &^ w & hi8
	q := w ^ '"'*lo8
	b := w ^ '\\'*lo8
	return ctl | (q-lo8)&^q&hi8 | (b-lo8)&^b&hi8
}

// str reads a string without escapes whose bytes are valid UTF-8 (which
// encoding/json keeps as they are).
func str(s string, i int) (string, int, bool) {
	v, i, high, ok := scanString(s, i, false)
	if !ok || high && !utf8.ValidString(v) {
		return "", i, false
	}
	return v, i, true
}

// strs reads an array of strings (non-empty ones when nonEmpty), appending
// to buf. An empty array gives an empty, non-nil slice, as encoding/json
// does. The result's capacity is its length, so that appending to it never
// writes into buf's array.
func strs(s string, i int, nonEmpty bool, buf []string) ([]string, int, bool) {
	if i >= len(s) || s[i] != '[' {
		return nil, i, false
	}
	if i = skipWS(s, i+1); i < len(s) && s[i] == ']' {
		return []string{}, i + 1, true
	}
	out := buf
	for {
		v, j, ok := str(s, i)
		if !ok || nonEmpty && v == "" {
			return nil, j, false
		}
		out = append(out, v)
		if i = skipWS(s, j); i < len(s) && s[i] == ']' {
			return out[:len(out):len(out)], i + 1, true
		}
		if i >= len(s) || s[i] != ',' {
			return nil, i, false
		}
		i = skipWS(s, i+1)
	}
}

// aud reads aud: a non-empty string, or an array of them.
func aud(s string, i int, a *audience, arr *claimArrays) (int, bool) {
	if i < len(s) && s[i] == '"' {
		v, j, ok := str(s, i)
		if !ok || v == "" {
			return j, false
		}
		if arr != nil {
			arr.aud[0] = v
			*a = arr.aud[:1:1]
		} else {
			*a = audience{v}
		}
		return j, true
	}
	var buf []string
	if arr != nil {
		buf = arr.aud[:0]
	}
	l, j, ok := strs(s, i, true, buf)
	*a = l
	return j, ok
}

// date reads an integer of 1 to 16 digits, optionally negative, in JSON's
// grammar (no leading zeros); fractions and exponents go to encoding/json.
func date(s string, i int, d *numericDate) (int, bool) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	if i+8 <= len(s) {
		if w := load64(s, i); digits8(w) { // today's dates have ten digits
			n = int64(parse8(w))
			i += 8
		}
	}
	for ; i < len(s) && i-start <= 16; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	digits := i - start
	if digits == 0 || digits > 16 || (digits > 1 && s[start] == '0') {
		return i, false
	}
	if i < len(s) {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return i, false
		}
	}
	if n > maxDate {
		return i, false
	}
	if neg {
		n = -n
	}
	*d = numericDate{sec: n, present: true}
	return i, true
}

// digits8 reports whether every byte of w is an ASCII digit.
func digits8(w uint64) bool {
	const hi4, zeros, six = 0xF0 * lo8, '0' * lo8, 6 * lo8
	return w&hi4 == zeros && (w+six)&hi4 == zeros
}

// parse8 is the value of the eight ASCII digits in w, the first in its
// lowest byte: pairs, then quadruples, then all eight, combined in place.
func parse8(w uint64) uint64 {
	w -= '0' * lo8
	w = (w*10 + w>>8) & 0x00FF00FF00FF00FF
	w = (w*100 + w>>16) & 0x0000FFFF0000FFFF
	return (w*10000 + w>>32) & 0xFFFFFFFF
}

// claimParser skips the members decodeClaims does not read.
type claimParser struct {
	s string
	i int
}

func (p *claimParser) ws() { p.i = skipWS(p.s, p.i) }

func (p *claimParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// maxSkipDepth bounds nesting in skipped members; deeper goes to
// encoding/json.
const maxSkipDepth = 32

// skip checks and passes over one JSON value, as strictly as encoding/json's
// scanner: strings with valid escapes and no control characters (invalid
// UTF-8 is accepted, as encoding/json does), numbers in JSON's grammar,
// the three literals, arrays and objects.
func (p *claimParser) skip(depth int) bool {
	if p.i >= len(p.s) || depth > maxSkipDepth {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.skipString()
	case c == '{':
		p.i++
		p.ws()
		if p.eat('}') {
			return true
		}
		for {
			if !p.skipString() {
				return false
			}
			p.ws()
			if !p.eat(':') {
				return false
			}
			p.ws()
			if !p.skip(depth + 1) {
				return false
			}
			p.ws()
			if p.eat('}') {
				return true
			}
			if !p.eat(',') {
				return false
			}
			p.ws()
		}
	case c == '[':
		p.i++
		p.ws()
		if p.eat(']') {
			return true
		}
		for {
			if !p.skip(depth + 1) {
				return false
			}
			p.ws()
			if p.eat(']') {
				return true
			}
			if !p.eat(',') {
				return false
			}
			p.ws()
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.skipNumber()
	}
	return false
}

func (p *claimParser) lit(l string) bool {
	if len(p.s)-p.i >= len(l) && p.s[p.i:p.i+len(l)] == l {
		p.i += len(l)
		return true
	}
	return false
}

func (p *claimParser) skipString() bool {
	if !p.eat('"') {
		return false
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i >= len(p.s) {
				return false
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(p.s)-p.i < 4 {
					return false
				}
				for _, h := range []byte(p.s[p.i : p.i+4]) {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				p.i += 4
			default:
				return false
			}
		}
	}
	return false
}

func (p *claimParser) digits() int {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

func (p *claimParser) skipNumber() bool {
	p.eat('-')
	if p.eat('0') {
		if p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			return false
		}
	} else if p.digits() == 0 {
		return false
	}
	if p.eat('.') && p.digits() == 0 {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if p.digits() == 0 {
			return false
		}
	}
	return true
}
