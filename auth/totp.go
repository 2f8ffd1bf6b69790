package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// TOTP parameters (RFC 6238 as every authenticator app reads it): SHA-1,
// six digits, 30-second steps, one step of skew either way, 160-bit
// secrets.
const (
	TOTPPeriod     = 30 * time.Second
	totpSkew       = 1
	totpSecretSize = 20
	// RecoveryCodeCount is how many recovery codes a confirmation returns.
	RecoveryCodeCount = 10
	// MFATokenTTL is the lifetime of the token between a correct password
	// and the second factor.
	MFATokenTTL = 5 * time.Minute
	// KeyEncryptionKeySize is the size of [WithKeyEncryptionKey]'s key
	// (AES-256).
	KeyEncryptionKeySize = 32
)

// Second-factor methods, as the MFA challenge lists them.
const (
	MethodTOTP     = "totp"
	MethodRecovery = "recovery"
)

var totpOpts = totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// ErrMFARequired means the password was right but the user has a second
// factor: the login goes on with [Authenticator.VerifyMFA]. It is returned
// as a [*MFARequiredError] carrying the token to continue with.
var ErrMFARequired = errors.New("auth: second factor required")

// MFARequiredError is what [Authenticator.Login] returns for a user with a
// confirmed second factor, after the password was checked: no session
// exists yet. It is also the JSON body of that login's 200 response.
type MFARequiredError struct {
	Required bool `json:"mfa_required"`
	// Token is the mfa+jwt token ([token.MFA]) to present to
	// [Authenticator.VerifyMFA] with a code, within [MFATokenTTL], once.
	Token   string   `json:"mfa_token"`
	Methods []string `json:"methods"`
}

// Error implements error.
func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }

// Is reports whether target is ErrMFARequired.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// LogValue keeps the token out of logs.
func (e *MFARequiredError) LogValue() slog.Value { return slog.StringValue(ErrMFARequired.Error()) }

// TOTPSetup is a fresh, not yet active secret ([Authenticator.EnrolTOTP]),
// and the JSON body of POST /auth/2fa/totp/setup.
type TOTPSetup struct {
	// Secret is the shared secret in base32, for typing into an app.
	Secret string `json:"secret"`
	// URI is its otpauth:// key URI, for a QR code.
	URI string `json:"otpauth_uri"`
	// QRCode is that URI as a PNG QR code, a data: URI.
	QRCode string `json:"qr_code"`
}

// LogValue keeps the secret out of logs.
func (s TOTPSetup) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String keeps the secret out of fmt's output.
func (s TOTPSetup) String() string { return "TOTP setup [REDACTED]" }

// GoString keeps the secret out of %#v.
func (s TOTPSetup) GoString() string { return s.String() }

// SecondFactor is what completes a login: a TOTP code or a recovery code.
type SecondFactor struct {
	Code         string
	RecoveryCode string
}

// LogValue keeps the codes out of logs.
func (SecondFactor) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String keeps the codes out of fmt's output.
func (SecondFactor) String() string { return "second factor [REDACTED]" }

// GoString keeps the codes out of %#v.
func (f SecondFactor) GoString() string { return f.String() }

// WithKeyEncryptionKey sets the key (32 bytes, AES-256-GCM) that seals
// TOTP secrets at rest. Default none: without it, TOTP enrolment answers
// 503 unavailable, since a secret stored in the clear would let anyone who
// reads the store pass the second factor. Every instance needs the same
// key; a lost key makes the enrolled users log in with recovery codes.
func WithKeyEncryptionKey(kek []byte) Option {
	k := bytes.Clone(kek)
	return option(func(c *config) { c.kek = k })
}

// WithTOTPIssuer sets the issuer name authenticator apps show beside the
// account (the otpauth:// URI's issuer). Default: the token issuer
// ([WithIssuer]), else "gatekeep".
func WithTOTPIssuer(name string) Option {
	return option(func(c *config) { c.totpIssuer = name })
}

var errNoKEK = describe(ErrUnavailable, "two-factor enrolment is not configured: the server has no key-encryption key (JWT_KEY_ENCRYPTION_KEY)")

func (a *Authenticator) totpStore() (store.TOTPStore, error) {
	ts, ok := a.raw.(store.TOTPStore)
	if !ok {
		return nil, describe(ErrUnavailable, "this store keeps no second factors")
	}
	return ts, nil
}

// aead is the cipher that seals secrets, nil without a key.
func (a *Authenticator) aead() (cipher.AEAD, error) {
	if len(a.cfg.kek) == 0 {
		return nil, errNoKEK
	}
	b, err := aes.NewCipher(a.cfg.kek)
	if err != nil {
		return nil, errNoKEK
	}
	return cipher.NewGCM(b)
}

// sealVersion starts every sealed secret, so a future format can be told.
const sealVersion = 1

// totpAAD binds a sealed secret to its user: a record copied onto another
// user does not open.
func totpAAD(userID string) []byte { return []byte("gatekeep totp secret\x00" + userID) }

func (a *Authenticator) seal(userID, secret string) ([]byte, error) {
	g, err := a.aead()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(secret)+g.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("%w: random nonce: %w", ErrUnavailable, err)
	}
	return g.Seal(out, out[1:], []byte(secret), totpAAD(userID)), nil
}

func (a *Authenticator) open(userID string, sealed []byte) (string, error) {
	g, err := a.aead()
	if err != nil {
		return "", err
	}
	n := g.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", describe(ErrUnavailable, "the stored second factor cannot be read")
	}
	pt, err := g.Open(nil, sealed[1:1+n], sealed[1+n:], totpAAD(userID))
	if err != nil {
		return "", describe(ErrUnavailable, "the stored second factor cannot be read with this key-encryption key")
	}
	return string(pt), nil
}

// mfaKey is the throttling key of a user's second-factor failures. It is
// apart from the password's (which a correct password resets), so that
// knowing the password buys no more code guesses.
func mfaKey(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "auth:mfa:acct:" + hex.EncodeToString(sum[:16])
}

// recoveryHash is how a recovery code is stored: 80 random bits, so a
// plain SHA-256 (bound to the user) is out of reach of guessing.
func recoveryHash(userID, code string) string {
	sum := sha256.Sum256([]byte("gatekeep recovery code\x00" + userID + "\x00" + normRecovery(code)))
	return hex.EncodeToString(sum[:])
}

func normRecovery(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRecoveryCode() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	s := strings.ToLower(b32.EncodeToString(b[:])) // 16 characters
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16], nil
}

// totpStep is the 30-second step of t.
func totpStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// checkCode finds the step, within one of now's, whose code is code, and
// spends it through the store: each (user, step) is accepted once, on
// every instance, and so is every earlier step of the window, so neither
// the same code nor an older one can be replayed.
//
// The spent steps are named by the enrolment too (tag, from its sealed
// secret), so that a user who enrols again within the window is not
// refused the new secret's first code.
func (a *Authenticator) checkCode(ctx context.Context, userID string, sealed []byte, secret, code string, now time.Time) (bool, error) {
	if len(code) != 6 {
		return false, nil
	}
	cur := totpStep(now)
	matched := int64(-1)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(TOTPPeriod/time.Second), 0), totpOpts)
		if err != nil {
			return false, describe(ErrUnavailable, "the stored second factor cannot be read")
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = s
		}
	}
	if matched < 0 {
		return false, nil
	}
	until := time.Unix((cur+totpSkew+2)*int64(TOTPPeriod/time.Second), 0).Add(a.cfg.leeway)
	sum := sha256.Sum256(sealed)
	tag := hex.EncodeToString(sum[:8])
	// The earlier steps of the window go first: once this code is
	// accepted, an older one presented concurrently has already lost.
	for s := matched - 1; s >= cur-totpSkew-1; s-- {
		if _, err := a.st.UseOnce(ctx, fmt.Sprintf("auth:totp:%s:%s:%d", userID, tag, s), until); err != nil {
			return false, storeErr("spending the code", err)
		}
	}
	first, err := a.st.UseOnce(ctx, fmt.Sprintf("auth:totp:%s:%s:%d", userID, tag, matched), until)
	if err != nil {
		return false, storeErr("spending the code", err)
	}
	return first, nil
}

// chargeMFA counts a second-factor attempt before it is checked (a success
// resets the count), refusing one beyond the login limit.
func (a *Authenticator) chargeMFA(ctx context.Context, userID string, now time.Time) error {
	if err := a.chargeAccount(ctx, mfaKey(userID), now); err != nil {
		var te *ThrottledError
		if errors.As(err, &te) {
			a.log.LogAttrs(ctx, slog.LevelWarn, "auth.mfa_throttled", slog.String("user_id", userID),
				slog.Duration("retry_after", te.RetryAfter))
		}
		return err
	}
	return nil
}

// verifyFactor checks f against e (a confirmed enrolment of userID),
// spending what it uses. The attempt was charged by the caller.
func (a *Authenticator) verifyFactor(ctx context.Context, ts store.TOTPStore, e *store.TOTP, f SecondFactor, now time.Time) (method string, ok bool, err error) {
	switch {
	case f.Code != "" && f.RecoveryCode == "":
		secret, err := a.open(e.UserID, e.Secret)
		if err != nil {
			return MethodTOTP, false, err
		}
		ok, err := a.checkCode(ctx, e.UserID, e.Secret, secret, f.Code, now)
		return MethodTOTP, ok, err
	case f.RecoveryCode != "" && f.Code == "":
		left, err := ts.UseRecoveryCode(ctx, e.UserID, recoveryHash(e.UserID, f.RecoveryCode))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return MethodRecovery, false, nil
		case err != nil:
			return MethodRecovery, false, storeErr("using the recovery code", err)
		}
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.mfa_recovery_used", slog.String("user_id", e.UserID),
			slog.Int("recovery_codes_left", len(left.RecoveryCodes)))
		return MethodRecovery, true, nil
	}
	return "", false, describe(ErrInvalidRequest, "exactly one of code and recovery_code is required")
}

// enrolment returns the user's confirmed enrolment, or nil when none.
func (a *Authenticator) enrolment(ctx context.Context, userID string) (store.TOTPStore, *store.TOTP, error) {
	ts, ok := a.raw.(store.TOTPStore)
	if !ok {
		return nil, nil, nil
	}
	e, err := ts.TOTP(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ts, nil, nil
	case err != nil:
		return nil, nil, storeErr("loading the second factor", err)
	}
	if !e.Confirmed {
		return ts, nil, nil
	}
	return ts, e, nil
}

// tokenUser loads the user a verified token names: gone is
// ErrInvalidToken.
func (a *Authenticator) tokenUser(ctx context.Context, id string) (*store.User, error) {
	u, err := a.st.User(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrInvalidToken, "the user no longer exists")
	case err != nil:
		return nil, storeErr("loading the user", err)
	}
	return u, nil
}

// MFAEnabled reports whether the user has a confirmed second factor.
func (a *Authenticator) MFAEnabled(ctx context.Context, userID string) (bool, error) {
	_, e, err := a.enrolment(ctx, userID)
	return e != nil, err
}

// mfaExtra binds an mfa+jwt token to the password it followed.
type mfaExtra struct {
	Fingerprint string `json:"pwf"`
}

// secondFactorGate is Login's check after a correct password: nil when the
// user has no second factor, else a [*MFARequiredError] with a fresh
// mfa+jwt token (or the throttle's error while the user's codes are
// locked out).
func (a *Authenticator) secondFactorGate(ctx context.Context, u *store.User, cl Client) error {
	_, e, err := a.enrolment(ctx, u.ID)
	if err != nil || e == nil {
		return err
	}
	now := a.cfg.now()
	n, resetAt, err := a.st.Count(ctx, mfaKey(u.ID))
	if err != nil {
		return storeErr("second-factor throttle", err)
	}
	if n >= int64(a.cfg.maxFailures) {
		return &ThrottledError{RetryAfter: retryAfter(resetAt, now)}
	}
	iat := now.Truncate(time.Second)
	tok, err := a.signer.Sign(token.MFA, &token.Claims{
		Issuer: a.cfg.issuer, Subject: u.ID, Audience: a.cfg.audience,
		ExpiresAt: iat.Add(MFATokenTTL), IssuedAt: iat, ID: store.NewID(),
		Extra: mfaExtra{Fingerprint: passwordFingerprint(u.PasswordHash)},
	})
	if err != nil {
		return fmt.Errorf("%w: signing: %w", ErrUnavailable, err)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.mfa_challenge",
		slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
	return &MFARequiredError{Required: true, Token: tok, Methods: []string{MethodTOTP, MethodRecovery}}
}

// VerifyMFA completes a login that [Authenticator.Login] answered with a
// [*MFARequiredError]: mfaToken is its token, f a TOTP code or a recovery
// code. It returns the session's token pair. A token that is malformed,
// expired, of another type, already used, or issued before a password
// change is ErrInvalidToken; a wrong, replayed or used code is
// ErrInvalidCredentials and counts against the user's second-factor limit
// (the login limit, [WithLoginThrottle]), beyond which the error is a
// [*ThrottledError]. The token works once: of concurrent calls with one
// token at most one succeeds. This is POST /auth/2fa/verify without HTTP.
func (a *Authenticator) VerifyMFA(ctx context.Context, mfaToken string, f SecondFactor, cl Client) (*TokenResponse, error) {
	if mfaToken == "" {
		return nil, describe(ErrInvalidRequest, "mfa_token is required")
	}
	if (f.Code == "") == (f.RecoveryCode == "") {
		return nil, describe(ErrInvalidRequest, "exactly one of code and recovery_code is required")
	}
	c, err := a.verifier.Verify(ctx, token.MFA, mfaToken)
	if err != nil {
		return nil, verifyErr(err)
	}
	var extra mfaExtra
	if err := (&Principal{Claims: c}).DecodeClaims(&extra); err != nil || c.Subject == "" || c.ID == "" || c.IssuedAt.IsZero() || extra.Fingerprint == "" {
		return nil, describe(ErrInvalidToken, "the token lacks sub, jti, iat or its fingerprint")
	}
	if err := a.checkIssuerAudience(c); err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	u, err := a.tokenUser(ctx, c.Subject)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(extra.Fingerprint), []byte(passwordFingerprint(u.PasswordHash))) != 1 {
		return nil, describe(ErrInvalidToken, "the password has changed since the token was issued")
	}
	ts, e, err := a.enrolment(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		// Reset by an administrator since the password was checked.
		return nil, describe(ErrInvalidToken, "the second factor has changed; log in again")
	}
	now := a.cfg.now()
	if err := a.chargeMFA(ctx, u.ID, now); err != nil {
		return nil, err
	}
	method, ok, err := a.verifyFactor(ctx, ts, e, f, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.mfa_failed", slog.String("user_id", u.ID),
			slog.String("method", method), slog.String("ip", cl.IP.String()))
		return nil, describe(ErrInvalidCredentials, "the code is wrong, used or expired")
	}
	// Spent after the code, so a wrong code leaves the token usable; of
	// concurrent verifies that each passed a code, one wins here.
	first, err := a.st.UseOnce(ctx, "auth:mfa:"+c.ID, c.ExpiresAt.Add(a.cfg.leeway))
	if err != nil {
		return nil, storeErr("spending the mfa token", err)
	}
	if !first {
		return nil, describe(ErrInvalidToken, "the token was already used")
	}
	// Revoked too, so a later presentation is refused before any code is
	// checked (and spent).
	if err := a.st.Revoke(ctx, c.ID, c.ExpiresAt.Add(a.cfg.leeway)); err != nil {
		return nil, storeErr("revoking the mfa token", err)
	}
	if err := a.st.Reset(ctx, mfaKey(u.ID)); err != nil {
		return nil, storeErr("second-factor throttle", err)
	}
	resp, err := a.startSession(ctx, cl, u)
	if errors.Is(err, ErrInvalidCredentials) {
		return nil, describe(ErrInvalidToken, "the password has changed since the token was issued")
	}
	if err != nil {
		return nil, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.login", slog.String("user_id", u.ID),
		slog.String("username", u.Username), slog.String("mfa", method), slog.String("ip", cl.IP.String()))
	return resp, nil
}

// EnrolTOTP starts p's TOTP enrolment: a fresh secret, sealed and stored
// as pending (replacing a pending one), returned with its otpauth:// URI
// and QR code. Nothing is asked at login until [Authenticator.ConfirmTOTP].
// A user already enrolled gets ErrInvalidRequest (disable first); without
// a key-encryption key ([WithKeyEncryptionKey]) it is ErrUnavailable. This
// is POST /auth/2fa/totp/setup without HTTP.
func (a *Authenticator) EnrolTOTP(ctx context.Context, p *Principal) (*TOTPSetup, error) {
	if p == nil {
		return nil, ErrNoToken
	}
	if _, err := a.aead(); err != nil {
		return nil, err
	}
	ts, err := a.totpStore()
	if err != nil {
		return nil, err
	}
	u, err := a.tokenUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	issuer := a.cfg.totpIssuer
	if issuer == "" {
		issuer = a.cfg.issuer
	}
	if issuer == "" {
		issuer = "gatekeep"
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: u.Username, Period: totpOpts.Period,
		SecretSize: totpSecretSize, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm, Rand: rand.Reader,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: generating the secret: %w", ErrUnavailable, err)
	}
	sealed, err := a.seal(u.ID, key.Secret())
	if err != nil {
		return nil, err
	}
	switch err := ts.BeginTOTP(ctx, &store.TOTP{UserID: u.ID, Secret: sealed}); {
	case errors.Is(err, store.ErrConflict):
		return nil, describe(ErrInvalidRequest, "two-factor authentication is already on; disable it first")
	case err != nil:
		return nil, storeErr("storing the second factor", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, fmt.Errorf("%w: QR code: %w", ErrUnavailable, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("%w: QR code: %w", ErrUnavailable, err)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.totp_enrol", slog.String("user_id", u.ID))
	return &TOTPSetup{
		Secret: key.Secret(), URI: key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// ConfirmTOTP activates p's pending enrolment after one valid code, and
// returns ten one-time recovery codes, which are stored hashed and shown
// only this once. A wrong code is ErrInvalidCredentials (throttled as at
// login); no pending enrolment is ErrInvalidRequest. This is POST
// /auth/2fa/totp/confirm without HTTP.
func (a *Authenticator) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	if p == nil {
		return nil, ErrNoToken
	}
	if code == "" {
		return nil, describe(ErrInvalidRequest, "code is required")
	}
	ts, err := a.totpStore()
	if err != nil {
		return nil, err
	}
	e, err := ts.TOTP(ctx, p.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrInvalidRequest, "no enrolment is pending; call setup first")
	case err != nil:
		return nil, storeErr("loading the second factor", err)
	case e.Confirmed:
		return nil, describe(ErrInvalidRequest, "two-factor authentication is already on")
	}
	secret, err := a.open(p.UserID, e.Secret)
	if err != nil {
		return nil, err
	}
	now := a.cfg.now()
	if err := a.chargeMFA(ctx, p.UserID, now); err != nil {
		return nil, err
	}
	ok, err := a.checkCode(ctx, p.UserID, e.Secret, secret, code, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.mfa_failed", slog.String("user_id", p.UserID), slog.String("method", "totp_confirm"))
		return nil, describe(ErrInvalidCredentials, "the code is wrong, used or expired")
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		if codes[i], err = newRecoveryCode(); err != nil {
			return nil, fmt.Errorf("%w: random recovery code: %w", ErrUnavailable, err)
		}
		hashes[i] = recoveryHash(p.UserID, codes[i])
	}
	switch _, err := ts.ConfirmTOTP(ctx, p.UserID, e.Secret, hashes); {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrInvalidRequest, "the enrolment changed meanwhile; start again")
	case err != nil:
		return nil, storeErr("confirming the second factor", err)
	}
	if err := a.st.Reset(ctx, mfaKey(p.UserID)); err != nil {
		return nil, storeErr("second-factor throttle", err)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.totp_confirm", slog.String("user_id", p.UserID))
	return codes, nil
}

// DisableTOTP turns p's second factor off, given the password and a
// current TOTP code or an unused recovery code (a six-digit code is taken
// as a TOTP code, anything else as a recovery code). A wrong password is
// ErrInvalidCredentials, counted with the account's logins; a wrong code
// is ErrInvalidCredentials, counted with its second factor. This is POST
// /auth/2fa/totp/disable without HTTP.
func (a *Authenticator) DisableTOTP(ctx context.Context, p *Principal, password, code string, cl Client) error {
	if p == nil {
		return ErrNoToken
	}
	if password == "" || code == "" {
		return describe(ErrInvalidRequest, "password and code are required")
	}
	u, err := a.tokenUser(ctx, p.UserID)
	if err != nil {
		return err
	}
	now := a.cfg.now()
	acct := accountKey(u.Username)
	if err := a.chargeAccount(ctx, acct, now); err != nil {
		return err
	}
	ok, _, err := a.verifyPassword(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	if err != nil || !ok {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_failed", slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
		return ErrInvalidCredentials
	}
	if err := a.st.Reset(ctx, acct); err != nil {
		return storeErr("login throttle", err)
	}
	ts, e, err := a.enrolment(ctx, u.ID)
	if err != nil {
		return err
	}
	if e == nil {
		return describe(ErrInvalidRequest, "two-factor authentication is not on")
	}
	if err := a.chargeMFA(ctx, u.ID, now); err != nil {
		return err
	}
	f := SecondFactor{RecoveryCode: code}
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		f = SecondFactor{Code: code}
	}
	method, ok, err := a.verifyFactor(ctx, ts, e, f, now)
	if err != nil {
		return err
	}
	if !ok {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.mfa_failed", slog.String("user_id", u.ID),
			slog.String("method", method), slog.String("ip", cl.IP.String()))
		return describe(ErrInvalidCredentials, "the code is wrong, used or expired")
	}
	switch err := ts.DeleteTOTP(ctx, u.ID, e.Secret); {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return describe(ErrInvalidRequest, "the second factor changed meanwhile")
	case err != nil:
		return storeErr("removing the second factor", err)
	}
	if err := a.st.Reset(ctx, mfaKey(u.ID)); err != nil {
		return storeErr("second-factor throttle", err)
	}
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.totp_disable", slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
	return nil
}

// ResetTOTP removes user userID's second factor, pending or confirmed, for
// an administrator (a lost phone and lost recovery codes), and ends every
// session and token of the user ([Authenticator.RevokeUser]). An unknown
// user is ErrNotFound; a user with no second factor is not an error. This
// is DELETE /admin/users/{id}/2fa without HTTP.
func (a *Authenticator) ResetTOTP(ctx context.Context, userID string) error {
	if userID == "" {
		return describe(ErrNotFound, "no such user")
	}
	switch _, err := a.st.User(ctx, userID); {
	case errors.Is(err, store.ErrNotFound):
		return describe(ErrNotFound, "no such user")
	case err != nil:
		return storeErr("loading the user", err)
	}
	ts, err := a.totpStore()
	if err != nil {
		return err
	}
	if err := ts.DeleteTOTP(ctx, userID, nil); err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeErr("removing the second factor", err)
	}
	if err := a.RevokeUser(ctx, userID); err != nil {
		return err
	}
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.totp_reset", slog.String("user_id", userID))
	return nil
}
