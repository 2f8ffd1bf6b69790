package token_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// TestCacheDefaultFullMemory measures the heap a default cache
// (NewCache(0), as config and auth build it) holds when full: its shards
// and index, DefaultCacheCapacity entries, and the token strings they keep
// (not the tokens it evicted, which are garbage), each token presented as
// a fresh string, as one read from a request header is. The tokens have
// the shape of gatekeep's access tokens (kid, typ at+jwt, iss, sub, aud,
// exp, iat, jti, sid, roles ["user"], preferred_username; 32-hex-digit
// ids; HS256), about 450 bytes, as long as the example server's, and are
// verified through VerifyInto as the auth middleware does. The README
// quotes the figure this logs:
//
//	go test ./token -run TestCacheDefaultFullMemory -count=1 -v
func TestCacheDefaultFullMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	if testing.Short() {
		t.Skip("signs DefaultCacheCapacity tokens")
	}
	// A kid as long as the one config derives for an HMAC key.
	ks, err := token.NewKeySet(keyFor(t, token.HS256, "hs-0123456789abcdef"))
	must(t, err)
	opts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep")}
	s, err := token.NewSigner(ks, opts...)
	must(t, err)
	id := func() string {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	type extra struct {
		Username string `json:"preferred_username,omitempty"`
	}
	n := token.DefaultCacheCapacity
	// Twice the capacity, so that every shard fills (tokens spread over
	// the shards unevenly); the cache keeps n of them.
	raw := make([][]byte, 2*n) // bytes, so that no string is shared with the cache
	exp := time.Now().Add(15 * time.Minute)
	for i := range raw {
		tok, err := s.Sign(token.Access, &token.Claims{
			Subject: id(), SessionID: id(), ID: id(), Roles: []string{"user"},
			ExpiresAt: exp, IssuedAt: time.Now(),
			Extra: extra{Username: fmt.Sprintf("user-%06d", i)},
		})
		must(t, err)
		raw[i] = []byte(tok)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := token.NewCache(0)
	must(t, err)
	v, err := token.NewVerifier(ks, append(opts, token.WithCache(c))...)
	must(t, err)
	ctx := context.Background()
	for _, b := range raw {
		var e extra
		if _, err := token.VerifyInto(ctx, v, token.Access, string(b), &e); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := c.Stats()
	if st.Entries != n || st.Capacity != n {
		t.Fatalf("cache holds %d entries (capacity %d), want it full with %d", st.Entries, st.Capacity, n)
	}
	total := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	t.Logf("default cache full: %d entries of %d-byte tokens: %.1f MiB on the heap (%.0f bytes per entry)",
		st.Entries, len(raw[0]), total/(1<<20), total/float64(n))
	// The README states about 40 MiB; fail if that is no longer near true.
	if total < 28<<20 || total > 48<<20 {
		t.Errorf("a full default cache holds %.1f MiB: update the README's figure and DefaultCacheCapacity's doc", total/(1<<20))
	}
	runtime.KeepAlive(v)
	runtime.KeepAlive(raw)
}
