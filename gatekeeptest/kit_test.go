package gatekeeptest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/gatekeeptest"
)

func TestMintAccess(t *testing.T) {
	kit := gatekeeptest.New(t)
	ctx := context.Background()
	tok := kit.MintAccess(t, "u1", "admin", "editor")
	p, err := kit.Auth.AuthenticateToken(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "u1", p.UserID)
	assert.Equal(t, []string{"admin", "editor"}, p.Roles)

	// The same user again with other roles: new tokens carry them, the
	// earlier token keeps its own and still works.
	tok2 := kit.MintAccess(t, "u1")
	p2, err := kit.Auth.AuthenticateToken(ctx, tok2)
	require.NoError(t, err)
	assert.Empty(t, p2.Roles)
	assert.NotEqual(t, p.SessionID, p2.SessionID)
	_, err = kit.Auth.AuthenticateToken(ctx, tok)
	require.NoError(t, err)

	// An ID that is no username still gets a user.
	p3, err := kit.Auth.AuthenticateToken(ctx, kit.MintAccess(t, "  not a name  "))
	require.NoError(t, err)
	assert.Equal(t, "  not a name  ", p3.UserID)

	// A minted session is a real one: logout ends it.
	require.NoError(t, kit.Auth.Logout(ctx, p))
	_, err = kit.Auth.AuthenticateToken(ctx, tok)
	require.ErrorIs(t, err, auth.ErrRevoked)

	// The refresh token of MintTokens rotates.
	tr := kit.MintTokens(t, "u2", "viewer")
	next, err := kit.Auth.Refresh(ctx, tr.RefreshToken, auth.Client{})
	require.NoError(t, err)
	assert.NotEqual(t, tr.RefreshToken, next.RefreshToken)
}

func TestLoginAndClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	kit := gatekeeptest.New(t, gatekeeptest.WithStart(start))
	assert.Equal(t, start, kit.Clock.Now())
	reg := kit.Register(t, "Alice", "correct horse battery staple")
	assert.Equal(t, "alice", reg.User.Username)
	assert.Equal(t, []string{"user"}, reg.User.Roles)
	tr := kit.Login(t, "alice", "correct horse battery staple")
	assert.Equal(t, start.Add(auth.DefaultAccessTTL), tr.AccessExpiresAt)

	_, err := kit.Auth.Login(context.Background(), "alice", "wrong password", auth.Client{})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)

	h := kit.Auth.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	assert.Equal(t, http.StatusOK, gatekeeptest.Serve(h, gatekeeptest.Request("GET", "/", tr.AccessToken, nil)).Code)
	kit.Clock.Advance(auth.DefaultAccessTTL + auth.DefaultLeeway + time.Second)
	assert.Equal(t, http.StatusUnauthorized, gatekeeptest.Serve(h, gatekeeptest.Request("GET", "/", tr.AccessToken, nil)).Code)
	// The refresh token lives longer, on the same clock.
	_, err = kit.Auth.Refresh(context.Background(), tr.RefreshToken, auth.Client{})
	require.NoError(t, err)
}

func TestUserAndOptions(t *testing.T) {
	kit := gatekeeptest.New(t, gatekeeptest.WithAuthOptions(auth.WithAccessTTL(time.Minute)))
	u := kit.User(t, "erin", "admin")
	assert.Equal(t, []string{"admin"}, u.Roles)
	assert.Equal(t, u.ID, kit.User(t, "ERIN").ID, "User returns an existing user")
	tr := kit.Login(t, "erin", gatekeeptest.Password)
	assert.Equal(t, int64(60), tr.ExpiresIn)
}

func TestRequestHelpers(t *testing.T) {
	r := gatekeeptest.Request("POST", "/x", "tok", strings.NewReader("{}"))
	assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	r = gatekeeptest.Request("GET", "/x", "", nil)
	assert.Empty(t, r.Header.Values("Authorization"))
	assert.Empty(t, r.Header.Get("Content-Type"))

	kit := gatekeeptest.New(t)
	mux := http.NewServeMux()
	kit.Auth.Mount(mux)
	w := gatekeeptest.Serve(mux, kit.RequestAs(t, "GET", "/me", "frank", "user"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"frank"`)
}

// BenchmarkRegister is what a test pays for a registered, logged-in user
// (Register: hash, user, session, tokens) with the kit's hasher and with
// the production default (argon2id, m=19456 KiB t=2 p=1), and with
// MintAccess (no hash at all).
func BenchmarkRegister(b *testing.B) {
	argon, err := auth.NewArgon2id(auth.Argon2idParams{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts []gatekeeptest.Option
	}{
		{"kit", nil},
		{"argon2id", []gatekeeptest.Option{gatekeeptest.WithAuthOptions(auth.WithHasher(argon))}},
	} {
		b.Run("Register/"+c.name, func(b *testing.B) {
			kit := gatekeeptest.New(b, c.opts...)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				_, err := kit.Auth.Register(context.Background(), auth.Registration{
					Username: "user" + itoa(i), Password: "correct horse battery staple"}, auth.Client{})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("MintAccess", func(b *testing.B) {
		kit := gatekeeptest.New(b)
		b.ReportAllocs()
		for b.Loop() {
			kit.MintAccess(b, "bench", "user")
		}
	})
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(buf[n:])
		}
	}
}
