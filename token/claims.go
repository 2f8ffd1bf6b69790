package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// registered lists the claim names Extra may not use.
var registered = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true,
	"iat": true, "jti": true, "sid": true, "roles": true,
}

// usernameClaim is read into Claims.Username. Extra may carry it only
// when Username is empty.
const usernameClaim = "preferred_username"

// known reports whether a payload member is read into Claims (matching
// names in any case, as encoding/json does): every other member makes the
// token carry application claims.
func known(name string) bool {
	if len(name) == len(usernameClaim) && asciiEqualFold(name, usernameClaim) {
		return true
	}
	return foldsToRegistered(name)
}

// outClaims is the signing form of Claims.
type outClaims struct {
	Iss   string   `json:"iss,omitempty"`
	Sub   string   `json:"sub,omitempty"`
	Aud   any      `json:"aud,omitempty"` // string or []string
	Exp   int64    `json:"exp"`
	Nbf   int64    `json:"nbf,omitempty"`
	Iat   int64    `json:"iat,omitempty"`
	Jti   string   `json:"jti,omitempty"`
	Sid   string   `json:"sid,omitempty"`
	Roles []string `json:"roles,omitempty"`
	User  string   `json:"preferred_username,omitempty"`
}

// inClaims is the verifying form of Claims.
type inClaims struct {
	Iss   string      `json:"iss"`
	Sub   string      `json:"sub"`
	Aud   audience    `json:"aud"`
	Exp   numericDate `json:"exp"`
	Nbf   numericDate `json:"nbf"`
	Iat   numericDate `json:"iat"`
	Jti   string      `json:"jti"`
	Sid   string      `json:"sid"`
	Roles []string    `json:"roles"`
	User  string      `json:"preferred_username"`
	// extra records that the payload has members besides these.
	extra bool
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// marshalClaims encodes c with Extra merged beside the registered claims.
func marshalClaims(c *Claims, defIss string, defAud []string) ([]byte, error) {
	o := outClaims{
		Iss: c.Issuer, Sub: c.Subject, Exp: c.ExpiresAt.Unix(),
		Nbf: unixOrZero(c.NotBefore), Iat: unixOrZero(c.IssuedAt),
		Jti: c.ID, Sid: c.SessionID, Roles: c.Roles, User: c.Username,
	}
	if o.Iss == "" {
		o.Iss = defIss
	}
	aud := c.Audience
	if len(aud) == 0 {
		aud = defAud
	}
	for _, a := range aud {
		if a == "" {
			return nil, fmt.Errorf("%w: empty audience member", ErrInvalidClaims)
		}
	}
	switch len(aud) {
	case 0:
	case 1:
		o.Aud = aud[0]
	default:
		o.Aud = aud
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode claims", ErrInvalidClaims)
	}
	if c.Extra == nil {
		return b, nil
	}
	extra, err := json.Marshal(c.Extra)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode Extra: %T", ErrInvalidClaims, c.Extra)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(extra, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%w: Extra must encode to a JSON object", ErrInvalidClaims)
	}
	for name := range fields {
		if registered[name] || name == usernameClaim && c.Username != "" {
			return nil, fmt.Errorf("%w: Extra uses the registered claim name %q", ErrInvalidClaims, name)
		}
	}
	if len(fields) == 0 {
		return b, nil
	}
	// Both are objects: splice extra's members after ours.
	extra = bytes.TrimSpace(extra)
	out := make([]byte, 0, len(b)+len(extra))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	out = append(out, extra[1:]...)
	return out, nil
}

var errClaimType = errors.New("claim has the wrong JSON type")

// audience accepts a string or an array of non-empty strings, nothing else
// (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// encoding/json has already validated the literal: without escapes
		// its content is the string itself.
		*a = audience{string(b[1 : len(b)-1])}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errClaimType
		}
		*a = audience{s}
	case len(b) > 0 && b[0] == '[':
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return errClaimType
		}
		*a = l
	default:
		return errClaimType
	}
	for _, s := range *a {
		if s == "" {
			return errClaimType
		}
	}
	return nil
}

// numericDate is seconds since the epoch (RFC 7519 §2); fractions are
// truncated. Present records that the claim appeared.
type numericDate struct {
	sec     int64
	present bool
}

// maxDate keeps conversions far from overflow (year ~285 million).
const maxDate = 1 << 53

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return errClaimType // null, strings, objects, booleans
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if n > maxDate || n < -maxDate {
			return errClaimType
		}
		d.sec, d.present = n, true
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f > maxDate || f < -maxDate {
		return errClaimType
	}
	d.sec, d.present = int64(f), true
	return nil
}

func (d numericDate) time() time.Time {
	if !d.present {
		return time.Time{}
	}
	return time.Unix(d.sec, 0).UTC()
}

// hasExtraMembers reports whether payload, a JSON object encoding/json has
// already accepted, has a member known does not claim: the general path's
// answer to the question decodeClaims answers as it parses.
func hasExtraMembers(payload []byte) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(payload, &members) != nil {
		return true // not reached for accepted payloads; keep the raw form
	}
	for name := range members {
		if !known(name) {
			return true
		}
	}
	return false
}
