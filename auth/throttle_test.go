package auth

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
)

func TestLoginThrottlePerAccount(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(3, time.Minute))
	f.register("alice")
	bad := creds("ALICE", "wrong password")
	for i := range 3 {
		w := f.do(req{method: "POST", path: "/auth/login", body: bad})
		requireError(t, w, http.StatusUnauthorized, CodeInvalidCredentials)
		_ = i
	}
	// The fourth attempt is refused before the password is looked at,
	// even with the right password.
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, ra > 0 && ra <= 60, "Retry-After %d", ra)
	assert.Contains(t, f.logs.all(), "auth.login_throttled")

	// Another account from the same IP is not locked.
	f.register("bob")
	assert.Equal(t, http.StatusOK, f.do(req{method: "POST", path: "/auth/login", body: creds("bob", testPassword)}).Code)

	// When the window ends, the account opens again.
	f.clk.Advance(time.Minute + time.Second)
	f.login("alice")
}

func TestLoginThrottleUnknownUserAlike(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(2, time.Minute))
	f.register("alice")
	// No enumeration: an unknown name is throttled exactly like a known one.
	var known, unknown []int
	for range 3 {
		known = append(known, f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password")}).Code)
		unknown = append(unknown, f.do(req{method: "POST", path: "/auth/login", body: creds("nobody", "wrong password")}).Code)
	}
	assert.Equal(t, []int{401, 401, 429}, known)
	assert.Equal(t, known, unknown)
}

func TestLoginSuccessResetsAccount(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(2, time.Minute))
	f.register("alice")
	for range 3 {
		requireError(t, f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "wrong password")}), 401, CodeInvalidCredentials)
		f.login("alice")
	}
}

func TestLoginThrottlePerIP(t *testing.T) {
	f := newFixture(t, nil, WithLoginThrottle(1, time.Minute))
	// Ten times the account limit per IP: ten names, one failure each.
	for i := range 10 {
		w := f.do(req{method: "POST", path: "/auth/login", body: creds("user"+strconv.Itoa(i), "wrong password"), remote: "203.0.113.7:4000"})
		requireError(t, w, 401, CodeInvalidCredentials)
	}
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("fresh", "wrong password"), remote: "203.0.113.7:4001"})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
	// Another client is not affected.
	w = f.do(req{method: "POST", path: "/auth/login", body: creds("fresh", "wrong password"), remote: "203.0.113.8:4000"})
	requireError(t, w, 401, CodeInvalidCredentials)
	// IPv6 clients are counted by /64: a new address in the same /64 is the same client.
	for i := range 10 {
		f.do(req{method: "POST", path: "/auth/login", body: creds("v6user"+strconv.Itoa(i), "wrong password"), remote: "[2001:db8::" + strconv.Itoa(i+1) + "]:4000"})
	}
	w = f.do(req{method: "POST", path: "/auth/login", body: creds("v6fresh", "wrong password"), remote: "[2001:db8::ffff]:4000"})
	requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
}

func TestClientIP(t *testing.T) {
	a := &Authenticator{cfg: config{trustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}}}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct", "198.51.100.1:1234", nil, "198.51.100.1"},
		// An untrusted peer's X-Forwarded-For is never believed.
		{"untrusted peer spoofs header", "198.51.100.1:1234", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted proxy", "10.0.0.2:1234", []string{"203.0.113.9"}, "203.0.113.9"},
		// The client wrote the leftmost entries; the rightmost untrusted one is the truth.
		{"client prepends a fake", "10.0.0.2:1234", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"chain of proxies", "10.0.0.2:1234", []string{"203.0.113.9, 10.1.1.1", "10.2.2.2"}, "203.0.113.9"},
		{"all trusted", "10.0.0.2:1234", []string{"10.1.1.1"}, "10.1.1.1"},
		{"no header behind proxy", "10.0.0.2:1234", nil, "10.0.0.2"},
		// Garbage is not an address: the last trusted hop stands.
		{"garbage entry", "10.0.0.2:1234", []string{"203.0.113.9, not-an-ip"}, "10.0.0.2"},
		{"ipv4-mapped ipv6 peer", "[::ffff:198.51.100.1]:1234", nil, "198.51.100.1"},
		{"ipv6 proxy", "[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"unparsable remote", "pipe", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, a.ClientIP(r).String())
		})
	}
}

func TestHashSlotsBoundConcurrency(t *testing.T) {
	f := newFixture(t, nil, WithMaxConcurrentHashes(1, 20*time.Millisecond))
	f.register("alice")
	release, err := f.a.acquireHash(context.Background())
	require.NoError(t, err)
	// The only slot is taken: a login waits 20ms, then gets 503.
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	requireError(t, w, http.StatusServiceUnavailable, CodeUnavailable)
	release()
	f.login("alice")
}

func TestLoginRehashes(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	// A bcrypt hash of cost 4 from an older deployment.
	old := bcryptHash(t, testPassword, 4)
	_, err := f.st.UpdateUser(t.Context(), tr.User.ID, store.UserUpdate{PasswordHash: &old})
	require.NoError(t, err)
	f.login("alice")
	u, err := f.st.User(t.Context(), tr.User.ID)
	require.NoError(t, err)
	assert.True(t, isArgon2id(u.PasswordHash), "the hash was not upgraded")
	assert.Contains(t, f.logs.all(), "auth.rehashed")
	f.login("alice")
}

func TestStoreDownFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	require.NoError(t, f.st.(interface{ Close() error }).Close())
	for _, r := range []req{
		{method: "GET", path: "/private", bearer: tr.AccessToken},
		{method: "GET", path: "/optional", bearer: tr.AccessToken},
		{method: "GET", path: "/admin", bearer: tr.AccessToken},
		{method: "POST", path: "/auth/login", body: creds("alice", testPassword)},
		{method: "POST", path: "/auth/register", body: creds("bob", testPassword)},
		{method: "POST", path: "/auth/refresh", body: jsonBody(map[string]string{"refresh_token": tr.RefreshToken})},
		{method: "POST", path: "/auth/logout", bearer: tr.AccessToken},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			w := f.do(r)
			requireError(t, w, http.StatusServiceUnavailable, CodeUnavailable)
			assert.NotContains(t, w.Body.String(), "memory")
		})
	}
	w := f.do(req{method: "GET", path: "/healthz"})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.JSONEq(t, `{"status":"unavailable"}`, w.Body.String())
}

// countingHasher counts the verifications it runs.
type countingHasher struct {
	Hasher
	mu       sync.Mutex
	verified []string
}

func (h *countingHasher) Verify(pw, enc string) (bool, bool, error) {
	h.mu.Lock()
	h.verified = append(h.verified, enc)
	h.mu.Unlock()
	return h.Hasher.Verify(pw, enc)
}

func TestUnknownUserCostsAVerification(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher()}
	f := newFixture(t, nil, WithHasher(h))
	f.register("alice")
	tests := []struct{ name, username string }{
		{"wrong password", "alice"},
		// Timing must not tell whether the account exists.
		{"unknown user", "nobody"},
		{"unusable username", "no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			h.verified = nil
			h.mu.Unlock()
			requireError(t, f.do(req{method: "POST", path: "/auth/login", body: creds(tt.username, "wrong password")}), 401, CodeInvalidCredentials)
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Len(t, h.verified, 1)
			assert.True(t, isArgon2id(h.verified[0]), "verified against a hash of the configured kind")
		})
	}
}
