package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
	"github.com/gatekeep/gatekeep/token"
)

var testKEK = bytes.Repeat([]byte{0x42}, KeyEncryptionKeySize)

// totpStores are the stores every second-factor flow runs on.
var totpStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(*testing.T) store.Store { return nil }},
	{"bolt", func(t *testing.T) store.Store { return boltStore(t) }},
	{"redis", func(t *testing.T) store.Store { return redisStore(t, needRedis(t)) }},
	{"postgres", func(t *testing.T) store.Store { return postgresStore(t) }},
}

func postgresStore(t *testing.T) store.Store {
	t.Helper()
	pool := pgtest.Pool(t)
	st, err := postgres.New(pool, postgres.WithSchema(pgtest.Schema(t, pool)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// eachTOTPStore runs fn on a fixture with a key-encryption key over each
// store.
func eachTOTPStore(t *testing.T, fn func(t *testing.T, f *fixture), opts ...Option) {
	for _, s := range totpStores {
		t.Run(s.name, func(t *testing.T) {
			fn(t, newFixture(t, s.open(t), append([]Option{WithKeyEncryptionKey(testKEK)}, opts...)...))
		})
	}
}

// code is the TOTP code of secret at the fixture's clock (plus d).
func (f *fixture) code(secret string, d time.Duration) string {
	f.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clk.Now().Add(d), totpOpts)
	require.NoError(f.t, err)
	return c
}

func (f *fixture) post(path, bearer string, body any) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(req{method: "POST", path: path, bearer: bearer, body: jsonBody(body)})
}

// enrol turns TOTP on for the user of access token tok and returns the
// secret and the recovery codes; the clock is moved past the confirming
// code's steps.
func (f *fixture) enrol(tok string) (string, []string) {
	f.t.Helper()
	w := f.do(req{method: "POST", path: "/auth/2fa/totp/setup", bearer: tok})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var setup TOTPSetup
	require.NoError(f.t, json.Unmarshal(w.Body.Bytes(), &setup))
	w = f.post("/auth/2fa/totp/confirm", tok, map[string]string{"code": f.code(setup.Secret, 0)})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	require.NoError(f.t, json.Unmarshal(w.Body.Bytes(), &out))
	f.clk.Advance(2 * TOTPPeriod)
	return setup.Secret, out.RecoveryCodes
}

// mfaLogin logs in with the password and returns the challenge.
func (f *fixture) mfaLogin(username string) MFARequiredError {
	f.t.Helper()
	w := f.do(req{method: "POST", path: "/auth/login", body: creds(username, testPassword)})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var ch MFARequiredError
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	require.NoError(f.t, dec.Decode(&ch))
	require.True(f.t, ch.Required)
	require.Equal(f.t, []string{"totp", "recovery"}, ch.Methods)
	require.NotEmpty(f.t, ch.Token)
	require.Equal(f.t, "no-store", w.Header().Get("Cache-Control"))
	return ch
}

func (f *fixture) verify(mfaToken string, body map[string]string) *httptest.ResponseRecorder {
	f.t.Helper()
	b := map[string]string{"mfa_token": mfaToken}
	for k, v := range body {
		b[k] = v
	}
	return f.post("/auth/2fa/verify", "", b)
}

func (f *fixture) meOK(tok string) map[string]any {
	f.t.Helper()
	w := f.do(req{method: "GET", path: "/me", bearer: tok})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var m map[string]any
	require.NoError(f.t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}

// TestTOTPFlow: setup → confirm → login asks for a code → verify gives a
// pair → /me shows mfa; the secret is sealed in the store.
func TestTOTPFlow(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		require.Equal(t, false, f.meOK(tr.AccessToken)["mfa"])

		w := f.do(req{method: "POST", path: "/auth/2fa/totp/setup", bearer: tr.AccessToken})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var setup TOTPSetup
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &setup))
		u, err := url.Parse(setup.URI)
		require.NoError(t, err)
		require.Equal(t, "otpauth", u.Scheme)
		require.Equal(t, "totp", u.Host)
		require.Equal(t, testIssuer, u.Query().Get("issuer"))
		require.Equal(t, setup.Secret, u.Query().Get("secret"))
		require.Contains(t, u.Path, "alice")
		png64, ok := strings.CutPrefix(setup.QRCode, "data:image/png;base64,")
		require.True(t, ok)
		raw, err := base64.StdEncoding.DecodeString(png64)
		require.NoError(t, err)
		_, err = png.Decode(bytes.NewReader(raw))
		require.NoError(t, err)

		// Pending: nothing asked at login yet.
		require.Equal(t, false, f.meOK(tr.AccessToken)["mfa"])
		f.login("alice")

		// The secret is sealed: its base32 text and bytes are not in the store.
		e, err := f.st.(store.TOTPStore).TOTP(t.Context(), tr.User.ID)
		require.NoError(t, err)
		require.False(t, bytes.Contains(e.Secret, []byte(setup.Secret)))

		wrong := f.post("/auth/2fa/totp/confirm", tr.AccessToken, map[string]string{"code": "000000"})
		if f.code(setup.Secret, 0) != "000000" {
			requireError(t, wrong, http.StatusUnauthorized, CodeInvalidCredentials)
		}
		w = f.post("/auth/2fa/totp/confirm", tr.AccessToken, map[string]string{"code": f.code(setup.Secret, 0)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var conf struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &conf))
		require.Len(t, conf.RecoveryCodes, RecoveryCodeCount)
		require.Equal(t, true, f.meOK(tr.AccessToken)["mfa"])
		e, err = f.st.(store.TOTPStore).TOTP(t.Context(), tr.User.ID)
		require.NoError(t, err)
		for _, c := range conf.RecoveryCodes {
			for _, h := range e.RecoveryCodes {
				require.NotContains(t, h, normRecovery(c), "recovery codes are stored hashed")
			}
		}
		// A second setup while on is refused.
		requireError(t, f.do(req{method: "POST", path: "/auth/2fa/totp/setup", bearer: tr.AccessToken}), http.StatusBadRequest, CodeInvalidRequest)

		f.clk.Advance(2 * TOTPPeriod)
		ch := f.mfaLogin("alice")
		require.NotContains(t, f.logs.all(), ch.Token)
		w = f.verify(ch.Token, map[string]string{"code": f.code(setup.Secret, 0)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		pair := decodeTokens(t, w)
		require.Equal(t, http.StatusOK, f.status(pair.AccessToken))
		require.Equal(t, http.StatusOK, f.refresh(pair.RefreshToken).Code)
		require.Equal(t, true, f.meOK(pair.AccessToken)["mfa"])
		for _, ev := range []string{"auth.totp_enrol", "auth.totp_confirm", "auth.mfa_challenge"} {
			require.Contains(t, f.logs.events(), ev)
		}
		require.NotContains(t, f.logs.all(), setup.Secret)
		for _, c := range conf.RecoveryCodes {
			require.NotContains(t, f.logs.all(), c)
		}
	})
}

// TestTOTPReplay: a code is accepted once, and a code of an earlier step
// of the window is refused after a later one was used.
func TestTOTPReplay(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		secret, _ := f.enrol(tr.AccessToken)
		code := f.code(secret, 0)
		earlier := f.code(secret, -TOTPPeriod)
		require.Equal(t, http.StatusOK, f.verify(f.mfaLogin("alice").Token, map[string]string{"code": code}).Code)
		// The same code, within its window, on a new login attempt: refused.
		requireError(t, f.verify(f.mfaLogin("alice").Token, map[string]string{"code": code}), http.StatusUnauthorized, CodeInvalidCredentials)
		// The previous step's code, still inside the skew: refused too.
		if earlier != code {
			requireError(t, f.verify(f.mfaLogin("alice").Token, map[string]string{"code": earlier}), http.StatusUnauthorized, CodeInvalidCredentials)
		}
		// A code two steps old is outside the window.
		f.clk.Advance(TOTPPeriod)
		next := f.code(secret, 0)
		old := f.code(secret, -2*TOTPPeriod)
		if old != next {
			requireError(t, f.verify(f.mfaLogin("alice").Token, map[string]string{"code": old}), http.StatusUnauthorized, CodeInvalidCredentials)
		}
		require.Equal(t, http.StatusOK, f.verify(f.mfaLogin("alice").Token, map[string]string{"code": next}).Code)
		require.Contains(t, f.logs.events(), "auth.mfa_failed")
	})
}

// TestMFATokenOnce: of concurrent verifies of one mfa_token, each with a
// different valid factor (the code and recovery codes), exactly one wins;
// the token is refused afterwards, and a wrong code leaves it usable.
func TestMFATokenOnce(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		secret, recovery := f.enrol(tr.AccessToken)
		ch := f.mfaLogin("alice")
		w := f.verify(ch.Token, map[string]string{"code": "abcdef"})
		requireError(t, w, http.StatusUnauthorized, CodeInvalidCredentials)
		bodies := []map[string]string{{"code": f.code(secret, 0)}}
		for _, rc := range recovery[:5] {
			bodies = append(bodies, map[string]string{"recovery_code": rc})
		}
		codes := make([]int, len(bodies))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, b := range bodies {
			wg.Go(func() {
				<-start
				codes[i] = f.verify(ch.Token, b).Code
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, c := range codes {
			if c == http.StatusOK {
				won++
			} else {
				require.Equal(t, http.StatusUnauthorized, c)
			}
		}
		require.Equal(t, 1, won, "statuses %v", codes)
		requireError(t, f.verify(ch.Token, map[string]string{"recovery_code": recovery[9]}), http.StatusUnauthorized, CodeInvalidToken)
	})
}

// TestRecoveryCodeOnce: each recovery code completes one login, in any
// case and with or without its dashes; used again it is refused.
func TestRecoveryCodeOnce(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		_, recovery := f.enrol(tr.AccessToken)
		rc := recovery[3]
		w := f.verify(f.mfaLogin("alice").Token, map[string]string{"recovery_code": strings.ToUpper(strings.ReplaceAll(rc, "-", ""))})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		requireError(t, f.verify(f.mfaLogin("alice").Token, map[string]string{"recovery_code": rc}), http.StatusUnauthorized, CodeInvalidCredentials)
		require.Equal(t, http.StatusOK, f.verify(f.mfaLogin("alice").Token, map[string]string{"recovery_code": recovery[4]}).Code)
		require.Contains(t, f.logs.events(), "auth.mfa_recovery_used")
		// Both factors at once, or neither: 400.
		requireError(t, f.verify(f.mfaLogin("alice").Token, map[string]string{"recovery_code": recovery[5], "code": "123456"}), http.StatusBadRequest, CodeInvalidRequest)
		requireError(t, f.verify(f.mfaLogin("alice").Token, nil), http.StatusBadRequest, CodeInvalidRequest)
	})
}

// TestMFAThrottle: wrong codes are counted per account, apart from the
// password's count (a correct password does not reset them), and beyond
// the limit both verify and the password step answer 429 with
// Retry-After until the window ends.
func TestMFAThrottle(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		secret, _ := f.enrol(tr.AccessToken)
		ch1, ch2 := f.mfaLogin("alice"), f.mfaLogin("alice")
		requireError(t, f.verify(ch1.Token, map[string]string{"code": "abcdef"}), http.StatusUnauthorized, CodeInvalidCredentials)
		requireError(t, f.verify(ch1.Token, map[string]string{"code": "abcdeg"}), http.StatusUnauthorized, CodeInvalidCredentials)
		// Over the limit: even the right code waits, and so does the
		// password step, whose own count a correct password resets.
		w := f.verify(ch2.Token, map[string]string{"code": f.code(secret, 0)})
		requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
		require.NotEmpty(t, w.Header().Get("Retry-After"))
		w = f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
		requireError(t, w, http.StatusTooManyRequests, CodeTooManyAttempts)
		require.NotEmpty(t, w.Header().Get("Retry-After"))
		require.Contains(t, f.logs.events(), "auth.mfa_throttled")
		// Another account is not affected.
		bob := f.register("bob")
		bobSecret, _ := f.enrol(bob.AccessToken)
		require.Equal(t, http.StatusOK, f.verify(f.mfaLogin("bob").Token, map[string]string{"code": f.code(bobSecret, 0)}).Code)
	}, WithLoginThrottle(2, time.Minute))
}

// TestMFATokenConfusion: the mfa+jwt token is accepted nowhere an access,
// refresh or reset token is, and none of those completes a login.
func TestMFATokenConfusion(t *testing.T) {
	f := newFixture(t, nil, WithKeyEncryptionKey(testKEK))
	tr := f.register("alice")
	secret, _ := f.enrol(tr.AccessToken)
	ch := f.mfaLogin("alice")
	// Verified once (and so in the verified-token cache) by a wrong code.
	requireError(t, f.verify(ch.Token, map[string]string{"code": "abcdef"}), http.StatusUnauthorized, CodeInvalidCredentials)
	// mfa+jwt as an access token (typ confusion).
	require.Equal(t, http.StatusUnauthorized, f.status(ch.Token))
	requireError(t, f.do(req{method: "GET", path: "/me", bearer: ch.Token}), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.do(req{method: "POST", path: "/auth/2fa/totp/setup", bearer: ch.Token}), http.StatusUnauthorized, CodeInvalidToken)
	// mfa+jwt as a refresh token and as a reset token.
	requireError(t, f.refresh(ch.Token), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.post("/auth/password/reset", "", map[string]string{"token": ch.Token, "new_password": "a brand new password"}), http.StatusUnauthorized, CodeInvalidToken)
	// Access, refresh and reset tokens (and an mfa+jwt of another user's
	// claims shape) as an mfa token.
	good := func() *token.Claims {
		return &token.Claims{Issuer: testIssuer, Audience: []string{testAudience}, Subject: tr.User.ID,
			ExpiresAt: f.clk.Now().Add(time.Minute), IssuedAt: f.clk.Now(), ID: store.NewID(), SessionID: "s"}
	}
	sign := func(typ token.Type, c *token.Claims) string {
		s, err := f.signer.Sign(typ, c)
		require.NoError(t, err)
		return s
	}
	for name, tok := range map[string]string{
		"access":             tr.AccessToken,
		"refresh":            tr.RefreshToken,
		"reset typ":          sign(token.Reset, good()),
		"mfa without bind":   sign(token.MFA, good()), // no password fingerprint
		"access typ, forged": sign(token.Access, good()),
		"garbage":            "not.a.token",
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, f.verify(tok, map[string]string{"code": f.code(secret, 0)}), http.StatusUnauthorized, CodeInvalidToken)
		})
	}
	// Expired after five minutes.
	f.clk.Advance(MFATokenTTL + time.Minute)
	requireError(t, f.verify(ch.Token, map[string]string{"code": f.code(secret, 0)}), http.StatusUnauthorized, CodeInvalidToken)
}

// TestMFAPasswordReset: a reset does not bypass the second factor, and an
// mfa token issued before the reset no longer works.
func TestMFAPasswordReset(t *testing.T) {
	f, mb := resetFixture(t, WithKeyEncryptionKey(testKEK))
	tr := f.register("alice")
	secret, _ := f.enrol(tr.AccessToken)
	before := f.mfaLogin("alice")
	require.Equal(t, http.StatusNoContent, f.resetPassword(f.resetToken(mb, "alice"), "a brand new password").Code)
	requireError(t, f.verify(before.Token, map[string]string{"code": f.code(secret, 0)}), http.StatusUnauthorized, CodeInvalidToken)
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", "a brand new password")})
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), `"mfa_required":true`)
	require.NotContains(t, w.Body.String(), "access_token")
}

// TestTOTPDisableAndAdminReset: disable needs the password and a code; an
// admin reset removes the factor and ends the user's sessions.
func TestTOTPDisableAndAdminReset(t *testing.T) {
	eachTOTPStore(t, func(t *testing.T, f *fixture) {
		tr := f.register("alice")
		secret, recovery := f.enrol(tr.AccessToken)
		requireError(t, f.post("/auth/2fa/totp/disable", tr.AccessToken, map[string]string{"password": "wrong password!", "code": f.code(secret, 0)}), http.StatusUnauthorized, CodeInvalidCredentials)
		requireError(t, f.post("/auth/2fa/totp/disable", tr.AccessToken, map[string]string{"password": testPassword, "code": "nope-nope"}), http.StatusUnauthorized, CodeInvalidCredentials)
		require.Equal(t, http.StatusNoContent, f.post("/auth/2fa/totp/disable", tr.AccessToken, map[string]string{"password": testPassword, "code": recovery[0]}).Code)
		require.Equal(t, false, f.meOK(tr.AccessToken)["mfa"])
		f.login("alice") // tokens again, no challenge
		require.Contains(t, f.logs.events(), "auth.totp_disable")

		f.enrol(tr.AccessToken)
		adm := f.admin("root")
		requireError(t, f.do(req{method: "DELETE", path: "/admin/users/" + tr.User.ID + "/2fa", bearer: tr.AccessToken}), http.StatusForbidden, CodeInsufficientScope)
		requireError(t, f.do(req{method: "DELETE", path: "/admin/users/nobody/2fa", bearer: adm.AccessToken}), http.StatusNotFound, CodeNotFound)
		require.Equal(t, http.StatusNoContent, f.do(req{method: "DELETE", path: "/admin/users/" + tr.User.ID + "/2fa", bearer: adm.AccessToken}).Code)
		require.Equal(t, http.StatusUnauthorized, f.status(tr.AccessToken), "the user's sessions ended")
		f.clk.Advance(time.Second)
		f.login("alice")
		require.Contains(t, f.logs.events(), "auth.totp_reset")
	})
}

// TestTOTPWithoutKEK: without a key-encryption key enrolment is a clear
// 503, and New refuses a key of the wrong size.
func TestTOTPWithoutKEK(t *testing.T) {
	f := newFixture(t, nil)
	tr := f.register("alice")
	w := f.do(req{method: "POST", path: "/auth/2fa/totp/setup", bearer: tr.AccessToken})
	requireError(t, w, http.StatusServiceUnavailable, CodeUnavailable)
	require.Contains(t, w.Body.String(), "JWT_KEY_ENCRYPTION_KEY")
	_, err := New(f.signer, f.verifier, f.st, WithKeyEncryptionKey([]byte("short")))
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// TestTOTPSealBoundToUser: a sealed secret copied onto another user does
// not open.
func TestTOTPSealBoundToUser(t *testing.T) {
	f := newFixture(t, nil, WithKeyEncryptionKey(testKEK))
	sealed, err := f.a.seal("u1", "SECRET")
	require.NoError(t, err)
	got, err := f.a.open("u1", sealed)
	require.NoError(t, err)
	require.Equal(t, "SECRET", got)
	_, err = f.a.open("u2", sealed)
	require.ErrorIs(t, err, ErrUnavailable)
	other := newFixture(t, nil, WithKeyEncryptionKey(bytes.Repeat([]byte{1}, 32)))
	_, err = other.a.open("u1", sealed)
	require.ErrorIs(t, err, ErrUnavailable)
}

// TestMFACookieMode: in cookie mode the challenge sets no cookie, verify
// sets the pair as a login does, and a cross-origin verify is refused
// before anything is spent.
func TestMFACookieMode(t *testing.T) {
	f := cookieFixture(t, WithKeyEncryptionKey(testKEK))
	tr := f.register("alice")
	secret, _ := f.enrol(tr.AccessToken)
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("alice", testPassword)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Empty(t, w.Result().Cookies(), "no cookie before the second factor")
	var ch MFARequiredError
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &ch))
	body := jsonBody(map[string]string{"mfa_token": ch.Token, "code": f.code(secret, 0)})
	requireCrossOriginRefused(t, f.do(req{method: "POST", path: "/auth/2fa/verify", body: body, header: crossSite()}))
	w = f.do(req{method: "POST", path: "/auth/2fa/verify", body: body})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	requireTokenCookies(t, f, w, decodeTokens(t, w), true)
}

// BenchmarkLoginSecondFactor compares, on the memory store with a fast
// hasher, a login that starts a session (no second factor) with one that
// answers the second-factor challenge instead (the enrolment read, the
// throttle count and an mfa+jwt signature, no session).
func BenchmarkLoginSecondFactor(b *testing.B) {
	f := newFixture(b, nil, WithKeyEncryptionKey(testKEK))
	f.register("bob")
	tr := f.register("alice")
	p, err := f.a.AuthenticateToken(b.Context(), tr.AccessToken)
	require.NoError(b, err)
	setup, err := f.a.EnrolTOTP(b.Context(), p)
	require.NoError(b, err)
	code, err := totp.GenerateCodeCustom(setup.Secret, f.clk.Now(), totpOpts)
	require.NoError(b, err)
	_, err = f.a.ConfirmTOTP(b.Context(), p, code)
	require.NoError(b, err)
	for _, c := range []struct {
		name, user string
		want       error
	}{{"no-factor", "bob", nil}, {"challenge", "alice", ErrMFARequired}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := f.a.Login(b.Context(), c.user, testPassword, Client{})
				if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTOTPConcurrentSteps: the current code is accepted while the previous
// step's code is presented at the same moment, and that older code is
// refused afterwards whichever ran first (50 rounds, fresh steps each).
func TestTOTPConcurrentSteps(t *testing.T) {
	f := newFixture(t, nil, WithKeyEncryptionKey(testKEK))
	tr := f.register("alice")
	secret, _ := f.enrol(tr.AccessToken)
	ctx := t.Context()
	e, err := f.st.(store.TOTPStore).TOTP(ctx, tr.User.ID)
	require.NoError(t, err)
	for range 50 {
		f.clk.Advance(3 * TOTPPeriod)
		now := f.clk.Now()
		older, newer := f.code(secret, -TOTPPeriod), f.code(secret, 0)
		if older == newer {
			continue
		}
		var okNew bool
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = f.a.checkCode(ctx, tr.User.ID, e.Secret, secret, older, now) })
		wg.Go(func() { okNew, _ = f.a.checkCode(ctx, tr.User.ID, e.Secret, secret, newer, now) })
		wg.Wait()
		require.True(t, okNew, "the current code is refused")
		// Afterwards the older code is refused in any case.
		ok, err := f.a.checkCode(ctx, tr.User.ID, e.Secret, secret, older, now)
		require.NoError(t, err)
		require.False(t, ok, "the older code passed after the newer one")
	}
}

// TestTOTPValuesRedacted: the secret and codes never print.
func TestTOTPValuesRedacted(t *testing.T) {
	setup := TOTPSetup{Secret: "JBSWY3DPEHPK3PXP", URI: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", QRCode: "data:"}
	f := SecondFactor{Code: "123456", RecoveryCode: "abcd-efgh-ijkl-mnop"}
	ch := &MFARequiredError{Required: true, Token: "eyJ.secret.token"}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("x", "setup", setup, "factor", f, "challenge", ch)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s %v %+v %#v %v %+v", setup, setup, setup, f, f, f, f, ch, error(ch))
	for _, s := range []string{"JBSWY3DPEHPK3PXP", "123456", "abcd-efgh", "eyJ.secret"} {
		require.NotContains(t, out, s)
	}
}
