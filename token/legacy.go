package token

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LegacyType is the typ an express application's jsonwebtoken writes by
// default ("JWT"); [LegacyVerifier] also accepts a header without typ.
const LegacyType Type = "JWT"

// LegacyMaxLifetime is the longest lifetime (exp minus iat) of a token a
// [LegacyVerifier] accepts: gatekeep's access-token ceiling. A longer-lived
// token signed with the same key is most likely the old application's
// refresh token, which must not pass as an access token.
const LegacyMaxLifetime = 24 * time.Hour

// LegacyIDPrefix starts every [LegacyClaims.ID].
const LegacyIDPrefix = "legacy-"

// LegacyVerifier checks access tokens in the shape Node's jsonwebtoken
// signs them in express guides — jwt.sign({id, admin}, JWT_SECRET,
// {expiresIn}) — for the time a migration to gatekeep takes. Safe for
// concurrent use.
//
// It is a separate path with the same rules on what is cryptographic as
// [JWTVerifier]'s: the key is the one given, and its algorithm is pinned
// to it (alg must be that key's algorithm exactly: never none, never
// another family; the header's alg is never trusted); the signature is
// checked before any claim is read; jku, x5u, jwk and x5c are never read,
// crit is refused. What differs is the shape: the header's typ is "JWT"
// or absent, kid is absent (or names the key), and the claims are the
// express application's, read into [LegacyClaims].
type LegacyVerifier struct {
	key  *Key
	base JWTVerifier // its cfg: leeway, clock, issuer, audience, max size
}

// NewLegacyVerifier returns a LegacyVerifier for tokens signed with key
// (an HMAC key from the old application's JWT_SECRET, or an asymmetric
// key, whose public half is enough). Options: [WithLeeway], [WithClock],
// [WithMaxSize], and [WithIssuer] / [WithAudience], which here require
// only that a token carrying iss (aud) carries that value: express guides
// sign neither. [WithCache] is refused: legacy tokens are verified in
// full every time.
func NewLegacyVerifier(key *Key, opts ...Option) (*LegacyVerifier, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidConfig)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.cache != nil {
		return nil, fmt.Errorf("%w: a legacy verifier takes no cache", ErrInvalidConfig)
	}
	return &LegacyVerifier{key: key, base: JWTVerifier{cfg: cfg}}, nil
}

// LegacyClaims are the claims of a token a [LegacyVerifier] accepted.
type LegacyClaims struct {
	// Subject is the user id: sub, or else id (a string, or a whole
	// number written in decimal). A token carrying both must carry the
	// same id in each.
	Subject string
	// Admin is true when the token's admin claim is the JSON value true;
	// anything else ("true", 1, absent) is false.
	Admin bool
	// ID names this token for revocation: [LegacyIDPrefix] and the
	// base64url SHA-256 of the token's bytes (128 bits of it). Express
	// guides sign no jti; the token itself is unique enough.
	ID string
	// IssuedAt (iat) and ExpiresAt (exp) are required; NotBefore (nbf),
	// Issuer (iss) and Audience (aud) are as the token has them.
	IssuedAt, ExpiresAt, NotBefore time.Time
	Issuer                         string
	Audience                       []string
	// Raw is the whole verified payload, for claims of the application's
	// own (username, email, ...).
	Raw RawClaims
}

type legacyHeader struct {
	Alg  string          `json:"alg"`
	Kid  *string         `json:"kid"`
	Typ  *string         `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

type legacyPayload struct {
	Iss   *string         `json:"iss"`
	Sub   *string         `json:"sub"`
	ID    json.RawMessage `json:"id"`
	Admin json.RawMessage `json:"admin"`
	Aud   *audience       `json:"aud"`
	Exp   numericDate     `json:"exp"`
	Nbf   numericDate     `json:"nbf"`
	Iat   numericDate     `json:"iat"`
	Sid   json.RawMessage `json:"sid"`
}

// Verify checks tok and returns its claims. Checks, in order: size,
// three non-empty segments of strict base64url, a header without crit
// whose typ is "JWT" (or application/jwt, in any case) or absent, whose
// kid is absent or the key's, and whose alg is the key's algorithm; the
// signature; then the claims: a JSON object without sid (a gatekeep
// token's mark: those never take this path), a user id (sub or id), exp
// and iat present, exp not past, nbf and iat not in the future (with the
// leeway), at most [LegacyMaxLifetime] between iat and exp, iss and aud
// as configured when present. Every failure wraps one of this package's
// sentinel errors; a typ of another kind (a gatekeep token) is
// ErrWrongType.
func (v *LegacyVerifier) Verify(_ context.Context, tok string) (*LegacyClaims, error) {
	cfg := &v.base.cfg
	if len(tok) > cfg.maxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, cfg.maxSize)
	}
	hSeg, rest, ok1 := strings.Cut(tok, ".")
	pSeg, sSeg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sSeg, '.') >= 0 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if hSeg == "" || pSeg == "" {
		return nil, fmt.Errorf("%w: empty segment", ErrMalformed)
	}
	hb, err := decodeSeg(nil, hSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	var h legacyHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	switch {
	case h.Crit != nil:
		return nil, fmt.Errorf("%w: crit header is not supported", ErrMalformed)
	case h.Typ != nil && !typeMatches(*h.Typ, LegacyType):
		return nil, fmt.Errorf("%w: want %s or no typ", ErrWrongType, LegacyType)
	case h.Kid != nil && *h.Kid != v.key.kid:
		return nil, fmt.Errorf("%w: kid not configured", ErrUnknownKey)
	case h.Alg != string(v.key.alg):
		// none in any casing, HS384 for HS256, RS256 for an HMAC key...
		return nil, fmt.Errorf("%w: %q for a %s key", ErrAlgorithm, clip(h.Alg), v.key.alg)
	}
	payload, err := decodeSeg(nil, pSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	if sSeg == "" {
		return nil, fmt.Errorf("%w: no signature", ErrSignature)
	}
	sig, err := decodeSeg(nil, sSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if err := v.key.verifySig(tok[:len(hSeg)+1+len(pSeg)], sig); err != nil {
		return nil, err
	}

	// Signed with the key: now read the claims.
	var in legacyPayload
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object with claims of the right types", ErrInvalidClaims)
	}
	if in.Sid != nil {
		return nil, fmt.Errorf("%w: a legacy token carries no sid", ErrInvalidClaims)
	}
	sub, err := legacySubject(in.Sub, in.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case !in.Exp.present || !in.Iat.present:
		// iat is what the user's valid-after time is compared with.
		return nil, fmt.Errorf("%w: exp and iat are required", ErrInvalidClaims)
	case in.Exp.sec-in.Iat.sec > int64(LegacyMaxLifetime/time.Second):
		return nil, fmt.Errorf("%w: lives longer than %s", ErrInvalidClaims, LegacyMaxLifetime)
	}
	if err := v.base.timesValid(cfg.clock(), in.Exp.sec, in.Nbf, in.Iat); err != nil {
		return nil, err
	}
	if in.Iss != nil && cfg.issuer != "" && *in.Iss != cfg.issuer {
		return nil, ErrIssuer
	}
	var aud []string
	if in.Aud != nil {
		aud = []string(*in.Aud)
		if len(cfg.audience) > 0 && !audienceMatches(aud, cfg.audience) {
			return nil, ErrAudience
		}
	}
	sum := sha256.Sum256([]byte(tok))
	c := &LegacyClaims{
		Subject:   sub,
		Admin:     string(in.Admin) == "true",
		ID:        LegacyIDPrefix + base64.RawURLEncoding.EncodeToString(sum[:16]),
		IssuedAt:  in.Iat.time(),
		ExpiresAt: in.Exp.time(),
		NotBefore: in.Nbf.time(),
		Audience:  aud,
		Raw:       RawClaims(payload),
	}
	if in.Iss != nil {
		c.Issuer = *in.Iss
	}
	return c, nil
}

// legacySubject is sub or id: id may be a string or a whole number (a
// SQL primary key), written canonically; when both are present they must
// agree.
func legacySubject(sub *string, id json.RawMessage) (string, error) {
	var fromID string
	if id != nil {
		var s string
		switch {
		case json.Unmarshal(id, &s) == nil:
			fromID = s
		default:
			n, err := strconv.ParseInt(string(id), 10, 64)
			if err != nil || strconv.FormatInt(n, 10) != string(id) {
				return "", fmt.Errorf("%w: id must be a string or a whole number", ErrInvalidClaims)
			}
			fromID = string(id)
		}
	}
	switch {
	case sub != nil && id != nil && *sub != fromID:
		return "", fmt.Errorf("%w: sub and id name different users", ErrInvalidClaims)
	case sub != nil && *sub != "":
		return *sub, nil
	case id != nil && fromID != "":
		return fromID, nil
	}
	return "", fmt.Errorf("%w: no user id (sub or id)", ErrInvalidClaims)
}
