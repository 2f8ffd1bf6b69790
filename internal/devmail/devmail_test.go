package devmail_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/devmail"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

func msg(user string) auth.PasswordReset {
	return auth.PasswordReset{UserID: "u1", Username: user, Email: "alice@example.com",
		Link: "https://app.example.com/reset#token=abc.def.ghi", Token: "abc.def.ghi",
		ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestFilesInDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail") // created by New
	m, err := devmail.New(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, dir, m.Dir())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { assert.NoError(t, m.NotifyPasswordReset(t.Context(), msg("alice"))) })
	}
	wg.Wait()
	paths, err := devmail.Messages(dir)
	require.NoError(t, err)
	require.Len(t, paths, 10) // unique names
	for _, p := range paths {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		tok, ok := devmail.Token(b)
		require.True(t, ok)
		assert.Equal(t, "abc.def.ghi", tok)
		assert.Contains(t, string(b), "Link: https://app.example.com/reset#token=abc.def.ghi\n")
		assert.Contains(t, string(b), "To: alice <alice@example.com>\n")
		assert.Contains(t, string(b), "Expires: 2030-01-02T03:04:05Z\n")
	}
	tok, err := devmail.LatestToken(dir)
	require.NoError(t, err)
	assert.Equal(t, "abc.def.ghi", tok)
	_, err = devmail.LatestToken(t.TempDir())
	require.Error(t, err)
}

func TestStdout(t *testing.T) {
	var buf bytes.Buffer
	m, err := devmail.New("", &buf)
	require.NoError(t, err)
	assert.Empty(t, m.Dir())
	require.NoError(t, m.NotifyPasswordReset(t.Context(), msg("alice")))
	tok, ok := devmail.Token(buf.Bytes())
	require.True(t, ok)
	assert.Equal(t, "abc.def.ghi", tok)
}

// A username cannot forge a line of the message.
func TestNoHeaderInjection(t *testing.T) {
	b := devmail.Format(msg("mallory\nToken: forged"))
	tok, ok := devmail.Token(b)
	require.True(t, ok)
	assert.Equal(t, "abc.def.ghi", tok)
	assert.NotContains(t, string(b), "\nToken: forged")
}

// TestWithAuth runs forgot and reset through the mailer, as the examples do.
func TestWithAuth(t *testing.T) {
	dir := t.TempDir()
	m, err := devmail.New(dir, nil)
	require.NoError(t, err)
	key, err := token.NewHMACKey(token.HS256, "k", bytes.Repeat([]byte("k"), 32))
	require.NoError(t, err)
	ks, err := token.NewKeySet(key)
	require.NoError(t, err)
	signer, err := token.NewSigner(ks)
	require.NoError(t, err)
	verifier, err := token.NewVerifier(ks)
	require.NoError(t, err)
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	h, err := auth.NewArgon2id(auth.Argon2idParams{Memory: 7168, Time: 5}) // the cheapest New accepts
	require.NoError(t, err)
	a, err := auth.New(signer, verifier, st, auth.WithHasher(h),
		auth.WithPasswordReset(m, "http://localhost:8080/reset-password"))
	require.NoError(t, err)
	mux := http.NewServeMux()
	a.Mount(mux)
	post := func(path, body string) int {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusCreated, post("/auth/register", `{"username":"alice","password":"old password"}`))
	require.Equal(t, http.StatusAccepted, post("/auth/password/forgot", `{"username":"alice"}`))
	require.NoError(t, a.Close()) // waits for the message
	tok, err := devmail.LatestToken(dir)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, post("/auth/password/reset", `{"token":"`+tok+`","new_password":"new password"}`))
	assert.Equal(t, http.StatusOK, post("/auth/login", `{"username":"alice","password":"new password"}`))
}

// TestNoPartialMessages: a reader polling the folder (as the end-to-end
// tests do) never sees a message without its token.
func TestNoPartialMessages(t *testing.T) {
	dir := t.TempDir()
	m, err := devmail.New(dir, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			assert.NoError(t, m.NotifyPasswordReset(t.Context(), msg("alice")))
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		paths, err := devmail.Messages(dir)
		require.NoError(t, err)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			_, ok := devmail.Token(b)
			require.True(t, ok, "a listed message without its token: %q", b)
		}
	}
}
