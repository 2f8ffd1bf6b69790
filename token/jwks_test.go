package token_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

func TestJWKSPublicMembersOnly(t *testing.T) {
	var keys []*token.Key
	for _, alg := range token.Algorithms() {
		keys = append(keys, keyFor(t, alg, string(alg)))
	}
	ks, err := token.NewKeySet(keys[0], keys[1:]...)
	must(t, err)
	set := ks.JWKS()
	if len(set.Keys) != 10 { // 13 algorithms, 3 of them HMAC
		t.Fatalf("want 10 public keys, got %d", len(set.Keys))
	}
	for _, j := range set.Keys {
		if j.Use != "sig" || j.Alg != j.Kid || j.Kty == "oct" {
			t.Fatalf("bad JWK %+v", j)
		}
	}
	b, err := json.Marshal(set)
	must(t, err)
	var raw struct{ Keys []map[string]any }
	must(t, json.Unmarshal(b, &raw))
	for _, m := range raw.Keys {
		// RFC 7518 §6.2.2, §6.3.2, RFC 8037: private members
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := m[priv]; ok {
				t.Fatalf("private member %q in JWKS", priv)
			}
		}
	}

	hsOnly, err := token.NewKeySet(keyFor(t, token.HS256, "hs"))
	must(t, err)
	rec := httptest.NewRecorder()
	token.JWKSHandler(hsOnly).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"keys":[]}` {
		t.Fatalf("HMAC set served %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Cache-Control") == "" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	token.JWKSHandler(hsOnly).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST got %d", rec.Code)
	}
}

func TestJWKRoundTrip(t *testing.T) {
	for _, alg := range token.Algorithms() {
		if strings.HasPrefix(string(alg), "HS") {
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			k := keyFor(t, alg, "")
			ks, err := token.NewKeySet(k)
			must(t, err)
			j := ks.JWKS().Keys[0]
			back, err := j.Key()
			must(t, err)
			if back.KID() != k.KID() || back.Algorithm() != alg || back.CanSign() {
				t.Fatalf("round trip: %v", back)
			}
			// RFC 7638: the derived kid is the thumbprint, so recomputing it
			// from the JWK gives the same value.
			again, err := token.NewKey(alg, "", back.PublicKey())
			must(t, err)
			if again.KID() != k.KID() {
				t.Fatalf("thumbprint differs: %s %s", again.KID(), k.KID())
			}
		})
	}
}

func TestJWKRefusesBadKeys(t *testing.T) {
	es := keyFor(t, token.ES256, "es")
	ks, err := token.NewKeySet(es)
	must(t, err)
	good := ks.JWKS().Keys[0]
	mod := func(f func(*token.JWK)) token.JWK { j := good; f(&j); return j }
	rows := []struct {
		name string
		j    token.JWK
	}{
		{"no alg (cannot pin)", mod(func(j *token.JWK) { j.Alg = "" })},
		{"no kid", mod(func(j *token.JWK) { j.Kid = "" })},
		{"use enc", mod(func(j *token.JWK) { j.Use = "enc" })},
		{"alg none", mod(func(j *token.JWK) { j.Alg = "none" })},
		// a symmetric JWK would turn a public set into a forging key
		{"kty oct", mod(func(j *token.JWK) { j.Kty = "oct"; j.Alg = "HS256" })},
		{"alg from another family", mod(func(j *token.JWK) { j.Alg = "RS256" })},
		{"wrong curve", mod(func(j *token.JWK) { j.Crv = "P-384" })},
		// invalid-curve attack: a point not on P-256
		{"point off the curve", mod(func(j *token.JWK) { j.Y = j.X })},
		{"padded coordinate", mod(func(j *token.JWK) { j.X += "=" })},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if _, err := r.j.Key(); !errors.Is(err, token.ErrInvalidKey) {
				t.Fatalf("want ErrInvalidKey, got %v", err)
			}
		})
	}
}

// jwksServer serves ks and counts requests.
func jwksServer(t *testing.T, ks *token.KeySet) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	h := token.JWKSHandler(ks)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: now} }
func signWith(t *testing.T, k *token.Key) string {
	t.Helper()
	ks, err := token.NewKeySet(k)
	must(t, err)
	s, err := token.NewSigner(ks, token.WithClock(clock))
	must(t, err)
	tok, err := s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: now.Add(time.Hour)})
	must(t, err)
	return tok
}

func TestRemoteKeySource(t *testing.T) {
	k1 := keyFor(t, token.ES256, "k1")
	issuer, err := token.NewKeySet(k1)
	must(t, err)
	srv, hits := jwksServer(t, issuer)
	fc := newFakeClock()
	src, err := token.NewRemoteKeySource(srv.URL+"/.well-known/jwks.json",
		token.WithRefreshInterval(time.Minute), token.WithRemoteClock(fc.Now))
	must(t, err)
	v, err := token.NewVerifier(src, token.WithClock(clock))
	must(t, err)
	ctx := context.Background()

	if _, err := v.Verify(ctx, token.Access, signWith(t, k1)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, token.Access, signWith(t, k1)); err != nil || hits.Load() != 1 {
		t.Fatalf("second verify: %v, %d fetches", err, hits.Load())
	}

	// attack: a flood of unknown kids costs at most one fetch per interval
	k2 := keyFor(t, token.EdDSA, "k2")
	tok2 := signWith(t, k2)
	for i := 0; i < 50; i++ {
		if _, err := v.Verify(ctx, token.Access, tok2); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("unknown kids caused %d fetches within the interval", hits.Load()-1)
	}

	// The issuer rotates; after the interval an unknown kid refetches once.
	must(t, issuer.Add(k2.Public()))
	fc.Add(time.Minute)
	if _, err := v.Verify(ctx, token.Access, tok2); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("want 2 fetches, got %d", hits.Load())
	}

	// A key the issuer removed stops verifying once the max age passes.
	must(t, issuer.Remove("k2"))
	fc.Add(token.DefaultRemoteMaxAge)
	if _, err := v.Verify(ctx, token.Access, tok2); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("removed key still verifies: %v", err)
	}
}

func TestRemoteKeySourceFailsClosed(t *testing.T) {
	k1 := keyFor(t, token.ES256, "k1")
	tok := signWith(t, k1)
	ctx := context.Background()
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	// An attacker's JWK Set that does hold the signing key: following a
	// redirect to it would make the token verify.
	attackerKeys, err := token.NewKeySet(k1)
	must(t, err)
	attacker, _ := jwksServer(t, attackerKeys)
	rows := []struct {
		name    string
		handler http.HandlerFunc
		opts    []token.RemoteOption
	}{
		// attack: a caller's own client must not bring back redirects
		{"redirect with the caller's client", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, attacker.URL+"/.well-known/jwks.json", http.StatusFound)
		}, []token.RemoteOption{token.WithHTTPClient(&http.Client{})}},
		{"500", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, nil},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }, nil},
		// DoS: an endless body is cut at the limit
		{"body too large", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 2048) + `]}`))
		}, []token.RemoteOption{token.WithMaxBodySize(1024)}},
		// DoS: a server that never answers is cut by the timeout
		{"hangs", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}, []token.RemoteOption{token.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond})}},
		// attack: a redirect could lead to plain http or another host; here
		// to a JWK Set that holds the signing key, so following it would
		// make the token verify
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, attacker.URL+"/.well-known/jwks.json", http.StatusFound)
		}, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			srv := httptest.NewServer(r.handler)
			t.Cleanup(srv.Close)
			src, err := token.NewRemoteKeySource(srv.URL, r.opts...)
			must(t, err)
			v, err := token.NewVerifier(src, token.WithClock(clock))
			must(t, err)
			start := time.Now()
			if _, err := v.Verify(ctx, token.Access, tok); !errors.Is(err, token.ErrUnavailable) {
				t.Fatalf("want ErrUnavailable, got %v", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("fetch not bounded")
			}
		})
	}
}

func TestRemoteKeySourceURLRules(t *testing.T) {
	rows := []struct {
		name string
		url  string
		opts []token.RemoteOption
		ok   bool
	}{
		{"https", "https://issuer.example/.well-known/jwks.json", nil, true},
		{"http loopback", "http://127.0.0.1:8080/jwks", nil, true},
		{"http localhost", "http://localhost:8080/jwks", nil, true},
		// plain http to another host lets anyone on the path swap keys
		{"http remote", "http://issuer.example/jwks", nil, false},
		{"http remote, insecure opt-in", "http://issuer.example/jwks", []token.RemoteOption{token.WithInsecureHTTP()}, true},
		{"file", "file:///etc/passwd", nil, false},
		{"relative", "/jwks", nil, false},
		{"zero interval", "https://issuer.example/jwks", []token.RemoteOption{token.WithRefreshInterval(0)}, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := token.NewRemoteKeySource(r.url, r.opts...)
			if (err == nil) != r.ok {
				t.Fatalf("ok=%v, err=%v", r.ok, err)
			}
			if err != nil && !errors.Is(err, token.ErrInvalidConfig) {
				t.Fatalf("want ErrInvalidConfig, got %v", err)
			}
		})
	}
}

func TestRemoteKeySourceDropsDuplicateKids(t *testing.T) {
	a, b := keyFor(t, token.ES256, "same"), keyFor(t, token.EdDSA, "same")
	ja, err := token.NewKeySet(a)
	must(t, err)
	jb, err := token.NewKeySet(b)
	must(t, err)
	set := token.JWKSet{Keys: append(ja.JWKS().Keys, jb.JWKS().Keys...)}
	body, err := json.Marshal(set)
	must(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	src, err := token.NewRemoteKeySource(srv.URL)
	must(t, err)
	// an ambiguous kid is never resolved to either key
	if _, err := src.LookupKey(context.Background(), "same"); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("duplicate kid resolved: %v", err)
	}
}

// A refetch of an unchanged JWK Set keeps the keys' identity, so the
// verified-token cache keeps its entries (an attacker sending made-up kids
// can force a refetch every interval); a changed key still drops them.
func TestRemoteRefetchKeepsCache(t *testing.T) {
	k1 := keyFor(t, token.ES256, "k1")
	issuer, err := token.NewKeySet(keyFor(t, token.ES256, "k0"), k1.Public())
	must(t, err)
	srv, hits := jwksServer(t, issuer)
	fc := newFakeClock()
	src, err := token.NewRemoteKeySource(srv.URL, token.WithRefreshInterval(time.Minute), token.WithRemoteClock(fc.Now))
	must(t, err)
	cache, err := token.NewCache(0)
	must(t, err)
	v, err := token.NewVerifier(src, token.WithClock(clock), token.WithCache(cache))
	must(t, err)
	ctx := context.Background()
	tok := signWith(t, k1)
	verify := func() {
		t.Helper()
		if _, err := v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatal(err)
		}
	}
	verify()
	fc.Add(token.DefaultRemoteMaxAge) // the snapshot is stale: the next lookup refetches
	verify()
	if hits.Load() != 2 {
		t.Fatalf("want a refetch, got %d fetches", hits.Load())
	}
	if m := cache.Stats().Misses; m != 1 {
		t.Errorf("an unchanged refetch dropped the cache: %d misses, want 1", m)
	}

	// The issuer replaces k1 under the same kid: the old entry must go.
	must(t, issuer.Remove("k1"))
	fresh, err := token.GenerateKey(token.ES256, "k1") // keyFor's keys are fixed per algorithm
	must(t, err)
	must(t, issuer.Add(fresh.Public()))
	fc.Add(token.DefaultRemoteMaxAge)
	if _, err := v.Verify(ctx, token.Access, tok); err == nil {
		t.Fatal("a token of a replaced key still verifies")
	}
}

// TestRemoteKeySourceAlgLessJWKs: RFC 7517 makes alg optional and most
// identity providers omit it. With the algorithm configured, a JWK without
// alg is taken when its kty and crv fit; one that does not fit, or names
// another alg, is ignored; without the configuration, alg-less JWKs are
// ignored as before.
func TestRemoteKeySourceAlgLessJWKs(t *testing.T) {
	es := keyFor(t, token.ES256, "es")
	es384 := keyFor(t, token.ES384, "es384")
	rs := keyFor(t, token.RS256, "rs")
	set := func(k *token.Key, dropAlg bool, alg string) map[string]any {
		ks, err := token.NewKeySet(k)
		must(t, err)
		b, err := json.Marshal(ks.JWKS().Keys[0])
		must(t, err)
		var m map[string]any
		must(t, json.Unmarshal(b, &m))
		if dropAlg {
			delete(m, "alg")
		}
		if alg != "" {
			m["alg"] = alg
		}
		return m
	}
	body, err := json.Marshal(map[string]any{"keys": []any{
		set(es, true, ""),    // ES256 key without alg: fits ES256
		set(es384, true, ""), // P-384 without alg: crv does not fit ES256
		set(rs, true, ""),    // RSA without alg: kty does not fit ES256
	}})
	must(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	pinned, err := token.NewRemoteKeySource(srv.URL, token.WithRemoteAlgorithm(token.ES256))
	must(t, err)
	v, err := token.NewVerifier(pinned, token.WithClock(clock))
	must(t, err)
	if _, err := v.Verify(ctx, token.Access, signWith(t, es)); err != nil {
		t.Fatalf("alg-less ES256 JWK: %v", err)
	}
	for _, k := range []*token.Key{es384, rs} {
		if _, err := v.Verify(ctx, token.Access, signWith(t, k)); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("%s key of a JWK that does not fit ES256: %v", k.KID(), err)
		}
	}

	unpinned, err := token.NewRemoteKeySource(srv.URL)
	must(t, err)
	if _, err := unpinned.LookupKey(ctx, "es"); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("without a configured algorithm an alg-less JWK is ignored: %v", err)
	}

	// A JWK naming another alg than the configured one is ignored.
	body, err = json.Marshal(map[string]any{"keys": []any{set(es, false, "ES384")}})
	must(t, err)
	other, err := token.NewRemoteKeySource(srv.URL, token.WithRemoteAlgorithm(token.ES256))
	must(t, err)
	if _, err := other.LookupKey(ctx, "es"); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("a JWK of another alg: %v", err)
	}
	if _, err := token.NewRemoteKeySource(srv.URL, token.WithRemoteAlgorithm("none")); err == nil {
		t.Fatal("an unknown algorithm is refused")
	}
}
