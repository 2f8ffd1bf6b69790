package token_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/internal/nodejwt"
	"github.com/gatekeep/gatekeep/token"
)

// legacyRow is a token an express application could hold, made by the real
// jsonwebtoken, and what the LegacyVerifier must answer.
type legacyRow struct {
	name    string
	req     nodejwt.Request
	want    error // nil: accepted
	sub     string
	admin   bool
	verOpts []token.Option
}

// iat is the jsonwebtoken timestamp of every row (payload.iat, which
// jsonwebtoken keeps and counts expiresIn from): the test clock.
var legacyIat = now.Unix()

func expressToken(payload map[string]any, opts map[string]any) nodejwt.Request {
	p := map[string]any{"iat": legacyIat}
	for k, v := range payload {
		p[k] = v
	}
	if opts == nil {
		opts = map[string]any{"expiresIn": "15m"}
	}
	return nodejwt.Request{Payload: p, Key: nodeSecret, Options: opts}
}

func TestLegacyVerifierJsonwebtokenShapes(t *testing.T) {
	rows := []legacyRow{
		// jwt.sign({id: user.id, admin: user.isAdmin}, process.env.JWT_SECRET, {expiresIn: '15m'})
		{name: "id_admin", req: expressToken(map[string]any{"id": 42, "admin": true}, nil), sub: "42", admin: true},
		{name: "id_string_not_admin", req: expressToken(map[string]any{"id": "65f1c0de", "admin": false}, nil), sub: "65f1c0de"},
		// jwt.sign({}, secret, {subject: user.id, expiresIn: '1h'})
		{name: "sub", req: expressToken(nil, map[string]any{"subject": "u-7", "expiresIn": "1h"}), sub: "u-7"},
		{name: "sub_and_same_id", req: expressToken(map[string]any{"sub": "7", "id": 7}, nil), sub: "7"},
		{name: "no_typ", req: func() nodejwt.Request { r := expressToken(map[string]any{"id": 42}, nil); r.NoTyp = true; return r }(), sub: "42"},
		{name: "kid_of_the_key", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": 900, "keyid": "node-1"}), sub: "42"},
		{name: "admin_string_is_not_admin", req: expressToken(map[string]any{"id": 42, "admin": "true"}, nil), sub: "42"},
		{name: "issuer_matches", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "issuer": "gatekeep"}), sub: "42",
			verOpts: []token.Option{token.WithIssuer("gatekeep")}},
		// 24h is the ceiling, inclusive.
		{name: "one_day", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "1d"}), sub: "42"},

		{name: "expired", req: nodejwt.Request{Payload: map[string]any{"id": 42, "iat": legacyIat - 3600}, Key: nodeSecret, Options: map[string]any{"expiresIn": "15m"}}, want: token.ErrExpired},
		{name: "wrong_key", req: nodejwt.Request{Payload: map[string]any{"id": 42, "iat": legacyIat}, Key: "another-applications-secret-of-32-bytes", Options: map[string]any{"expiresIn": "15m"}}, want: token.ErrSignature},
		// RFC 8725 §2.1: alg none, signed by jsonwebtoken itself.
		{name: "alg_none", req: nodejwt.Request{Payload: map[string]any{"id": 42, "admin": true, "iat": legacyIat, "exp": legacyIat + 900}, Options: map[string]any{"algorithm": "none"}}, want: token.ErrAlgorithm},
		// Algorithm confusion: a header saying RS256 over an HMAC of the secret.
		{name: "rs256_forged_with_secret", req: nodejwt.Request{Payload: map[string]any{"id": 42, "admin": true, "iat": legacyIat, "exp": legacyIat + 900}, Forge: &nodejwt.Forge{Alg: "RS256", HMAC: nodeSecret}}, want: token.ErrAlgorithm},
		// A same-family swap: HS384 with the HS256 key's secret.
		{name: "hs384_same_secret", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "algorithm": "HS384"}), want: token.ErrAlgorithm},
		{name: "gatekeep_typ", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "header": map[string]any{"typ": "at+jwt"}}), want: token.ErrWrongType},
		{name: "refresh_typ", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "header": map[string]any{"typ": "refresh+jwt"}}), want: token.ErrWrongType},
		{name: "other_kid", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "keyid": "node-2"}), want: token.ErrUnknownKey},
		// A sid is a gatekeep token's mark: never judged by the legacy rules.
		{name: "sid", req: expressToken(map[string]any{"id": 42, "sid": "s-1"}, nil), want: token.ErrInvalidClaims},
		{name: "no_exp", req: expressToken(map[string]any{"id": 42}, map[string]any{}), want: token.ErrInvalidClaims},
		{name: "no_iat", req: nodejwt.Request{Payload: map[string]any{"id": 42}, Key: nodeSecret, Options: map[string]any{"expiresIn": "15m", "noTimestamp": true}}, want: token.ErrInvalidClaims},
		// A week-long token is most likely the old application's refresh token.
		{name: "seven_days", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "7d"}), want: token.ErrInvalidClaims},
		{name: "no_user_id", req: expressToken(map[string]any{"admin": true}, nil), want: token.ErrInvalidClaims},
		{name: "sub_and_other_id", req: expressToken(map[string]any{"sub": "7", "id": 8}, nil), want: token.ErrInvalidClaims},
		{name: "fractional_id", req: expressToken(map[string]any{"id": 4.5}, nil), want: token.ErrInvalidClaims},
		{name: "wrong_issuer", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "issuer": "elsewhere"}), want: token.ErrIssuer,
			verOpts: []token.Option{token.WithIssuer("gatekeep")}},
		{name: "wrong_audience", req: expressToken(map[string]any{"id": 42}, map[string]any{"expiresIn": "15m", "audience": "elsewhere"}), want: token.ErrAudience,
			verOpts: []token.Option{token.WithAudience("gatekeep")}},
	}
	reqs := make([]nodejwt.Request, len(rows))
	for i, r := range rows {
		reqs[i] = r.req
	}
	toks := nodejwt.Sign(t, reqs...)
	key, err := token.NewHMACKey(token.HS256, "node-1", []byte(nodeSecret))
	must(t, err)
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			v, err := token.NewLegacyVerifier(key, append([]token.Option{token.WithClock(clock)}, r.verOpts...)...)
			must(t, err)
			c, err := v.Verify(context.Background(), toks[i])
			checkLegacy(t, c, err, r)
		})
	}
}

func checkLegacy(t *testing.T, c *token.LegacyClaims, err error, r legacyRow) {
	t.Helper()
	if r.want != nil {
		if !errors.Is(err, r.want) || c != nil {
			t.Fatalf("Verify = %+v, %v; want %v", c, err, r.want)
		}
		return
	}
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != r.sub || c.Admin != r.admin || !c.IssuedAt.Equal(now) || !strings.HasPrefix(c.ID, token.LegacyIDPrefix) || len(c.Raw) == 0 {
		t.Fatalf("claims %+v, want sub %q admin %v iat %v", c, r.sub, r.admin, now)
	}
}

// An express application signing with RS256 and its private key: the
// key's public half verifies; HS256 over the public key's PEM (the
// classic confusion) does not.
func TestLegacyVerifierRS256(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	must(t, err)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	must(t, err)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	payload := map[string]any{"id": 42, "admin": true, "iat": legacyIat}
	toks := nodejwt.Sign(t,
		nodejwt.Request{Payload: payload, Key: privPEM, Options: map[string]any{"algorithm": "RS256", "expiresIn": "15m"}},
		nodejwt.Request{Payload: map[string]any{"id": 42, "admin": true, "iat": legacyIat, "exp": legacyIat + 900}, Forge: &nodejwt.Forge{Alg: "HS256", HMAC: pubPEM}},
	)
	key, err := token.NewKey(token.RS256, "rsa-1", priv)
	must(t, err)
	v, err := token.NewLegacyVerifier(key.Public(), token.WithClock(clock))
	must(t, err)
	c, err := v.Verify(context.Background(), toks[0])
	checkLegacy(t, c, err, legacyRow{sub: "42", admin: true})
	c, err = v.Verify(context.Background(), toks[1])
	checkLegacy(t, c, err, legacyRow{want: token.ErrAlgorithm})
}

// gatekeep's own tokens never pass the legacy path, whatever their type.
func TestLegacyVerifierRefusesGatekeepTokens(t *testing.T) {
	ks := nodeKeySet(t)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	v, err := token.NewLegacyVerifier(ks.Active(), token.WithClock(clock))
	must(t, err)
	for _, typ := range []token.Type{token.Access, token.Refresh, token.Reset} {
		tok, err := s.Sign(typ, &token.Claims{Subject: "u-7", SessionID: "s-1", ExpiresAt: now.Add(time.Minute)})
		must(t, err)
		if c, err := v.Verify(context.Background(), tok); !errors.Is(err, token.ErrWrongType) {
			t.Errorf("%s: Verify = %+v, %v; want ErrWrongType", typ, c, err)
		}
	}
	// Typ JWT but a sid: shaped like ours, refused.
	tok, err := s.Sign(token.LegacyType, &token.Claims{Subject: "u-7", SessionID: "s-1", ExpiresAt: now.Add(time.Minute)})
	must(t, err)
	if c, err := v.Verify(context.Background(), tok); !errors.Is(err, token.ErrInvalidClaims) {
		t.Errorf("typ JWT with sid: Verify = %+v, %v; want ErrInvalidClaims", c, err)
	}
	if _, err := token.NewLegacyVerifier(nil); !errors.Is(err, token.ErrInvalidConfig) {
		t.Errorf("NewLegacyVerifier(nil): %v", err)
	}
	c, _ := token.NewCache(0)
	if _, err := token.NewLegacyVerifier(ks.Active(), token.WithCache(c)); !errors.Is(err, token.ErrInvalidConfig) {
		t.Errorf("NewLegacyVerifier with a cache: %v", err)
	}
}
