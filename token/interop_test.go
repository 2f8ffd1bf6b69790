package token_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// nodeSecret is the secret of a Node service's .env (JWT_SECRET), used as
// raw bytes by both sides.
const nodeSecret = "a-node-dotenv-JWT_SECRET-of-32+-bytes!!"

// nodeToken was produced in jsonwebtoken's byte layout (header alg, typ,
// kid; claims in jsonwebtoken's order; unpadded base64url):
//
//	jwt.sign({roles: ['user','admin'], sid: 's-42'}, secret, {
//	  header: {typ: 'at+jwt'}, keyid: 'node-1', expiresIn: 900,
//	  audience: 'gatekeep', issuer: 'gatekeep', subject: 'u-7', jwtid: 'b3f1c0de'})
//
// at 2026-01-02T03:04:05Z.
const nodeToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vZGUtMSJ9." +
	"eyJyb2xlcyI6WyJ1c2VyIiwiYWRtaW4iXSwic2lkIjoicy00MiIsImlhdCI6MTc2NzMyMzA0NSwiZXhwIjoxNzY3MzIzOTQ1LCJhdWQiOiJnYXRla2VlcCIsImlzcyI6ImdhdGVrZWVwIiwic3ViIjoidS03IiwianRpIjoiYjNmMWMwZGUifQ." +
	"b2Nep02OoN-vuGLvul98ankaSUFAOeDgm5BNuM_4-p0"

func nodeKeySet(t *testing.T) *token.KeySet {
	k, err := token.NewHMACKey(token.HS256, "node-1", []byte(nodeSecret))
	must(t, err)
	ks, err := token.NewKeySet(k)
	must(t, err)
	return ks
}

func TestInteropVerifiesJsonwebtokenToken(t *testing.T) {
	v, err := token.NewVerifier(nodeKeySet(t), token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
	must(t, err)
	c, err := v.Verify(context.Background(), token.Access, nodeToken)
	must(t, err)
	if c.Subject != "u-7" || c.SessionID != "s-42" || c.ID != "b3f1c0de" || strings.Join(c.Roles, ",") != "user,admin" ||
		!c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("claims %+v", c)
	}
}

// TestInteropTokenShapeForJsonwebtoken checks what jsonwebtoken.verify
// relies on: unpadded base64url, header alg/typ/kid, NumericDate integers,
// aud as a string when single.
func TestInteropTokenShapeForJsonwebtoken(t *testing.T) {
	s, err := token.NewSigner(nodeKeySet(t), token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"), token.WithClock(clock))
	must(t, err)
	tok, err := s.Sign(token.Access, &token.Claims{Subject: "u-7", ExpiresAt: now.Add(15 * time.Minute).Add(500 * time.Millisecond)})
	must(t, err)
	if strings.ContainsAny(tok, "=+/") {
		t.Fatalf("not base64url: %s", tok)
	}
	parts := strings.Split(tok, ".")
	var h map[string]any
	var p map[string]any
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	must(t, err)
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	must(t, json.Unmarshal(hb, &h))
	must(t, json.Unmarshal(pb, &p))
	if h["alg"] != "HS256" || h["typ"] != "at+jwt" || h["kid"] != "node-1" {
		t.Fatalf("header %v", h)
	}
	if p["aud"] != "gatekeep" || p["iss"] != "gatekeep" || p["exp"] != float64(now.Unix()+900) || p["iat"] != float64(now.Unix()) {
		t.Fatalf("payload %s", pb)
	}
}
