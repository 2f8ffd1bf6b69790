package config

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// expiryWant is what JWT_EXPIRY accepts, said by every JWT_EXPIRY error.
const expiryWant = `seconds (such as 900) or a span as jsonwebtoken's expiresIn takes it (such as "90s", "15m", "1h", "1d" or "2 days"), ` +
	"from 1s to 24h (or set ACCESS_TTL as a Go duration)"

// msSpan is the grammar of the npm package ms (2.1.3, which jsonwebtoken's
// expiresIn uses): an optionally signed decimal, any number of spaces, an
// optional unit, case-insensitive. A string longer than 100 characters is
// no span.
var msSpan = regexp.MustCompile(`(?i)^(-?(?:[0-9]+)?\.?[0-9]+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

// msUnit is each unit's length in milliseconds, as ms counts them (a year
// is 365.25 days), keyed by its first letters: "ms"/"msec..."/"millis..."
// before "m".
func msUnit(unit string) int64 {
	const s, m, h, d = 1000, 60 * 1000, 3600 * 1000, 24 * 3600 * 1000
	u := strings.ToLower(unit)
	switch {
	case strings.HasPrefix(u, "ms"), strings.HasPrefix(u, "mil"):
		return 1
	case strings.HasPrefix(u, "s"):
		return s
	case strings.HasPrefix(u, "m"):
		return m
	case strings.HasPrefix(u, "h"):
		return h
	case strings.HasPrefix(u, "d"):
		return d
	case strings.HasPrefix(u, "w"):
		return 7 * d
	default: // y
		return 365*d + d/4
	}
}

// parseExpiry reads JWT_EXPIRY as a Node service's .env holds it: a bare
// whole number is seconds (jsonwebtoken's expiresIn as a number, which is
// how Node code passes a parsed JWT_EXPIRY), anything else a span in ms's
// grammar. As jsonwebtoken does, a span is cut to whole seconds
// (exp = floor(iat + ms/1000)): "1.5s" is 1s, "1500ms" is 1s. The result
// must be 1s to [MaxAccessTTL]; ok is false otherwise.
func parseExpiry(v string) (d time.Duration, ok bool) {
	const maxSec = int64(MaxAccessTTL / time.Second)
	if len(v) > 100 {
		return 0, false
	}
	sub := msSpan.FindStringSubmatch(v)
	if sub == nil {
		return 0, false
	}
	num, unit := sub[1], sub[2]
	var sec int64
	if unit == "" {
		// A bare number is seconds, and jsonwebtoken takes only whole ones.
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, false
		}
		sec = n
	} else {
		// Exact decimal arithmetic: "1.1h" is 3960s, not a float's
		// 3959.999….
		r, ok := new(big.Rat).SetString(num)
		if !ok {
			return 0, false
		}
		r.Mul(r, new(big.Rat).SetInt64(msUnit(unit)))
		r.Quo(r, big.NewRat(1000, 1))
		q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: the floor, denominators being positive
		if !q.IsInt64() {
			return 0, false
		}
		sec = q.Int64()
	}
	if sec < 1 || sec > maxSec {
		return 0, false
	}
	return time.Duration(sec) * time.Second, true
}
