package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// Limits on what registration stores.
const (
	maxUsernameLen  = 128 // bytes, canonical form
	maxEmailLen     = 254 // RFC 5321 path limit
	maxUserAgentLen = 256
)

// defaultRoles are the roles of a newly registered user.
var defaultRoles = []string{"user"}

// UserInfo is the JSON form of a user in responses.
type UserInfo struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
}

func userInfo(id, username string, roles []string) UserInfo {
	if roles == nil {
		roles = []string{}
	}
	return UserInfo{ID: id, Username: username, Roles: roles}
}

// TokenResponse is a new token pair: what [Authenticator.Register],
// [Authenticator.Login], [Authenticator.Refresh] and
// [Authenticator.IssueTokens] return, and the JSON body of the register,
// login and refresh responses.
type TokenResponse struct {
	User         UserInfo `json:"user"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
	// AccessExpiresAt and RefreshExpiresAt are when the tokens expire
	// (not part of the JSON body; cookie mode sets Max-Age from them).
	AccessExpiresAt  time.Time `json:"-"`
	RefreshExpiresAt time.Time `json:"-"`
}

// LogValue keeps the tokens out of logs.
func (t TokenResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user_id", t.User.ID), slog.Int64("expires_in", t.ExpiresIn))
}

// Registration is the input of [Authenticator.Register]. It logs and
// prints without its password.
type Registration struct {
	Username string
	Password string
	// Email is optional; when set it must be a plain address.
	Email string
}

// LogValue keeps the password out of logs.
func (r Registration) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", r.Username))
}

// String keeps the password out of fmt's output.
func (r Registration) String() string { return "registration of " + r.Username }

// GoString keeps the password out of %#v.
func (r Registration) GoString() string { return r.String() }

// hashID is how a refresh token's jti is stored in a session.
func hashID(jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return hex.EncodeToString(sum[:])
}

// accessID is the jti of the access token issued beside the refresh token
// whose jti is refreshJTI: derived, so that the refresh that spends the
// refresh token can revoke its access token ([WithRevokePreviousOnRefresh])
// without the session storing it. It has store.NewID's form and tells
// nothing about refreshJTI.
func accessID(refreshJTI string) string {
	sum := sha256.Sum256([]byte("gatekeep access jti\x00" + refreshJTI))
	return hex.EncodeToString(sum[:16])
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// storeErr turns a store failure into ErrUnavailable, keeping the store's
// error for logs and errors.Is.
func storeErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}

// issue signs an access and a refresh token for u under session s; the
// refresh token's id is refreshJTI (whose hash s holds) and the access
// token carries the application claims extra. Neither token outlives the
// session's absolute expiry.
func (a *Authenticator) issue(u *store.User, s *store.Session, refreshJTI string, extra map[string]any, now time.Time) (*TokenResponse, error) {
	iat := now.Truncate(time.Second)
	accessExp := earliest(iat.Add(a.cfg.accessTTL), s.ExpiresAt)
	refreshExp := earliest(iat.Add(a.cfg.refreshTTL), s.ExpiresAt)
	ac := &token.Claims{
		Issuer: a.cfg.issuer, Subject: u.ID, Audience: a.cfg.audience,
		ExpiresAt: accessExp, IssuedAt: iat, ID: accessID(refreshJTI),
		SessionID: s.ID, Roles: u.Roles, Username: u.Username,
	}
	if len(extra) > 0 {
		ac.Extra = extra
	}
	access, err := a.signer.Sign(token.Access, ac)
	if err != nil {
		return nil, fmt.Errorf("%w: signing: %w", ErrUnavailable, err)
	}
	refresh, err := a.signer.Sign(token.Refresh, &token.Claims{
		Issuer: a.cfg.issuer, Subject: u.ID, Audience: a.cfg.audience,
		ExpiresAt: refreshExp, IssuedAt: iat, ID: refreshJTI, SessionID: s.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: signing: %w", ErrUnavailable, err)
	}
	expiresIn := int64(accessExp.Sub(iat) / time.Second)
	return &TokenResponse{
		User:        userInfo(u.ID, u.Username, u.Roles),
		AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", ExpiresIn: expiresIn,
		AccessExpiresAt: accessExp, RefreshExpiresAt: refreshExp,
	}, nil
}

// startSession creates a session (a login) for u and issues its tokens.
func (a *Authenticator) startSession(ctx context.Context, cl Client, u *store.User) (*TokenResponse, error) {
	now := a.cfg.now()
	jti := store.NewID()
	exp := now.Add(a.cfg.sessionMaxAge)
	ua := cl.UserAgent
	if len(ua) > maxUserAgentLen {
		ua = ua[:maxUserAgentLen]
	}
	ip := ""
	if cl.IP.IsValid() {
		ip = cl.IP.String()
	}
	s := &store.Session{
		ID: store.NewID(), UserID: u.ID,
		CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: earliest(now.Add(a.cfg.refreshTTL), exp), ExpiresAt: exp,
		UserAgent: ua, IP: ip,
		RefreshID: hashID(jti),
	}
	if err := a.st.CreateSession(ctx, s); err != nil {
		return nil, storeErr("creating the session", err)
	}
	// A password change, reset or role change that ran while this login was
	// checking the password updates the user first, then ends the sessions
	// it finds; this one may have been created after it looked. So read the
	// user again: a password that changed since it was verified ends this
	// session, and the tokens carry the roles as they are now.
	fresh, err := a.st.User(ctx, u.ID)
	if err != nil || fresh.PasswordHash != u.PasswordHash {
		a.abandonSession(ctx, s)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, storeErr("loading the user", err)
		}
		return nil, ErrInvalidCredentials // the same answer as any wrong password
	}
	extra, err := a.appClaims(ctx, fresh)
	if err != nil {
		a.abandonSession(ctx, s)
		return nil, err
	}
	// At most WithMaxSessionsPerUser live sessions: the oldest end.
	if err := a.limitSessions(ctx, u.ID, s.ID); err != nil {
		a.abandonSession(ctx, s)
		return nil, err
	}
	resp, err := a.issue(fresh, s, jti, extra, now)
	if err != nil {
		a.abandonSession(ctx, s)
		return nil, err
	}
	return resp, nil
}

// abandonSession ends a session no token was handed out for yet: deleted,
// and its id revoked in case a store lost the delete.
func (a *Authenticator) abandonSession(ctx context.Context, s *store.Session) {
	if err := a.st.Revoke(ctx, s.ID, s.ExpiresAt.Add(a.cfg.leeway)); err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "auth.session_abandon_failed", slog.String("session_id", s.ID))
	}
	_ = a.st.DeleteSession(ctx, s.ID)
}

// Register creates a user with role "user" and logs them in: it returns
// the new session's token pair. The username must be allowed (PRECIS, at
// most 128 bytes in canonical form), the email (optional) a plain address
// and the password 8 to 1024 bytes (at most 72 with bcrypt) and not one of
// the most common passwords; otherwise the error wraps ErrInvalidRequest,
// ErrPasswordTooShort, ErrPasswordTooLong or ErrPasswordCommon. A taken
// username is ErrUserExists, reported only after the password was hashed,
// so that a taken name costs the time of a free one. Registrations are limited per client IP and in total
// ([WithRegisterLimit]): beyond that the error is a [*ThrottledError]. A
// saturated hasher or a store that cannot answer is ErrUnavailable. This
// is POST /auth/register without HTTP.
func (a *Authenticator) Register(ctx context.Context, in Registration, cl Client) (*TokenResponse, error) {
	name, err := store.CanonicalUsername(in.Username)
	if err != nil || len(name) > maxUsernameLen {
		return nil, describe(ErrInvalidRequest, "the username is missing or not allowed")
	}
	if in.Email != "" {
		addr, err := mail.ParseAddress(in.Email)
		if err != nil || addr.Address != in.Email || len(in.Email) > maxEmailLen {
			return nil, describe(ErrInvalidRequest, "the email address is not valid")
		}
	}
	if err := checkNewPassword(in.Password); err != nil {
		return nil, err
	}
	// Counted before any hashing, so that a flood costs no hash.
	if err := a.limitRequest(ctx, "auth:register", a.cfg.registerLimit, cl.IP, a.cfg.now()); err != nil {
		return nil, err
	}
	// Hash before looking at the username, so that a taken name costs
	// the same time as a free one; within the share of the hash slots
	// unauthenticated work may hold, so that logins always find one.
	hash, err := a.hashPasswordBulk(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{
		ID: store.NewID(), Username: name, Email: in.Email,
		PasswordHash: hash, Roles: append([]string(nil), defaultRoles...),
	}
	switch err := a.st.CreateUser(ctx, u); {
	case errors.Is(err, store.ErrConflict):
		return nil, ErrUserExists
	case errors.Is(err, store.ErrInvalid):
		return nil, describe(ErrInvalidRequest, "the username is missing or not allowed")
	case err != nil:
		return nil, storeErr("creating the user", err)
	}
	resp, err := a.startSession(ctx, cl, u)
	if err != nil {
		return nil, err
	}
	a.observe(ctx, EventRegister)
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.register",
		slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
	return resp, nil
}

// Login checks a username (in any case form: it is compared canonically)
// and password and starts a session, returning its token pair. A wrong
// password and an unknown user are both ErrInvalidCredentials, after the
// same work. Failures are throttled per (account, client IP) and per
// client IP ([WithLoginThrottle]): beyond them the error is a
// [*ThrottledError] (errors.Is ErrThrottled) saying when to retry; an
// account that failed often from many clients is slowed, never refused. A
// saturated hasher or a store that cannot answer is ErrUnavailable. A hash of another kind or
// parameters than the configured hasher's is replaced after a successful
// login. A user with a confirmed second factor gets no session yet: the
// error is a [*MFARequiredError] (errors.Is ErrMFARequired) carrying the
// token for [Authenticator.VerifyMFA]. This is POST /auth/login without
// HTTP.
func (a *Authenticator) Login(ctx context.Context, username, password string, cl Client) (*TokenResponse, error) {
	if username == "" || password == "" {
		return nil, describe(ErrInvalidRequest, "username and password are required")
	}
	now := a.cfg.now()
	ipAttr := slog.String("ip", cl.IP.String())
	ipk := ipKey(cl.IP)
	release, err := a.throttleIP(ctx, ipk, now)
	if err != nil {
		a.auditThrottled(ctx, err, ipAttr)
		return nil, err
	}
	defer release()
	name, nameErr := store.CanonicalUsername(username)
	if nameErr != nil {
		name = username // unusable names are counted (and fail) like any other
	}
	// Locked per (account, client IP); only slowed per account, so that
	// failures from elsewhere never lock the owner out (lockout.go).
	acct, lock := accountKey(name), lockKey(name, cl.IP)
	if err := a.chargeAccount(ctx, lock, now); err != nil {
		a.auditThrottled(ctx, err, ipAttr)
		return nil, err
	}
	if err := a.slowAccount(ctx, acct, ipAttr); err != nil {
		return nil, err
	}

	var u *store.User
	if nameErr == nil {
		var err error
		u, err = a.st.UserByUsername(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = nil
		case err != nil:
			return nil, storeErr("loading the user", err)
		}
	}
	ok, rehash := false, false
	if len(password) >= MinPasswordLen && len(password) <= MaxPasswordLen {
		var err error
		// Equalised over every hash kind and parameter set present, so
		// that timing tells nothing after a hasher switch (dummyhash.go).
		ok, rehash, err = a.verifyLogin(ctx, password, u)
		switch {
		case errors.Is(err, ErrUnavailable):
			return nil, err
		case err != nil:
			// A stored hash this package cannot read: nobody logs in
			// with it. Logged (without the hash) for the operator.
			if u != nil {
				a.log.LogAttrs(ctx, slog.LevelError, "auth.password_hash_unreadable",
					slog.String("user_id", u.ID))
			}
			ok = false
		}
		ok = ok && u != nil && u.PasswordHash != ""
	}
	if !ok {
		if err := a.countFailure(ctx, ipk, acct); err != nil {
			return nil, err
		}
		attrs := []slog.Attr{ipAttr}
		if u != nil {
			attrs = append(attrs, slog.String("user_id", u.ID))
		}
		a.observe(ctx, EventLoginFailed)
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_failed", attrs...)
		return nil, ErrInvalidCredentials
	}
	if err := a.st.Reset(ctx, lock); err != nil {
		return nil, storeErr("login throttle", err)
	}
	if rehash {
		a.rehash(ctx, u, password)
	}
	// A second factor (auth/totp.go): a *MFARequiredError instead of a session.
	if err := a.secondFactorGate(ctx, u, cl); err != nil {
		return nil, err
	}
	resp, err := a.startSession(ctx, cl, u)
	if err != nil {
		return nil, err
	}
	a.observe(ctx, EventLogin)
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.login",
		slog.String("user_id", u.ID), slog.String("username", u.Username), ipAttr)
	return resp, nil
}

// IssueTokens starts a session for user userID, whom the application has
// authenticated itself (its own session cookie, an SSO callback, a
// command line), and returns its token pair: the session is an ordinary
// gatekeep login, refreshed, listed and ended like any other. No password
// is checked and nothing is throttled: call it only for a user your code
// has already authenticated. An unknown user is an error wrapping
// ErrNotFound; a store that cannot answer, ErrUnavailable.
func (a *Authenticator) IssueTokens(ctx context.Context, userID string, cl Client) (*TokenResponse, error) {
	if userID == "" {
		return nil, describe(ErrNotFound, "no such user")
	}
	u, err := a.st.User(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrNotFound, "no such user")
	case err != nil:
		return nil, storeErr("loading the user", err)
	}
	resp, err := a.startSession(ctx, cl, u)
	if errors.Is(err, ErrInvalidCredentials) {
		// The user changed (or went) while the session was created.
		return nil, describe(ErrUnavailable, "the user changed while the session was created; retry")
	}
	if err != nil {
		return nil, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.tokens_issued",
		slog.String("user_id", u.ID), slog.String("ip", cl.IP.String()))
	return resp, nil
}

// rehash replaces u's password hash with one of the configured kind and
// parameters. A failure is logged and does not fail the login.
func (a *Authenticator) rehash(ctx context.Context, u *store.User, pw string) {
	h, err := a.hashPassword(ctx, pw)
	if err == nil {
		// Never over a password changed since it was verified: swapped
		// against the hash pw was checked against, a lost swap leaves the
		// newer password alone (and startSession's second read then ends
		// this login).
		_, err = a.st.SetPasswordHash(ctx, u.ID, u.PasswordHash, h)
		if errors.Is(err, store.ErrConflict) {
			a.log.LogAttrs(ctx, slog.LevelInfo, "auth.rehash_skipped", slog.String("user_id", u.ID))
			return
		}
	}
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.rehash_failed", slog.String("user_id", u.ID))
		return
	}
	u.PasswordHash = h
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.rehashed", slog.String("user_id", u.ID))
}

func (a *Authenticator) auditThrottled(ctx context.Context, err error, ip slog.Attr) {
	var te *ThrottledError
	if errors.As(err, &te) {
		a.observe(ctx, EventThrottled)
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_throttled", ip,
			slog.Duration("retry_after", te.RetryAfter))
	}
}

// Refresh spends refreshToken and returns a new pair for its session,
// carrying the user's current roles and application claims. An unusable
// token (malformed, expired, of another type, its session ended, its user
// gone) is ErrInvalidToken; a store that cannot answer, ErrUnavailable.
// This is POST /auth/refresh without HTTP.
//
// Rotation follows RFC 9700 §4.14.2: the session stores only the SHA-256
// of the current refresh token's jti and rotates it by compare-and-swap, so
// of concurrent refreshes with one token exactly one wins. Presenting a
// spent token (the loser of such a race included) is taken as theft: the
// session is deleted and revoked until its absolute expiry, so every access
// token issued under it stops working, and the error is ErrInvalidToken.
//
// With [WithRefreshReuseGrace] d > 0, the immediately previous token of a
// session presented within d of its rotation is answered as if it were
// current: the session is rotated again, from its current token, and a new
// pair is returned (the pair the earlier request received becomes the
// previous one, in turn within grace). Any older token, or the previous
// one after d, ends the session. Concurrent presentations may then each
// succeed.
//
// With [WithRevokePreviousOnRefresh], the access token issued beside the
// spent refresh token is revoked before anything is rotated.
//
// No token outlives the session's absolute expiry ([WithSessionMaxAge]).
func (a *Authenticator) Refresh(ctx context.Context, refreshToken string, _ Client) (*TokenResponse, error) {
	if refreshToken == "" {
		return nil, describe(ErrInvalidRequest, "refresh_token is required")
	}
	c, err := a.verifier.Verify(ctx, token.Refresh, refreshToken)
	if err != nil {
		return nil, verifyErr(err)
	}
	if err := a.checkClaims(c); err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	u, err := a.st.User(ctx, c.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrInvalidToken, "the user no longer exists")
	case err != nil:
		return nil, storeErr("loading the user", err)
	}
	// Everything that can fail without changing anything runs before the
	// rotation: a failure after it would leave the client without tokens
	// and its refresh token spent.
	extra, err := a.appClaims(ctx, u)
	if err != nil {
		return nil, err
	}
	now := a.cfg.now()
	if a.cfg.revokePrevious {
		until := c.IssuedAt.Add(a.cfg.accessTTL + a.cfg.leeway)
		if err := a.st.Revoke(ctx, accessID(c.ID), until); err != nil {
			return nil, storeErr("revoking the previous access token", err)
		}
	}
	spent := hashID(c.ID)
	next := store.NewID()
	rot := store.Rotation{
		Expected: spent, Next: hashID(next), At: now,
		IdleExpiresAt: now.Add(a.cfg.refreshTTL),
	}
	s, err := a.st.RotateSession(ctx, c.SessionID, rot)
	grace := false
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		return nil, describe(ErrInvalidToken, "the session has ended")
	case errors.Is(err, store.ErrConflict):
		if s == nil || !a.withinGrace(s, spent, now) {
			return nil, a.reuseDetected(ctx, c, s, now)
		}
		rot.Expected = s.RefreshID
		s, err = a.st.RotateSession(ctx, c.SessionID, rot)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, describe(ErrInvalidToken, "the session has ended")
		case errors.Is(err, store.ErrConflict):
			// Another request rotated in between: a race, not a replay.
			return nil, describe(ErrInvalidToken, "the refresh token was already used")
		case err != nil:
			return nil, storeErr("rotating the session", err)
		}
		grace = true
	default:
		return nil, storeErr("rotating the session", err)
	}
	if s.UserID != c.Subject {
		return nil, describe(ErrInvalidToken, "the token does not belong to the session")
	}
	resp, err := a.issue(u, s, next, extra, now)
	if err != nil {
		return nil, err
	}
	a.observe(ctx, EventRefresh)
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.refresh",
		slog.String("user_id", u.ID), slog.String("session_id", s.ID), slog.Bool("grace", grace))
	return resp, nil
}

// withinGrace reports whether spent is s's immediately previous refresh
// id, rotated away no longer than the grace window ago.
func (a *Authenticator) withinGrace(s *store.Session, spent string, now time.Time) bool {
	if a.cfg.reuseGrace <= 0 || s.PreviousRefreshID == "" ||
		subtle.ConstantTimeCompare([]byte(s.PreviousRefreshID), []byte(spent)) != 1 {
		return false
	}
	age := now.Sub(s.RotatedAt)
	return age >= 0 && age <= a.cfg.reuseGrace
}

// reuseDetected ends the session a spent refresh token belongs to: revoked
// (so every access token issued under it stops) until its absolute expiry,
// and deleted.
func (a *Authenticator) reuseDetected(ctx context.Context, c *token.Claims, s *store.Session, now time.Time) error {
	until := now.Add(a.cfg.sessionMaxAge)
	if s != nil && !s.ExpiresAt.IsZero() {
		until = s.ExpiresAt
	}
	until = until.Add(a.cfg.leeway)
	errRevoke := a.st.Revoke(ctx, c.SessionID, until)
	errDelete := a.st.DeleteSession(ctx, c.SessionID)
	if errors.Is(errDelete, store.ErrNotFound) {
		errDelete = nil
	}
	a.observe(ctx, EventRefreshReuse)
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.refresh_reuse_detected",
		slog.String("user_id", c.Subject), slog.String("session_id", c.SessionID))
	if err := errors.Join(errRevoke, errDelete); err != nil {
		return storeErr("ending the session", err)
	}
	return describe(ErrInvalidToken, "the refresh token was already used; the session has ended")
}

// Logout ends p's token and its whole session (its refresh token
// included) now. p is the principal of a verified access token
// ([Gate.Authenticate], [FromContext]). This is POST /auth/logout without
// HTTP.
func (a *Authenticator) Logout(ctx context.Context, p *Principal) error {
	if p == nil || p.Claims == nil {
		return ErrNoToken
	}
	now := a.cfg.now()
	if err := a.st.Revoke(ctx, p.TokenID, p.Claims.ExpiresAt.Add(a.cfg.leeway)); err != nil {
		return storeErr("revoking the token", err)
	}
	if p.SessionID != "" { // a legacy token has no session; its own revocation suffices
		if err := a.endSession(ctx, p.SessionID, now); err != nil {
			return err
		}
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.logout",
		slog.String("user_id", p.UserID), slog.String("session_id", p.SessionID))
	return nil
}

// LogoutAll ends every session and token of p's user now (see
// [Authenticator.RevokeUser]). This is POST /auth/logout-all without HTTP.
func (a *Authenticator) LogoutAll(ctx context.Context, p *Principal) error {
	if p == nil {
		return ErrNoToken
	}
	if err := a.RevokeUser(ctx, p.UserID); err != nil {
		return err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.logout_all", slog.String("user_id", p.UserID))
	return nil
}
