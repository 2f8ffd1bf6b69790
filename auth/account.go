package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// Password reset defaults and limits.
const (
	DefaultPasswordResetTTL = 15 * time.Minute
	MinPasswordResetTTL     = time.Minute
	MaxPasswordResetTTL     = 24 * time.Hour
	// DefaultResetRequests forgot-password requests per account are
	// allowed within DefaultResetWindow; further ones get 429.
	DefaultResetRequests = 3
	DefaultResetWindow   = 15 * time.Minute
	// maxPendingNotifications bounds the notifications being sent at
	// once; beyond it a request is still answered 202 and the message is
	// dropped with a warning.
	maxPendingNotifications = 64
	// notifyTimeout bounds one Notifier call.
	notifyTimeout = 30 * time.Second
)

// PasswordReset is what a [Notifier] sends to a user who asked to reset
// their password. It prints and logs without its token or link.
type PasswordReset struct {
	// UserID, Username and Email (possibly empty) identify the recipient.
	UserID   string
	Username string
	Email    string
	// Link is the configured link base ([WithPasswordReset]) with
	// "#token=<token>" appended: the page it opens posts the token to
	// POST /auth/password/reset. The token rides in the fragment so that
	// browsers never send it to a server, in a request line or a Referer.
	Link string
	// Token is the reset token itself, for messages that show it apart.
	Token string
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

// LogValue keeps the token and the link out of logs.
func (n PasswordReset) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user_id", n.UserID), slog.Time("expires_at", n.ExpiresAt))
}

// String keeps the token and the link out of fmt's output.
func (n PasswordReset) String() string { return "password reset for user " + n.UserID }

// GoString keeps the token and the link out of %#v.
func (n PasswordReset) GoString() string { return n.String() }

// Notifier delivers password-reset messages (by mail, say). The
// Authenticator calls it in the background, after the request that asked
// has been answered, with a context that ends after 30 seconds; an error is
// logged and nothing is retried. Implementations are safe for concurrent
// use.
type Notifier interface {
	NotifyPasswordReset(ctx context.Context, n PasswordReset) error
}

// NotifierFunc adapts a function to a [Notifier].
type NotifierFunc func(ctx context.Context, n PasswordReset) error

// NotifyPasswordReset calls f.
func (f NotifierFunc) NotifyPasswordReset(ctx context.Context, n PasswordReset) error {
	return f(ctx, n)
}

// resetExtra is the application claim of reset tokens: a fingerprint of
// the password hash the user had when the token was issued.
type resetExtra struct {
	Fingerprint string `json:"pwf"`
}

// passwordFingerprint binds a reset token to the password hash it was
// issued under: any password change (a reset, a change, a rehash) makes a
// new hash, with a new random salt, so the token no longer matches. The
// hash's salt is secret, so the fingerprint tells its reader nothing that
// helps guess the password.
func passwordFingerprint(encodedHash string) string {
	sum := sha256.Sum256([]byte("gatekeep password-reset fingerprint\x00" + encodedHash))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// forgotKey is the throttling key of forgot-password requests for a name.
func forgotKey(canonical string) string {
	return "auth:forgot:acct:" + accountKey(canonical)[len("auth:login:acct:"):]
}

// ForgotPassword asks for a password reset for username: when the user
// exists, a one-time reset token (typ reset+jwt, lifetime
// [WithPasswordResetTTL]) goes to the [Notifier] of [WithPasswordReset].
// It returns nil whether or not the user exists, after the same work
// (throttle, one user lookup; the token is signed and sent in the
// background), so neither the answer nor its timing tells whether the
// account exists. Beyond [WithForgotPasswordLimit] requests from the
// client IP or in total, or [WithPasswordResetThrottle] requests for one
// name (counted alike for names that exist and names that do not), the
// error is a [*ThrottledError]. Without a Notifier nothing is sent, and a
// warning is logged once. This is POST /auth/password/forgot without HTTP.
func (a *Authenticator) ForgotPassword(ctx context.Context, username string, cl Client) error {
	if username == "" {
		return describe(ErrInvalidRequest, "username is required")
	}
	in := struct{ Username string }{username}
	now := a.cfg.now()
	ipAttr := slog.String("ip", cl.IP.String())
	name, nameErr := store.CanonicalUsername(in.Username)
	if nameErr != nil {
		name = in.Username
	}
	// Per client IP and in total first, so that made-up names beyond
	// those limits never get a per-account counter.
	if err := a.limitRequest(ctx, "auth:forgot", a.cfg.forgotLimit, cl.IP, now); err != nil {
		return err
	}
	n, resetAt, err := a.st.Incr(ctx, forgotKey(name), a.cfg.resetWindow)
	if err != nil {
		return storeErr("password reset throttle", err)
	}
	if n > int64(a.cfg.resetRequests) {
		ra := retryAfter(resetAt, now)
		a.observe(ctx, EventThrottled)
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_reset_throttled", ipAttr, slog.Duration("retry_after", ra))
		return &ThrottledError{RetryAfter: ra}
	}
	var u *store.User
	if nameErr == nil {
		u, err = a.st.UserByUsername(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = nil
		case err != nil:
			return storeErr("loading the user", err)
		}
	}
	if a.cfg.notifier == nil {
		a.warnNoNotifier.Do(func() {
			a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_reset_disabled",
				slog.String("reason", "no Notifier configured (WithPasswordReset): reset messages are not sent"))
		})
	}
	if u == nil {
		a.log.LogAttrs(ctx, slog.LevelInfo, "auth.password_reset_requested", ipAttr, slog.Bool("user_found", false))
		return nil
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.password_reset_requested", ipAttr,
		slog.Bool("user_found", true), slog.String("user_id", u.ID))
	if a.cfg.notifier != nil {
		a.sendReset(ctx, u, now)
	}
	return nil
}

// sendReset signs a reset token for u and hands it to the Notifier in the
// background, bounded by maxPendingNotifications; Close waits for it.
func (a *Authenticator) sendReset(ctx context.Context, u *store.User, now time.Time) {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.bgClosed {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_reset_dropped",
			slog.String("user_id", u.ID), slog.String("reason", "closed"))
		return
	}
	select {
	case a.notifySlots <- struct{}{}:
	default:
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_reset_dropped",
			slog.String("user_id", u.ID), slog.String("reason", "too many notifications in flight"))
		return
	}
	a.bg.Add(1)
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer a.bg.Done()
		defer func() { <-a.notifySlots }()
		ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
		defer cancel()
		n, err := a.resetMessage(u, now)
		if err == nil {
			err = a.cfg.notifier.NotifyPasswordReset(ctx, *n)
		}
		if err != nil {
			// The error may come from the application's Notifier: log only
			// that it failed, never its text (which might quote the link).
			a.log.LogAttrs(ctx, slog.LevelError, "auth.password_reset_notify_failed", slog.String("user_id", u.ID))
			return
		}
		a.log.LogAttrs(ctx, slog.LevelInfo, "auth.password_reset_sent", slog.String("user_id", u.ID))
	}()
}

// resetMessage signs a reset token for u.
func (a *Authenticator) resetMessage(u *store.User, now time.Time) (*PasswordReset, error) {
	iat := now.Truncate(time.Second)
	exp := iat.Add(a.cfg.resetTTL)
	tok, err := a.signer.Sign(token.Reset, &token.Claims{
		Issuer: a.cfg.issuer, Subject: u.ID, Audience: a.cfg.audience,
		ExpiresAt: exp, IssuedAt: iat, ID: store.NewID(),
		Extra: resetExtra{Fingerprint: passwordFingerprint(u.PasswordHash)},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: signing: %w", ErrUnavailable, err)
	}
	return &PasswordReset{
		UserID: u.ID, Username: u.Username, Email: u.Email,
		Link: a.cfg.resetLink + "#token=" + tok, Token: tok, ExpiresAt: exp,
	}, nil
}

// Close waits for the password-reset notifications in flight to finish
// (each is bounded by 30 seconds); later ones are dropped with a warning.
// The Authenticator otherwise keeps working. Close always returns nil.
func (a *Authenticator) Close() error {
	a.bgMu.Lock()
	a.bgClosed = true
	a.bgMu.Unlock()
	a.bg.Wait()
	return nil
}

// ResetPassword sets the password of the user a reset token (from
// [Authenticator.ForgotPassword]'s message) was issued to, and ends every
// session and token of that user ([Authenticator.RevokeUser]). A token
// that is malformed, expired, of another type (an access or refresh token
// is never a reset token, nor the other way round), already used, or spent
// by a password change since it was issued is ErrInvalidToken; a bad new
// password is ErrInvalidRequest, ErrPasswordTooShort or ErrPasswordTooLong
// and leaves the token usable. This is POST /auth/password/reset without
// HTTP.
//
// A token works once: its jti is spent through the store's UseOnce, so of
// concurrent calls with one token exactly one succeeds.
func (a *Authenticator) ResetPassword(ctx context.Context, resetToken, newPassword string, cl Client) error {
	if resetToken == "" {
		return describe(ErrInvalidRequest, "token is required")
	}
	c, err := a.verifier.Verify(ctx, token.Reset, resetToken)
	if err != nil {
		return verifyErr(err)
	}
	var extra resetExtra
	if err := (&Principal{Claims: c}).DecodeClaims(&extra); err != nil {
		return describe(ErrInvalidToken, "the token's claims do not decode")
	}
	if c.Subject == "" || c.ID == "" || c.IssuedAt.IsZero() || extra.Fingerprint == "" {
		return describe(ErrInvalidToken, "the token lacks sub, jti, iat or its fingerprint")
	}
	if err := a.checkIssuerAudience(c); err != nil {
		return err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return err
	}
	if err := checkNewPassword(newPassword); err != nil {
		return err
	}
	u, err := a.st.User(ctx, c.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return describe(ErrInvalidToken, "the user no longer exists")
	case err != nil:
		return storeErr("loading the user", err)
	}
	if subtle.ConstantTimeCompare([]byte(extra.Fingerprint), []byte(passwordFingerprint(u.PasswordHash))) != 1 {
		return describe(ErrInvalidToken, "the password has changed since the token was issued")
	}
	// Hash before spending the token, so a busy hasher (503) or a password
	// the hasher refuses (400) leaves it usable.
	hash, err := a.hashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	first, err := a.st.UseOnce(ctx, "auth:reset:"+c.ID, c.ExpiresAt.Add(a.cfg.leeway))
	if err != nil {
		return storeErr("spending the reset token", err)
	}
	if !first {
		return describe(ErrInvalidToken, "the token was already used")
	}
	// Swapped against the hash the token's fingerprint was checked
	// against: a password written since (a change racing this reset) makes
	// the token stale rather than being overwritten, or overwriting it.
	if _, err := a.st.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return describe(ErrInvalidToken, "the user no longer exists")
		case errors.Is(err, store.ErrConflict):
			return describe(ErrInvalidToken, "the password has changed since the token was issued")
		}
		return storeErr("updating the password", err)
	}
	if err := a.RevokeUser(ctx, u.ID); err != nil {
		return err
	}
	// The user proved control of their mailbox: lift the login lockout
	// of the client that reset, and the account's slowing.
	if err := errors.Join(a.st.Reset(ctx, accountKey(u.Username)), a.st.Reset(ctx, lockKey(u.Username, cl.IP))); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_throttle_reset_failed", slog.String("user_id", u.ID))
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.password_reset",
		slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
	return nil
}

// ChangePassword replaces the password of p's user with next after
// checking current: every other session of the user ends (the one of p's
// token stays usable) and any reset token issued earlier is spent. A wrong
// current password is ErrInvalidCredentials, counted and throttled with
// the account's logins ([*ThrottledError] beyond [WithLoginThrottle]); a
// bad new password is ErrInvalidRequest, ErrPasswordTooShort or
// ErrPasswordTooLong. This is POST /auth/password/change without HTTP.
func (a *Authenticator) ChangePassword(ctx context.Context, p *Principal, current, next string, cl Client) error {
	if p == nil {
		return ErrNoToken
	}
	in := struct{ CurrentPassword, NewPassword string }{current, next}
	if in.CurrentPassword == "" {
		return describe(ErrInvalidRequest, "current_password is required")
	}
	if err := checkNewPassword(in.NewPassword); err != nil {
		return err
	}
	u, err := a.st.User(ctx, p.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return describe(ErrInvalidToken, "the user no longer exists")
	case err != nil:
		return storeErr("loading the user", err)
	}
	now := a.cfg.now()
	ipAttr := slog.String("ip", cl.IP.String())
	ipk, acct, lock := ipKey(cl.IP), accountKey(u.Username), lockKey(u.Username, cl.IP)
	release, err := a.throttleIP(ctx, ipk, now)
	if err != nil {
		a.auditThrottled(ctx, err, ipAttr)
		return err
	}
	defer release()
	if err := a.chargeAccount(ctx, lock, now); err != nil {
		a.auditThrottled(ctx, err, ipAttr)
		return err
	}
	if err := a.slowAccount(ctx, acct, ipAttr); err != nil {
		return err
	}
	cur := in.CurrentPassword
	ok := false
	if len(cur) <= MaxPasswordLen {
		ok, _, err = a.verifyPassword(ctx, cur, u.PasswordHash)
		switch {
		case errors.Is(err, ErrUnavailable):
			return err
		case err != nil:
			a.log.LogAttrs(ctx, slog.LevelError, "auth.password_hash_unreadable", slog.String("user_id", u.ID))
			ok = false
		}
	}
	if !ok {
		if err := a.countFailure(ctx, ipk, acct); err != nil {
			return err
		}
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_change_failed", slog.String("user_id", u.ID), ipAttr)
		return ErrInvalidCredentials
	}
	if err := a.st.Reset(ctx, lock); err != nil {
		return storeErr("login throttle", err)
	}
	hash, err := a.hashPassword(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	// Swapped against the hash current was verified against: a reset (or
	// another change) that landed meanwhile wins, and this change fails
	// instead of silently undoing it.
	if _, err := a.st.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return describe(ErrInvalidToken, "the user no longer exists")
		case errors.Is(err, store.ErrConflict):
			a.log.LogAttrs(ctx, slog.LevelWarn, "auth.password_change_lost_race", slog.String("user_id", u.ID), ipAttr)
			return describe(ErrInvalidCredentials, "the password changed while this change was checked")
		}
		return storeErr("updating the password", err)
	}
	ended, err := a.endOtherSessions(ctx, u.ID, p.SessionID, now)
	if err != nil {
		return err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.password_changed",
		slog.String("user_id", u.ID), slog.String("session_id", p.SessionID),
		slog.Int("sessions_ended", ended), ipAttr)
	return nil
}

// endOtherSessions ends every session of the user but keep.
func (a *Authenticator) endOtherSessions(ctx context.Context, userID, keep string, now time.Time) (int, error) {
	ss, err := a.st.UserSessions(ctx, userID)
	if err != nil {
		return 0, storeErr("listing sessions", err)
	}
	n := 0
	for _, s := range ss {
		if s.ID == keep {
			continue
		}
		if err := a.endSession(ctx, s.ID, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
