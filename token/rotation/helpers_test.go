package rotation_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newKEK(t testing.TB) *token.KEK {
	t.Helper()
	b := make([]byte, token.KEKSize)
	_, _ = rand.Read(b)
	k, err := token.NewKEK(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// policy is the timing most tests use: rotate hourly, publish 10 minutes
// ahead, reload every 30 s, keep a retired key 2 h.
const (
	every      = time.Hour
	prepublish = 10 * time.Minute
	reload     = 30 * time.Second
	retain     = 2 * time.Hour
	accessTTL  = 15 * time.Minute
)

// instance is one rotator with the signer and verifier an application
// builds on it.
type instance struct {
	r *rotation.Rotator
	s *token.JWTSigner
	v *token.JWTVerifier
}

func newInstance(t testing.TB, st store.KeyStore, kek *token.KEK, alg token.Algorithm, clk *fakeClock, log *slog.Logger, opts ...rotation.Option) *instance {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = append([]rotation.Option{rotation.WithClock(clk.Now), rotation.WithPrepublish(prepublish),
		rotation.WithReloadInterval(reload), rotation.WithRetain(retain), rotation.WithLogger(log)}, opts...)
	r, err := rotation.New(context.Background(), st, kek, alg, every, opts...)
	if err != nil {
		t.Fatalf("rotation.New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	s, err := token.NewSigner(r.KeySet(), token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	c, err := token.NewCache(0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(r, token.WithClock(clk.Now), token.WithCache(c))
	if err != nil {
		t.Fatal(err)
	}
	return &instance{r: r, s: s, v: v}
}

func (in *instance) sign(t testing.TB, clk *fakeClock) string {
	t.Helper()
	tok, err := in.s.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: clk.Now().Add(accessTTL)})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func (in *instance) sync(t testing.TB) {
	t.Helper()
	if err := in.r.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// kidOf returns the kid in tok's header.
func kidOf(t testing.TB, tok string) string {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	var h struct {
		Kid string `json:"kid"`
	}
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil || h.Kid == "" {
		t.Fatalf("no kid in the token header: %v", err)
	}
	return h.Kid
}

// states returns the ring's kids by state.
func states(t testing.TB, st store.KeyStore) map[store.KeyState][]string {
	t.Helper()
	ring, err := st.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.KeyState][]string{}
	for _, k := range ring.Keys {
		out[k.State] = append(out[k.State], k.ID)
	}
	return out
}

// jwksKids returns the kids the instance's JWK Set publishes.
func jwksKids(in *instance) map[string]bool {
	out := map[string]bool{}
	for _, j := range in.r.KeySet().JWKS().Keys {
		out[j.Kid] = true
	}
	return out
}
