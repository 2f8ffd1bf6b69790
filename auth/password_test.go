package auth

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func bcryptHash(t testing.TB, pw string, cost int) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	require.NoError(t, err)
	return string(b)
}

func TestArgon2idDefaults(t *testing.T) {
	h, err := NewArgon2id(Argon2idParams{})
	require.NoError(t, err)
	assert.Equal(t, Argon2idParams{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, h.Params())
	enc, err := h.Hash(testPassword)
	require.NoError(t, err)
	// PHC string, unpadded standard base64: 16-byte salt = 22 chars, 32-byte key = 43.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	assert.True(t, re.MatchString(enc), enc)
	ok, rehash, err := h.Verify(testPassword, enc)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)
	ok, _, err = h.Verify(testPassword+"x", enc)
	require.NoError(t, err)
	assert.False(t, ok)
	enc2, _ := h.Hash(testPassword)
	assert.NotEqual(t, enc, enc2, "salts must differ")
}

func TestHasherConfig(t *testing.T) {
	tests := []struct {
		name string
		make func() error
		ok   bool
	}{
		{"argon2id defaults", func() error { _, err := NewArgon2id(Argon2idParams{}); return err }, true},
		{"argon2id OWASP m=46MiB t=1", func() error { _, err := NewArgon2id(Argon2idParams{Memory: 47104, Time: 1}); return err }, true},
		{"argon2id too little memory", func() error { _, err := NewArgon2id(Argon2idParams{Memory: 4096, Time: 10}); return err }, false},
		{"argon2id too little work", func() error { _, err := NewArgon2id(Argon2idParams{Memory: 8192, Time: 1}); return err }, false},
		{"argon2id short salt", func() error { _, err := NewArgon2id(Argon2idParams{SaltLen: 8}); return err }, false},
		{"argon2id absurd memory", func() error { _, err := NewArgon2id(Argon2idParams{Memory: 1 << 22}); return err }, false},
		{"bcrypt default", func() error { h, err := NewBcrypt(0); assert.Equal(t, 12, h.Cost()); return err }, true},
		{"bcrypt 10", func() error { _, err := NewBcrypt(10); return err }, true},
		{"bcrypt 9", func() error { _, err := NewBcrypt(9); return err }, false},
		{"bcrypt 17", func() error { _, err := NewBcrypt(17); return err }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalidConfig)
			}
		})
	}
}

func TestBcryptLongPasswords(t *testing.T) {
	h := &Bcrypt{cost: 4}
	_, err := h.Hash(strings.Repeat("p", 73))
	assert.ErrorIs(t, err, ErrPasswordTooLong)
	p72 := strings.Repeat("p", 72)
	enc, err := h.Hash(p72)
	require.NoError(t, err)
	ok, _, err := h.Verify(p72, enc)
	require.NoError(t, err)
	assert.True(t, ok)
	// bcrypt reads 72 bytes: a 72-byte prefix plus anything must not log in.
	ok, _, err = h.Verify(p72+"anything", enc)
	require.NoError(t, err)
	assert.False(t, ok)

	// Over HTTP: a clear 400, never a silent truncation.
	f := newFixture(t, nil, WithHasher(h))
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("bob", strings.Repeat("p", 73))})
	requireError(t, w, 400, CodeInvalidRequest)
	assert.Contains(t, w.Body.String(), "72")
}

func TestCrossFormatVerify(t *testing.T) {
	argon := fastHasher()
	bc := &Bcrypt{cost: 4}
	aEnc, _ := argon.Hash(testPassword)
	bEnc, _ := bc.Hash(testPassword)
	oldBcrypt := bcryptHash(t, testPassword, 5)
	strongerArgon, _ := (&Argon2id{p: Argon2idParams{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}}).Hash(testPassword)
	tests := []struct {
		name       string
		h          Hasher
		enc        string
		wantRehash bool
	}{
		{"argon2id hasher, argon2id hash", argon, aEnc, false},
		{"argon2id hasher, bcrypt hash", argon, bEnc, true},
		{"argon2id hasher, other parameters", argon, strongerArgon, true},
		{"bcrypt hasher, bcrypt hash", bc, bEnc, false},
		{"bcrypt hasher, other cost", bc, oldBcrypt, true},
		{"bcrypt hasher, argon2id hash", bc, aEnc, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.h.Verify(testPassword, tt.enc)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, tt.wantRehash, rehash)
			ok, rehash, err = tt.h.Verify("wrong password", tt.enc)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.False(t, rehash, "a wrong password never asks for a rehash")
		})
	}
}

func TestUnreadableHashes(t *testing.T) {
	good, _ := fastHasher().Hash(testPassword)
	parts := strings.Split(good, "$")
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"plaintext", testPassword},
		{"md5 crypt", "$1$abc$def"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"padded salt", strings.Join([]string{"", "argon2id", "v=19", parts[3], parts[4] + "==", parts[5]}, "$")},
		{"params reordered", strings.Join([]string{"", "argon2id", "v=19", "t=1,m=64,p=1", parts[4], parts[5]}, "$")},
		{"leading zero", strings.Join([]string{"", "argon2id", "v=19", "m=064,t=1,p=1", parts[4], parts[5]}, "$")},
		// A stored hash must not make a login allocate gigabytes.
		{"huge memory", strings.Join([]string{"", "argon2id", "v=19", "m=4194304,t=1,p=1", parts[4], parts[5]}, "$")},
		{"huge time", strings.Join([]string{"", "argon2id", "v=19", "m=64,t=100000,p=1", parts[4], parts[5]}, "$")},
		// DoS: each bound alone allowed 1 GiB × 32 passes, about a minute a login.
		{"1 GiB memory", strings.Join([]string{"", "argon2id", "v=19", "m=1048576,t=1,p=1", parts[4], parts[5]}, "$")},
		{"memory × time", strings.Join([]string{"", "argon2id", "v=19", "m=262144,t=32,p=1", parts[4], parts[5]}, "$")},
		{"many lanes", strings.Join([]string{"", "argon2id", "v=19", "m=65536,t=1,p=64", parts[4], parts[5]}, "$")},
		{"zero threads", strings.Join([]string{"", "argon2id", "v=19", "m=64,t=1,p=0", parts[4], parts[5]}, "$")},
		{"short key", strings.Join([]string{"", "argon2id", "v=19", parts[3], parts[4], "AAAA"}, "$")},
		{"extra field", good + "$x"},
		{"bcrypt garbage", "$2b$04$short"},
		// A stored bcrypt cost of 31 would take days.
		{"bcrypt cost 31", "$2b$31$" + strings.Repeat("a", 53)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, h := range []Hasher{fastHasher(), &Bcrypt{cost: 4}} {
				ok, _, err := h.Verify(testPassword, tt.enc)
				assert.False(t, ok)
				assert.ErrorIs(t, err, ErrUnknownHash)
			}
		})
	}
}

func FuzzParseArgon2id(f *testing.F) {
	good, _ := fastHasher().Hash(testPassword)
	f.Add(good)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parseArgon2id(s)
		if err != nil {
			return
		}
		if !argonWithinLimits(p) || len(salt) < 8 || len(key) < argonMinKey {
			t.Fatalf("accepted out-of-range parameters %+v", p)
		}
	})
}

// blockingHasher holds each hash until release is closed.
type blockingHasher struct {
	Hasher
	entered chan struct{}
	release chan struct{}
}

func (h blockingHasher) Verify(pw, enc string) (bool, bool, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.Hasher.Verify(pw, enc)
}

// TestHashSaturation: with every hashing slot taken and the queue full, a
// login is answered at once with 503 and Retry-After, not queued.
func TestHashSaturation(t *testing.T) {
	bh := blockingHasher{Hasher: fastHasher(), entered: make(chan struct{}, 8), release: make(chan struct{})}
	f := newFixture(t, nil)
	f.register("alice")
	a, err := New(f.signer, f.verifier, f.st, WithHasher(bh), WithClock(f.clk.Now),
		WithMaxConcurrentHashes(1, time.Minute), WithHashQueue(1))
	require.NoError(t, err)
	mux := http.NewServeMux()
	a.Mount(mux)
	login := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("POST", "/auth/login", strings.NewReader(creds("alice", testPassword))))
		return w
	}
	done := make(chan int, 2)
	go func() { done <- login().Code }() // takes the slot
	<-bh.entered
	go func() { done <- login().Code }() // waits in the queue
	require.Eventually(t, func() bool { return a.hashWaiting.Load() == 1 }, 5*time.Second, time.Millisecond)
	w := login() // the queue is full: refused at once
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"unavailable"`)
	close(bh.release)
	assert.Equal(t, http.StatusOK, <-done)
	assert.Equal(t, http.StatusOK, <-done)
	assert.Equal(t, max(1, runtime.GOMAXPROCS(0)/2), DefaultHashConcurrency())
}
