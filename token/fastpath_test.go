package token_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatekeep/gatekeep/token"
)

// sentinels, in the order errorClass tries them.
var sentinels = []error{
	token.ErrTooLarge, token.ErrMalformed, token.ErrSignature, token.ErrExpired,
	token.ErrNotYetValid, token.ErrAlgorithm, token.ErrUnknownKey, token.ErrWrongType,
	token.ErrIssuer, token.ErrAudience, token.ErrInvalidClaims, token.ErrUnavailable,
}

func errorClass(err error) string {
	if err == nil {
		return "accepted"
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "unclassified: " + err.Error()
}

// differential verifies one input every way and reports disagreements.
type differential struct {
	general, fast, cached *token.JWTVerifier
	reference             func(tok string, typ token.Type) (*floorClaims, error)
}

func newDifferential(t testing.TB, ks *token.KeySet, raw map[string]any) *differential {
	t.Helper()
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock)}
	d := &differential{}
	var err error
	d.general, err = token.NewVerifier(ks, append(opts, token.WithoutFastPath())...)
	must(t, err)
	d.fast, err = token.NewVerifier(ks, opts...)
	must(t, err)
	c, err := token.NewCache(64)
	must(t, err)
	d.cached, err = token.NewVerifier(ks, append(opts, token.WithCache(c))...)
	must(t, err)

	// The reference: golang-jwt's parser with the same rules, the key
	// looked up by kid and its algorithm pinned.
	var algs []string
	for _, k := range ks.Keys() {
		algs = append(algs, string(k.Algorithm()))
	}
	p := jwt.NewParser(jwt.WithValidMethods(algs), jwt.WithIssuer("gatekeep"), jwt.WithAudience("gatekeep"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(token.DefaultLeeway), jwt.WithTimeFunc(clock))
	d.reference = func(tok string, typ token.Type) (*floorClaims, error) {
		var c floorClaims
		_, err := p.ParseWithClaims(tok, &c, func(tk *jwt.Token) (any, error) {
			kid, _ := tk.Header["kid"].(string)
			k, err := ks.LookupKey(context.Background(), kid)
			if err != nil {
				return nil, err
			}
			if tk.Method.Alg() != string(k.Algorithm()) {
				return nil, errors.New("alg not pinned to the key")
			}
			typHdr, _ := tk.Header["typ"].(string)
			typHdr = strings.TrimPrefix(strings.ToLower(typHdr), "application/")
			if typHdr != strings.ToLower(string(typ)) {
				return nil, errors.New("wrong typ")
			}
			if k.Symmetric() {
				return raw[kid], nil
			}
			return raw[kid].(crypto.Signer).Public(), nil
		})
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	return d
}

func (d *differential) check(t *testing.T, tok string, typ token.Type) {
	ctx := context.Background()
	want, werr := d.general.Verify(ctx, typ, tok)
	got, gerr := d.fast.Verify(ctx, typ, tok)
	if errorClass(gerr) != errorClass(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %q: fast path %s %+v, general path %s %+v", typ, tok, errorClass(gerr), got, errorClass(werr), want)
	}
	for i := 0; i < 2; i++ { // a miss, then a hit when cached
		got, gerr := d.cached.Verify(ctx, typ, tok)
		if errorClass(gerr) != errorClass(werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q, round %d: cached %s %+v, general path %s %+v", typ, tok, i, errorClass(gerr), got, errorClass(werr), want)
		}
	}
	if werr != nil {
		return
	}
	// Accepted: the reference must accept too, with the same claims.
	ref, err := d.reference(tok, typ)
	if err != nil {
		t.Fatalf("%s %q: accepted, but golang-jwt refuses: %v", typ, tok, err)
	}
	if ref.Subject != want.Subject || ref.ID != want.ID || ref.Issuer != want.Issuer ||
		ref.SessionID != want.SessionID || !ref.ExpiresAt.Time.Equal(want.ExpiresAt) ||
		fmt.Sprint(ref.Roles) != fmt.Sprint(want.Roles) {
		t.Fatalf("%s %q: claims differ from golang-jwt's: %+v vs %+v", typ, tok, want, ref)
	}
}

// FuzzFastPathAgrees: for every input the fast path (known header, claims
// decoded without reflection), the cache (first and second time) and the
// general path give the same answer, error class and claims; and whatever
// they accept golang-jwt's parser, configured alike, accepts too. Seeded
// with the attack table and with gatekeep-signed tokens.
func FuzzFastPathAgrees(f *testing.F) {
	ks, rows := verifyRules(f)
	raw := map[string]any{"hs": rawKey(f, token.HS256), "rs": rawKey(f, token.RS256), "es": rawKey(f, token.ES256)}
	d := newDifferential(f, ks, raw)
	for _, r := range rows {
		f.Add(r.tok)
	}
	// Tokens our Signer wrote, which the fast path recognises, for every
	// key and two types, with claims in and out of the decoder's subset.
	for _, kid := range []string{"hs", "rs", "es"} {
		one, err := token.NewKeySet(keyFor(f, map[string]token.Algorithm{"hs": token.HS256, "rs": token.RS256, "es": token.ES256}[kid], kid))
		must(f, err)
		s, err := token.NewSigner(one, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
		must(f, err)
		for _, typ := range []token.Type{token.Access, token.Refresh} {
			for _, c := range []*token.Claims{
				{Subject: "u1", SessionID: "s1", Roles: []string{"user", "editor", "viewer"}, ExpiresAt: now.Add(time.Hour)},
				{Subject: "ü\"\\", Roles: []string{}, NotBefore: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour), Extra: map[string]any{"preferred_username": "alice", "n": []any{1.5, nil, true}}},
				{Subject: "u", Audience: []string{"a", "gatekeep"}, ExpiresAt: now.Add(10 * time.Second), IssuedAt: now.Add(-time.Hour)},
				{Subject: "u", ExpiresAt: now.Add(-time.Minute)},
			} {
				tok, err := s.Sign(typ, c)
				must(f, err)
				f.Add(tok)
				f.Add(tok[:len(tok)-1])
				f.Add(strings.Replace(tok, ".", ".e30", 1))
				// Prime the header table, as verifying our tokens does.
				_, _ = d.fast.Verify(context.Background(), typ, tok)
				_, _ = d.cached.Verify(context.Background(), typ, tok)
			}
		}
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, typ := range []token.Type{token.Access, token.Refresh} {
			d.check(t, tok, typ)
		}
	})
}

// TestFastPathSignedVariety signs payloads in and out of the fast decoder's
// subset (duplicates, other cases, escapes, floats, nulls, deep nesting)
// and holds every way of verifying them to the general path's answer.
func TestFastPathSignedVariety(t *testing.T) {
	ks, _ := verifyRules(t)
	hsKey := rawKey(t, token.HS256)
	d := newDifferential(t, ks, map[string]any{"hs": hsKey, "rs": rawKey(t, token.RS256), "es": rawKey(t, token.ES256)})
	exp := now.Add(time.Hour).Unix()
	h := b64(`{"alg":"HS256","kid":"hs","typ":"at+jwt"}`) // what our Signer writes
	payloads := []string{
		fmt.Sprintf(`{"iss":"gatekeep","sub":"u","aud":"gatekeep","exp":%d,"jti":"j","sid":"s","roles":["a","b","c"]}`, exp),
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"exp":1}`, exp),            // duplicate: last wins in encoding/json
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":1,"EXP":%d}`, exp),            // case-folded name
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d.9}`, exp),                  // fraction
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%de0}`, exp),                  // exponent
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gate\u006beep","exp":%d}`, exp),               // escape
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"roles":null}`, exp),       // null
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"sub":null}`, exp),         // null
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"sub":"%s"}`, exp, "\xff"), // invalid UTF-8
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"x":%s}`, exp, deep(40)),   // deep nesting
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"x":[1,]}`, exp),           // syntax error in a skipped member
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d} x`, exp),                  // trailing garbage
		fmt.Sprintf(`{"iss":"gatekeep","aud":[],"exp":%d}`, exp),                            // empty audience list
		fmt.Sprintf(`{"iss":"gatekeep","aud":["gatekeep",""],"exp":%d}`, exp),               // empty audience member
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":%d,"ſid":"x"}`, exp),          // non-ASCII name folding to sid
		fmt.Sprintf(`{"iss":"gatekeep","aud":"gatekeep","exp":"%d"}`, exp),                  // exp as string
		`{"iss":"gatekeep","aud":"gatekeep","exp":99999999999999999}`,                       // exp beyond the range
		`null`, `[]`, `{}`,
	}
	for _, p := range payloads {
		input := h + "." + b64(p)
		sig, err := jwt.SigningMethodHS256.Sign(input, hsKey)
		must(t, err)
		tok := input + "." + b64(sig)
		d.check(t, tok, token.Access)
		d.check(t, tok, token.Access) // the header is known by now
	}
}

func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
