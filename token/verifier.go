package token

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// JWTVerifier checks compact JWS tokens against a [KeySource]. Safe for
// concurrent use.
type JWTVerifier struct {
	keys KeySource
	cfg  config
	hdrs *fastHeaders
}

var _ Verifier = (*JWTVerifier)(nil)

// NewVerifier returns a Verifier over keys: a [*KeySet] (its Public() view
// for a resource server) or a remote source from [NewRemoteKeySource].
// Options: [WithIssuer], [WithAudience], [WithLeeway], [WithClock],
// [WithMaxSize], [WithCache] (no cache unless given).
func NewVerifier(keys KeySource, opts ...Option) (*JWTVerifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil key source", ErrInvalidConfig)
	}
	if ks, ok := keys.(*KeySet); ok && ks == nil {
		return nil, fmt.Errorf("%w: nil key set", ErrInvalidConfig)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	v := &JWTVerifier{keys: keys, cfg: cfg, hdrs: new(fastHeaders)}
	if cfg.cache != nil {
		if err := cfg.cache.bind(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Cached returns a verifier with v's keys and options that remembers
// verified tokens in c (see [Cache]); v itself is unchanged. It lets
// middleware add a cache to a verifier it was handed. c must not serve
// another verifier.
func (v *JWTVerifier) Cached(c *Cache) (*JWTVerifier, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil cache", ErrInvalidConfig)
	}
	nv := &JWTVerifier{keys: v.keys, cfg: v.cfg, hdrs: v.hdrs}
	nv.cfg.cache = c
	if err := c.bind(nv); err != nil {
		return nil, err
	}
	return nv, nil
}

// Cache returns the verifier's cache, or nil when it has none.
func (v *JWTVerifier) Cache() *Cache { return v.cfg.cache }

// Verify implements [Verifier]. Checks, in order: size (before any
// decoding), three non-empty segments of strict unpadded base64url, header
// JSON without crit, typ equal to typ, kid naming a configured key, alg equal
// to that key's algorithm, signature, then claims: exp required and not past,
// nbf and iat not in the future (each with the leeway), iss and aud when
// configured. jku, x5u, jwk and x5c headers are never read. Claims.Extra is
// the payload as [RawClaims] when the token carries application claims,
// nil otherwise; [VerifyInto] decodes them typed.
//
// With a [Cache], a token verified before is answered from it after the
// type, time and key checks described there. Claims returned by a verifier
// with a cache may share their Audience and Roles arrays with the cache and
// other callers: never write to their elements (appending, or assigning
// any field of the returned Claims, is safe).
func (v *JWTVerifier) Verify(ctx context.Context, typ Type, tok string) (*Claims, error) {
	return v.verify(ctx, typ, tok, nil)
}

// VerifyInto verifies tok as [JWTVerifier.Verify] does and, on success, also
// decodes the payload into extra (the application's own claims struct; the
// registered claims are available in the returned Claims, and extra also
// sees them if it declares fields for them). *extra is set to the decoded
// value (fields the token lacks are zero) only when verification succeeds,
// and left untouched otherwise. With a cache, a hit copies the value
// decoded on the first verification: reference-typed fields (slices, maps,
// pointers) are then shared, and must be treated as read-only.
func VerifyInto[T any](ctx context.Context, v *JWTVerifier, typ Type, tok string, extra *T) (*Claims, error) {
	if extra == nil {
		return nil, fmt.Errorf("%w: nil extra", ErrInvalidConfig)
	}
	return v.verify(ctx, typ, tok, extraOf[T]{extra})
}

// extraCodec decodes application claims for VerifyInto.
type extraCodec interface {
	// decode decodes payload into a new value, stores it in the caller's
	// destination and returns it for the cache.
	decode(payload []byte) (any, error)
	// load copies a cached value into the destination; false when it is
	// not of the destination's type.
	load(cached any) bool
}

// extraOf is a single pointer, so boxing it in an interface does not
// allocate.
type extraOf[T any] struct{ dst *T }

func (x extraOf[T]) decode(payload []byte) (any, error) {
	p := new(T)
	if err := json.Unmarshal(payload, p); err != nil {
		return nil, err
	}
	*x.dst = *p
	return p, nil
}

func (x extraOf[T]) load(cached any) bool {
	p, ok := cached.(*T)
	if ok {
		*x.dst = *p
	}
	return ok
}

// scratch holds decode buffers reused across verifications.
type scratch struct{ hdr, payload, sig []byte }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

type inHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	// jku, x5u, jwk and x5c are deliberately not fields: never followed.
}

func (v *JWTVerifier) verify(ctx context.Context, typ Type, tok string, extra extraCodec) (*Claims, error) {
	c := v.cfg.cache
	if c == nil {
		return v.verifyUncached(ctx, typ, tok, extra)
	}
	if len(tok) > v.cfg.maxSize { // before hashing it for the cache
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, v.cfg.maxSize)
	}
	h := c.hash(tok)
	if e := c.get(h, tok); e != nil {
		if cl, ok := v.fromCache(ctx, typ, e, extra); ok {
			return cl, nil
		}
	}
	if !c.admit(h) {
		cl, err := v.verifyUncached(ctx, typ, tok, extra)
		if err != nil {
			c.fails.Add(1)
			return nil, err
		}
		c.remember(h)
		return cl, nil
	}
	var in inClaims
	e := new(cacheEntry)
	key, xv, kept, err := v.verifyFull(ctx, typ, tok, extra, &in, &e.v, true)
	if err != nil {
		c.fails.Add(1)
		return nil, err // failures are never cached
	}
	e.init(h, kept, key, typ, v.cfg.leeway, &in, xv)
	c.put(e, v.cfg.clock())
	cl := new(Claims) // the caller's own, as on a hit
	*cl = e.v.claims
	return cl, nil
}

// verifyUncached is a verification whose result the cache does not keep.
func (v *JWTVerifier) verifyUncached(ctx context.Context, typ Type, tok string, extra extraCodec) (*Claims, error) {
	var in inClaims
	r := new(verified)
	if _, _, _, err := v.verifyFull(ctx, typ, tok, extra, &in, r, false); err != nil {
		return nil, err
	}
	return &r.claims, nil
}

// verified is what a verification hands out: the claims, and the arrays
// behind their Audience and Roles when these are short.
type verified struct {
	claims Claims
	arr    claimArrays
}

// fromCache serves a hit, or reports false to send the token down the full
// path (which gives the precise error when the token is no longer good).
func (v *JWTVerifier) fromCache(ctx context.Context, typ Type, e *cacheEntry, extra extraCodec) (*Claims, bool) {
	if e.typ != typ {
		return nil, false
	}
	if !e.servable(v.cfg.clock()) {
		v.cfg.cache.drop(e) // the full path gives the precise error
		return nil, false
	}
	if k, err := v.keys.LookupKey(ctx, e.key.kid); err != nil || k != e.key {
		// The key left the set, or another took its kid: every entry it
		// verified goes the same way as it is met.
		v.cfg.cache.drop(e)
		return nil, false
	}
	if extra != nil && !extra.load(e.extra) {
		return nil, false
	}
	cl := new(Claims)
	*cl = e.v.claims
	return cl, true
}

// verifyFull is the whole verification. It fills out's claims, leaves the
// registered claims as read in in, and returns the key that verified them
// and the application claims decoded by extra (if any). With keep, it also
// returns a copy of tok, made in the same allocation as the copy of the
// payload the claims' strings share where it can.
func (v *JWTVerifier) verifyFull(ctx context.Context, typ Type, tok string, extra extraCodec, in *inClaims, out *verified, keep bool) (*Key, any, string, error) {
	// Size first, before touching the content.
	if len(tok) > v.cfg.maxSize {
		return nil, nil, "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, v.cfg.maxSize)
	}
	if err := checkType(typ); err != nil {
		return nil, nil, "", err
	}
	d1 := strings.IndexByte(tok, '.')
	if d1 < 0 {
		return nil, nil, "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	d2 := strings.IndexByte(tok[d1+1:], '.')
	if d2 < 0 {
		return nil, nil, "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	d2 += d1 + 1
	if strings.IndexByte(tok[d2+1:], '.') >= 0 {
		// 4 segments is nothing; 5 is JWE, which we never accept.
		return nil, nil, "", fmt.Errorf("%w: too many segments (JWE or garbage)", ErrMalformed)
	}
	hSeg, pSeg, sSeg := tok[:d1], tok[d1+1:d2], tok[d2+1:]
	if hSeg == "" || pSeg == "" {
		return nil, nil, "", fmt.Errorf("%w: empty segment", ErrMalformed)
	}

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)

	// A header byte for byte the one our Signer writes for this key and
	// typ needs no decoding; anything else takes the strict general path.
	key := v.fastHeader(ctx, hSeg, typ)
	if key == nil {
		var err error
		if key, err = v.header(ctx, sc, hSeg, typ); err != nil {
			return nil, nil, "", err
		}
	}

	// Strict base64url on every segment, but no JSON read from the
	// payload until the signature holds.
	var err error
	sc.payload, err = decodeSeg(sc.payload, pSeg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	if sSeg == "" {
		return nil, nil, "", fmt.Errorf("%w: no signature", ErrSignature)
	}
	sc.sig, err = decodeSeg(sc.sig, sSeg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if err := key.verifySig(tok[:d2], sc.sig); err != nil {
		return nil, nil, "", err
	}

	// Signed by a configured key: now read the claims, straight into the
	// typed struct when the payload is in the subset decodeClaims handles
	// exactly as encoding/json would, through encoding/json otherwise.
	var kept string
	fast := false
	if !v.cfg.noFast {
		// One copy of the payload for the claims' strings, after a copy
		// of tok when the caller keeps one.
		var both string
		if keep {
			var b strings.Builder // one allocation, unlike tok + string(payload)
			b.Grow(len(tok) + len(sc.payload))
			b.WriteString(tok)
			b.Write(sc.payload)
			both = b.String()
			kept = both[:len(tok)]
		} else {
			both = string(sc.payload)
		}
		fast = decodeClaimsString(both[len(kept):], in, &out.arr)
	}
	if keep && !fast {
		// The payload copy is of no use: keep the token alone.
		kept = cloneString(tok)
	}
	if !fast {
		var gen inClaims // its own variable: in stays on the caller's stack
		err := json.Unmarshal(sc.payload, &gen)
		if err == nil {
			gen.extra = hasExtraMembers(sc.payload)
		}
		*in = gen
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, nil, "", fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
			}
			return nil, nil, "", fmt.Errorf("%w: a claim has the wrong type", ErrInvalidClaims)
		}
	}
	if err := v.checkClaims(in); err != nil {
		return nil, nil, "", err
	}
	c := &out.claims
	*c = Claims{
		Issuer: in.Iss, Subject: in.Sub, Audience: []string(in.Aud),
		ExpiresAt: in.Exp.time(), NotBefore: in.Nbf.time(), IssuedAt: in.Iat.time(),
		ID: in.Jti, SessionID: in.Sid, Roles: in.Roles, Username: in.User,
	}
	if in.extra {
		// Application claims: keep the payload, copied out of the pooled
		// buffer, for the caller to decode.
		c.Extra = RawClaims(bytes.Clone(sc.payload))
	}
	var x any
	if extra != nil {
		if x, err = extra.decode(sc.payload); err != nil {
			return nil, nil, "", fmt.Errorf("%w: application claims do not decode", ErrInvalidClaims)
		}
	}
	return key, x, kept, nil
}

// header decodes and checks the header on the general path and returns the
// key it names.
func (v *JWTVerifier) header(ctx context.Context, sc *scratch, hSeg string, typ Type) (*Key, error) {
	var err error
	sc.hdr, err = decodeSeg(sc.hdr, hSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	var h inHeader
	if err := json.Unmarshal(sc.hdr, &h); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if h.Crit != nil {
		return nil, fmt.Errorf("%w: crit header is not supported", ErrMalformed)
	}
	if !typeMatches(h.Typ, typ) {
		return nil, fmt.Errorf("%w: want %s", ErrWrongType, typ)
	}
	if h.Kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	key, err := v.keys.LookupKey(ctx, h.Kid)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: kid not configured", ErrUnknownKey)
	}
	if h.Alg != string(key.alg) {
		// none in any casing, HS384 for HS256, HS256 for an RSA key...
		return nil, fmt.Errorf("%w: %q for a %s key", ErrAlgorithm, clip(h.Alg), key.alg)
	}
	if h.Typ == string(typ) {
		v.learnHeader(hSeg, sc.hdr, key, typ)
	}
	return key, nil
}

func (v *JWTVerifier) checkClaims(in *inClaims) error {
	if !in.Exp.present {
		return fmt.Errorf("%w: exp is required", ErrInvalidClaims)
	}
	if err := v.timesValid(v.cfg.clock(), in.Exp.sec, in.Nbf, in.Iat); err != nil {
		return err
	}
	if v.cfg.issuer != "" && in.Iss != v.cfg.issuer {
		return ErrIssuer
	}
	if len(v.cfg.audience) > 0 && !audienceMatches(in.Aud, v.cfg.audience) {
		return ErrAudience
	}
	return nil
}

func audienceMatches(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// typeMatches compares typ values as media types: case-insensitively, with
// an optional "application/" prefix (RFC 7515 §4.1.9).
func typeMatches(got string, want Type) bool {
	const app = "application/"
	if len(got) > len(app) && strings.EqualFold(got[:len(app)], app) {
		got = got[len(app):]
	}
	return strings.EqualFold(got, string(want))
}

func (k *Key) verifySig(input string, sig []byte) error {
	if k.info.fam == famHMAC {
		if len(sig) != k.info.hash.Size() {
			return ErrSignature
		}
		m := k.macs.Get().(*macState)
		ok := hmac.Equal(m.compute(input), sig)
		k.macs.Put(m)
		if !ok {
			return ErrSignature
		}
		return nil
	}
	if err := k.info.method.Verify(input, sig, k.pub); err != nil {
		return ErrSignature
	}
	return nil
}
