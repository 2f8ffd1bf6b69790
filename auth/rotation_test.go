package auth

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// RunRotationSuite checks the session rules of the Authenticator — refresh
// rotation, reuse detection, the grace window, the concurrent-refresh race,
// logout and logout-all — against the stores newStore makes, one fresh
// store per subtest. The stores keep their own (real) clock; the
// Authenticator's fake clock starts at the real time and moves by seconds
// only, so their expiry decisions agree.
func RunRotationSuite(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("RotationSpendsTheOldToken", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		first := f.register("alice")
		w := f.refresh(first.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		second := decodeTokens(t, w)
		assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
		assert.Equal(t, first.User, second.User)
		assert.Equal(t, http.StatusOK, f.status(second.AccessToken))
		assert.Equal(t, http.StatusOK, f.status(first.AccessToken), "rotation alone does not end the session")

		// And the new one rotates in turn.
		w = f.refresh(second.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	})

	t.Run("ReuseEndsTheSession", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		other := f.register("alice")
		first := f.login("alice")
		w := f.refresh(first.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		second := decodeTokens(t, w)

		// RFC 9700 §4.14.2: a spent token presented again means theft.
		w = f.refresh(first.RefreshToken)
		requireError(t, w, http.StatusUnauthorized, CodeInvalidToken)
		assert.Equal(t, challengeInvalidToken, w.Header().Get("WWW-Authenticate"))

		// Every token of that session ends: the newest refresh token and
		// both access tokens.
		requireError(t, f.refresh(second.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
		assert.Equal(t, http.StatusUnauthorized, f.status(first.AccessToken))
		assert.Equal(t, http.StatusUnauthorized, f.status(second.AccessToken))
		// Another login of the same user is untouched.
		assert.Equal(t, http.StatusOK, f.status(other.AccessToken))
		assert.Equal(t, http.StatusOK, f.refresh(other.RefreshToken).Code)
		assert.Contains(t, f.logs.all(), "auth.refresh_reuse_detected")
	})

	t.Run("ConcurrentRefreshAtMostOneWins", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		tr := f.register("alice")
		const n = 20
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[i] = f.refresh(tr.RefreshToken).Code
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized:
			default:
				t.Errorf("unexpected status %d", c)
			}
		}
		// At most one may succeed; the store's compare-and-swap has
		// exactly one winner, which is answered.
		assert.Equal(t, 1, ok, "%d of %d concurrent refreshes succeeded", ok, n)
		// The losers replayed a spent token, so the session is over.
		assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
	})

	t.Run("GraceAllowsOnlyThePreviousTokenBriefly", func(t *testing.T) {
		f := newFixture(t, newStore(t), WithRefreshReuseGrace(10*time.Second))
		t0 := f.register("alice")
		w := f.refresh(t0.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code)
		t1 := decodeTokens(t, w)

		// A second tab presents t0 within the window: a pair of its own.
		f.clk.Advance(2 * time.Second)
		w = f.refresh(t0.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		t2 := decodeTokens(t, w)
		assert.Equal(t, http.StatusOK, f.status(t2.AccessToken))
		// t1 is now the previous token, itself within the window.
		w = f.refresh(t1.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		t3 := decodeTokens(t, w)

		// t0 is two generations old: reuse, the session ends.
		w = f.refresh(t0.RefreshToken)
		requireError(t, w, http.StatusUnauthorized, CodeInvalidToken)
		assert.Equal(t, http.StatusUnauthorized, f.status(t3.AccessToken))
	})

	t.Run("GraceExpires", func(t *testing.T) {
		f := newFixture(t, newStore(t), WithRefreshReuseGrace(10*time.Second))
		t0 := f.register("alice")
		w := f.refresh(t0.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code)
		t1 := decodeTokens(t, w)
		f.clk.Advance(11 * time.Second)
		requireError(t, f.refresh(t0.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
		assert.Equal(t, http.StatusUnauthorized, f.status(t1.AccessToken))
		requireError(t, f.refresh(t1.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	})

	t.Run("WrongTokenTypes", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		tr := f.register("alice")
		// An access token is not a refresh token (RFC 8725 §3.11).
		requireError(t, f.refresh(tr.AccessToken), http.StatusUnauthorized, CodeInvalidToken)
		requireError(t, f.refresh("not-a-token"), http.StatusUnauthorized, CodeInvalidToken)
		requireError(t, f.do(req{method: "POST", path: "/auth/refresh", body: `{}`}), http.StatusBadRequest, CodeInvalidRequest)
		// The failed attempts spent nothing.
		assert.Equal(t, http.StatusOK, f.refresh(tr.RefreshToken).Code)
	})

	t.Run("LogoutEndsTheSession", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		other := f.register("alice")
		tr := f.login("alice")
		requireError(t, f.do(req{method: "POST", path: "/auth/logout"}), http.StatusUnauthorized, CodeInvalidToken)
		w := f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken})
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		assert.Equal(t, 0, w.Body.Len())
		assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
		requireError(t, f.refresh(tr.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
		// Logging out twice: the token is already dead.
		requireError(t, f.do(req{method: "POST", path: "/auth/logout", bearer: tr.AccessToken}), http.StatusUnauthorized, CodeInvalidToken)
		assert.Equal(t, http.StatusOK, f.status(other.AccessToken))
		assert.Equal(t, http.StatusOK, f.refresh(other.RefreshToken).Code)
	})

	t.Run("LogoutAllEndsEverySession", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		a1 := f.register("alice")
		a2 := f.login("alice")
		bob := f.register("bob")
		f.clk.Advance(2 * time.Second)
		w := f.do(req{method: "POST", path: "/auth/logout-all", bearer: a2.AccessToken})
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		for _, tr := range []TokenResponse{a1, a2} {
			assert.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken))
			requireError(t, f.refresh(tr.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
		}
		assert.Equal(t, http.StatusOK, f.status(bob.AccessToken))
		// A login after logout-all works.
		f.clk.Advance(time.Second)
		again := f.login("alice")
		assert.Equal(t, http.StatusOK, f.status(again.AccessToken))
		assert.Contains(t, f.logs.all(), "auth.logout_all")
	})

	t.Run("LogoutAllWithinOneSecond", func(t *testing.T) {
		// iat has one-second resolution. The clock starts 100ms into a
		// second; everything below happens within that second.
		f := newFixture(t, newStore(t))
		before := f.register("alice") // iat = this second, before logout-all
		f.clk.Advance(300 * time.Millisecond)
		w := f.do(req{method: "POST", path: "/auth/logout-all", bearer: before.AccessToken})
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		assert.Equal(t, http.StatusUnauthorized, f.status(before.AccessToken), "a token of the same second, issued before logout-all, must die")

		f.clk.Advance(300 * time.Millisecond)
		after := f.login("alice") // same iat second, issued after logout-all
		assert.Equal(t, http.StatusOK, f.status(after.AccessToken), "a login right after logout-all must work")
		w = f.refresh(after.RefreshToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, http.StatusOK, f.status(decodeTokens(t, w).AccessToken))
	})

	t.Run("LogoutAllStopsTokensOfEarlierSecondsWithoutTheirSession", func(t *testing.T) {
		f := newFixture(t, newStore(t))
		old := f.register("alice")
		c, err := f.verifier.Verify(t.Context(), token.Access, old.AccessToken)
		require.NoError(t, err)
		// The session is gone but its access token still lives: only
		// the user's valid-after time can stop it.
		require.NoError(t, f.st.DeleteSession(t.Context(), c.SessionID))
		cur := f.login("alice")
		f.clk.Advance(time.Second)
		w := f.do(req{method: "POST", path: "/auth/logout-all", bearer: cur.AccessToken})
		require.Equal(t, http.StatusNoContent, w.Code)
		assert.Equal(t, http.StatusUnauthorized, f.status(old.AccessToken))
		assert.Equal(t, http.StatusUnauthorized, f.status(cur.AccessToken))
	})
}

func TestRotationMemory(t *testing.T) {
	RunRotationSuite(t, func(t *testing.T) store.Store {
		m := memory.New()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func TestRefreshNeverExtendsTheSession(t *testing.T) {
	f := newFixture(t, nil, WithAccessTTL(15*time.Minute), WithRefreshTTL(30*time.Minute), WithSessionMaxAge(time.Hour))
	tr := f.register("alice")
	start := f.clk.Now()
	end := start.Add(time.Hour)
	for range 3 { // 20, 40 and 60 minutes: the last is past the end
		f.clk.Advance(20 * time.Minute)
		w := f.refresh(tr.RefreshToken)
		if !f.clk.Now().Before(end) {
			requireError(t, w, http.StatusUnauthorized, CodeInvalidToken)
			return
		}
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		tr = decodeTokens(t, w)
		for _, tok := range []struct {
			typ token.Type
			s   string
		}{{token.Access, tr.AccessToken}, {token.Refresh, tr.RefreshToken}} {
			c, err := f.verifier.Verify(t.Context(), tok.typ, tok.s)
			require.NoError(t, err)
			assert.False(t, c.ExpiresAt.After(end), "%s expires %v, after the session's end %v", tok.typ, c.ExpiresAt, end)
		}
	}
	t.Fatal("the session outlived its maximum age")
}

func TestRefreshOfDeletedUser(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	require.NoError(t, f.st.DeleteUser(t.Context(), tr.User.ID))
	requireError(t, f.refresh(tr.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
}
