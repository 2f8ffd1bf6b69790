package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/mail"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

// MaxBodyBytes is the largest request body the handlers read; larger
// bodies get 413 payload_too_large.
const MaxBodyBytes = 64 << 10

// Limits on what registration stores.
const (
	maxUsernameLen  = 128 // bytes, canonical form
	maxEmailLen     = 254 // RFC 5321 path limit
	maxUserAgentLen = 256
)

// defaultRoles are the roles of a newly registered user.
var defaultRoles = []string{"user"}

// secret is a string that never prints or logs: slog's LogValuer, fmt's
// Stringer and GoStringer and encoding/json's Marshaler all redact it (it
// still decodes from JSON as a plain string).
type secret string

const redacted = "[REDACTED]"

func (secret) LogValue() slog.Value { return slog.StringValue(redacted) }
func (secret) String() string       { return redacted }
func (secret) GoString() string     { return redacted }
func (secret) MarshalJSON() ([]byte, error) {
	return []byte(`"` + redacted + `"`), nil
}

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

// TokenResponse is the body of register, login and refresh responses.
type TokenResponse struct {
	User         UserInfo `json:"user"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`

	// The tokens' expiry times, for cookie mode's Max-Age.
	accessExp, refreshExp time.Time
}

// LogValue keeps the tokens out of logs.
func (t TokenResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user_id", t.User.ID), slog.Int64("expires_in", t.ExpiresIn))
}

// allowMethod answers 405 unless r's method is one of methods (HEAD is
// allowed wherever GET is).
func (a *Authenticator) allowMethod(w http.ResponseWriter, r *http.Request, methods string) bool {
	m := r.Method
	if m == http.MethodHead && methods == http.MethodGet {
		m = http.MethodGet
	}
	if m == methods {
		return true
	}
	a.fail(w, r, &methodError{allow: methods})
	return false
}

// decodeJSON reads one JSON object of at most MaxBodyBytes into dst,
// refusing unknown fields, wrong types and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return describe(ErrInvalidRequest, "the body must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Exactly one value: anything after it is an error.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return nil
		}
		if err == nil {
			return describe(ErrInvalidRequest, "the body holds more than one JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return ErrPayloadTooLarge
	case errors.Is(err, io.EOF):
		return errEmptyBody
	}
	// Never echo the decoder's message: it quotes the client's input.
	return describe(ErrInvalidRequest, "the body is not a JSON object of the expected fields and types")
}

// errEmptyBody is decodeJSON's error for a request without a body.
var errEmptyBody = describe(ErrInvalidRequest, "the body is empty")

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// v is ours and always encodes; a write error means the client left.
	_ = json.NewEncoder(w).Encode(v)
}

// writeTokens is the one place a response carrying tokens is written
// (register, login, refresh), so that delivering them another way as well
// (cookies) is a change here only. The body is never cached.
func (a *Authenticator) writeTokens(w http.ResponseWriter, r *http.Request, status int, resp *TokenResponse) {
	// A cross-origin request (a refresh with the token in its body) gets
	// its tokens in the body only: setting cookies from it would plant a
	// session of the caller's choosing in the browser (login CSRF).
	if a.cookies != nil && a.cookies.cop.Check(r) == nil {
		a.setTokenCookies(w, resp)
	}
	writeJSON(w, status, resp)
}

// hashID is how a refresh token's jti is stored in a session.
func hashID(jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return hex.EncodeToString(sum[:])
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
// refresh token's id is refreshJTI (whose hash s holds). Neither token
// outlives the session's absolute expiry.
func (a *Authenticator) issue(u *store.User, s *store.Session, refreshJTI string, now time.Time) (*TokenResponse, error) {
	iat := now.Truncate(time.Second)
	accessExp := earliest(iat.Add(a.cfg.accessTTL), s.ExpiresAt)
	refreshExp := earliest(iat.Add(a.cfg.refreshTTL), s.ExpiresAt)
	access, err := a.signer.Sign(token.Access, &token.Claims{
		Issuer: a.cfg.issuer, Subject: u.ID, Audience: a.cfg.audience,
		ExpiresAt: accessExp, IssuedAt: iat, ID: store.NewID(),
		SessionID: s.ID, Roles: u.Roles,
		Extra: accessExtra{Username: u.Username},
	})
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
		accessExp: accessExp, refreshExp: refreshExp,
	}, nil
}

// startSession creates a session (a login) for u and issues its tokens.
func (a *Authenticator) startSession(ctx context.Context, r *http.Request, u *store.User) (*TokenResponse, error) {
	now := a.cfg.now()
	jti := store.NewID()
	exp := now.Add(a.cfg.sessionMaxAge)
	ua := r.UserAgent()
	if len(ua) > maxUserAgentLen {
		ua = ua[:maxUserAgentLen]
	}
	ip := ""
	if addr := a.ClientIP(r); addr.IsValid() {
		ip = addr.String()
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
	return a.issue(fresh, s, jti, now)
}

// abandonSession ends a session no token was handed out for yet: deleted,
// and its id revoked in case a store lost the delete.
func (a *Authenticator) abandonSession(ctx context.Context, s *store.Session) {
	if err := a.st.Revoke(ctx, s.ID, s.ExpiresAt.Add(a.cfg.leeway)); err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "auth.session_abandon_failed", slog.String("session_id", s.ID))
	}
	_ = a.st.DeleteSession(ctx, s.ID)
}

// loginCSRF refuses, in cookie mode, a cross-origin login or registration:
// it would set the session cookies of an account of the attacker's choosing
// in the victim's browser (login CSRF). Bearer-only mode sets no cookies,
// so it has nothing to refuse.
func (a *Authenticator) loginCSRF(r *http.Request) error {
	if a.cookies == nil {
		return nil
	}
	return a.crossOrigin(r)
}

// credentials is the body of a registration.
type credentials struct {
	Username string `json:"username"`
	Password secret `json:"password"`
	Email    string `json:"email"`
}

// loginRequest is the body of a login.
type loginRequest struct {
	Username string `json:"username"`
	Password secret `json:"password"`
}

// Register returns the handler of POST /auth/register: body
// {"username","password"} and an optional "email"; 201 with a
// [TokenResponse] for a new user with role "user"; 400 invalid_request for
// a bad body, username or password (8 to 1024 bytes, at most 72 with
// bcrypt); 409 user_exists.
func (a *Authenticator) Register() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodPost) {
			return
		}
		resp, err := a.register(r.Context(), w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeTokens(w, r, http.StatusCreated, resp)
	})
}

func (a *Authenticator) register(ctx context.Context, w http.ResponseWriter, r *http.Request) (*TokenResponse, error) {
	if err := a.loginCSRF(r); err != nil {
		return nil, err
	}
	var in credentials
	if err := decodeJSON(w, r, &in); err != nil {
		return nil, err
	}
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
	if err := checkNewPassword(string(in.Password)); err != nil {
		return nil, err
	}
	// Hash before looking at the username, so that a taken name costs
	// the same time as a free one.
	hash, err := a.hashPassword(ctx, string(in.Password))
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
	resp, err := a.startSession(ctx, r, u)
	if err != nil {
		return nil, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.register",
		slog.String("user_id", u.ID), slog.String("ip", a.ClientIP(r).String()))
	return resp, nil
}

// Login returns the handler of POST /auth/login: body
// {"username","password"}; 200 with a [TokenResponse]; 401
// invalid_credentials for an unknown user or a wrong password alike (same
// body, same work); 429 too_many_attempts with Retry-After once the account
// or the client IP has failed too often ([WithLoginThrottle]); 503 when
// the store cannot answer or hashing is saturated.
func (a *Authenticator) Login() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodPost) {
			return
		}
		resp, err := a.login(r.Context(), w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeTokens(w, r, http.StatusOK, resp)
	})
}

func (a *Authenticator) login(ctx context.Context, w http.ResponseWriter, r *http.Request) (*TokenResponse, error) {
	if err := a.loginCSRF(r); err != nil {
		return nil, err
	}
	var in loginRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return nil, err
	}
	if in.Username == "" || in.Password == "" {
		return nil, describe(ErrInvalidRequest, "username and password are required")
	}
	now := a.cfg.now()
	ip := a.ClientIP(r)
	ipAttr := slog.String("ip", ip.String())
	ipk := ipKey(ip)
	release, err := a.throttleIP(ctx, ipk, now)
	if err != nil {
		a.auditThrottled(ctx, err, ipAttr)
		return nil, err
	}
	defer release()
	name, nameErr := store.CanonicalUsername(in.Username)
	if nameErr != nil {
		name = in.Username // unusable names are counted (and fail) like any other
	}
	acct := accountKey(name)
	if err := a.chargeAccount(ctx, acct, now); err != nil {
		a.auditThrottled(ctx, err, ipAttr)
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
	pw := string(in.Password)
	ok, rehash := false, false
	if len(pw) >= MinPasswordLen && len(pw) <= MaxPasswordLen {
		encoded := a.dummyHash
		if u != nil {
			encoded = u.PasswordHash
		}
		var err error
		ok, rehash, err = a.verifyPassword(ctx, pw, encoded)
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
		ok = ok && u != nil
	}
	if !ok {
		if _, _, err := a.st.Incr(ctx, ipk, a.cfg.loginWindow); err != nil {
			return nil, storeErr("login throttle", err)
		}
		attrs := []slog.Attr{ipAttr}
		if u != nil {
			attrs = append(attrs, slog.String("user_id", u.ID))
		}
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_failed", attrs...)
		return nil, ErrInvalidCredentials
	}
	if err := a.st.Reset(ctx, acct); err != nil {
		return nil, storeErr("login throttle", err)
	}
	if rehash {
		a.rehash(ctx, u, pw)
	}
	resp, err := a.startSession(ctx, r, u)
	if err != nil {
		return nil, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.login",
		slog.String("user_id", u.ID), slog.String("username", u.Username), ipAttr)
	return resp, nil
}

// rehash replaces u's password hash with one of the configured kind and
// parameters. A failure is logged and does not fail the login.
func (a *Authenticator) rehash(ctx context.Context, u *store.User, pw string) {
	h, err := a.hashPassword(ctx, pw)
	if err == nil {
		// Not over a password changed since it was verified. (The store
		// has no compare-and-swap on users, so this narrows the window
		// rather than closing it; startSession's second read catches the
		// rest for this login.)
		var cur *store.User
		if cur, err = a.st.User(ctx, u.ID); err == nil && cur.PasswordHash != u.PasswordHash {
			return
		}
		if err == nil {
			_, err = a.st.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &h})
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
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth.login_throttled", ip,
			slog.Duration("retry_after", te.RetryAfter))
	}
}

// Refresh returns the handler of POST /auth/refresh: body
// {"refresh_token"}; 200 with a new [TokenResponse] (the presented refresh
// token is spent); 401 invalid_token otherwise. In cookie mode
// ([WithCookies]) an empty or {} body refreshes with the refresh cookie,
// and such a request from another origin is refused (403) before anything
// is spent.
//
// Rotation follows RFC 9700 §4.14.2: the session stores only the SHA-256
// of the current refresh token's jti and rotates it by compare-and-swap, so
// of concurrent refreshes with one token exactly one wins. Presenting a
// spent token (the loser of such a race included) is taken as theft: the
// session is deleted and revoked until its absolute expiry, so every access
// token issued under it stops working, and the answer is 401.
//
// With [WithRefreshReuseGrace] d > 0, the immediately previous token of a
// session presented within d of its rotation is answered as if it were
// current: the session is rotated again, from its current token, and a new
// pair is returned (the pair the earlier request received becomes the
// previous one, in turn within grace). Any older token, or the previous
// one after d, ends the session. Concurrent presentations may then each
// succeed.
//
// The user is read on each refresh, so new tokens carry its current roles;
// no token outlives the session's absolute expiry ([WithSessionMaxAge]).
func (a *Authenticator) Refresh() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodPost) {
			return
		}
		var in struct {
			RefreshToken secret `json:"refresh_token"`
		}
		err := decodeJSON(w, r, &in)
		if a.cookies != nil && (err == errEmptyBody || err == nil && in.RefreshToken == "") {
			// Cookie mode: an empty or {} body refreshes by the cookie.
			var tok string
			if tok, err = cookieToken(r, a.cookies.refresh); err == nil {
				err = a.crossOrigin(r)
			} else if errors.Is(err, ErrNoToken) {
				err = describe(ErrInvalidRequest, "refresh_token is required, in the body or the refresh cookie")
			}
			in.RefreshToken = secret(tok)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if in.RefreshToken == "" {
			a.fail(w, r, describe(ErrInvalidRequest, "refresh_token is required"))
			return
		}
		resp, err := a.refresh(r.Context(), string(in.RefreshToken))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeTokens(w, r, http.StatusOK, resp)
	})
}

func (a *Authenticator) refresh(ctx context.Context, tok string) (*TokenResponse, error) {
	c, err := a.verifier.Verify(ctx, token.Refresh, tok)
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
	now := a.cfg.now()
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
	resp, err := a.issue(u, s, next, now)
	if err != nil {
		return nil, err
	}
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
	a.log.LogAttrs(ctx, slog.LevelWarn, "auth.refresh_reuse_detected",
		slog.String("user_id", c.Subject), slog.String("session_id", c.SessionID))
	if err := errors.Join(errRevoke, errDelete); err != nil {
		return storeErr("ending the session", err)
	}
	return describe(ErrInvalidToken, "the refresh token was already used; the session has ended")
}

// Logout returns the handler of POST /auth/logout: with a valid access
// token, 204; that token and its whole session end now (its refresh token
// included). 401 without one.
func (a *Authenticator) Logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodPost) {
			return
		}
		p, r, err := a.principal(r)
		if err == nil {
			err = a.logout(r.Context(), p)
		}
		if err != nil {
			a.clearDeadCookies(w, r, err)
			a.fail(w, r, err)
			return
		}
		a.clearTokenCookies(w)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *Authenticator) logout(ctx context.Context, p *Principal) error {
	now := a.cfg.now()
	if err := a.st.Revoke(ctx, p.TokenID, p.Claims.ExpiresAt.Add(a.cfg.leeway)); err != nil {
		return storeErr("revoking the token", err)
	}
	if err := a.endSession(ctx, p.SessionID, now); err != nil {
		return err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.logout",
		slog.String("user_id", p.UserID), slog.String("session_id", p.SessionID))
	return nil
}

// LogoutAll returns the handler of POST /auth/logout-all: with a valid
// access token, 204; every session and token of the user ends now (see
// [Authenticator.RevokeUser]). 401 without one.
func (a *Authenticator) LogoutAll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodPost) {
			return
		}
		p, r, err := a.principal(r)
		if err == nil {
			err = a.RevokeUser(r.Context(), p.UserID)
		}
		if err != nil {
			a.clearDeadCookies(w, r, err)
			a.fail(w, r, err)
			return
		}
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "auth.logout_all", slog.String("user_id", p.UserID))
		a.clearTokenCookies(w)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// Me returns the handler of GET /me: with a valid access token, 200
// {"id","username","roles"} from the token (the username from the store
// when the Verifier cannot read it from the token). 401 without one.
func (a *Authenticator) Me() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodGet) {
			return
		}
		p, r, err := a.principal(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		name := p.Username
		if name == "" {
			u, err := a.st.User(r.Context(), p.UserID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				a.fail(w, r, describe(ErrInvalidToken, "the user no longer exists"))
				return
			case err != nil:
				a.fail(w, r, storeErr("loading the user", err))
				return
			}
			name = u.Username
		}
		writeJSON(w, http.StatusOK, userInfo(p.UserID, name, p.Roles))
	})
}

// Health returns the handler of GET /healthz: 200 {"status":"ok"}, or 503
// {"status":"unavailable"} when the store cannot answer within 2 seconds:
// its Ping fails ([store.Pinger]), or it refuses writes
// ([store.WriteChecker]; a write probe runs at most every 5 seconds, and
// after a failure at every check until one succeeds).
func (a *Authenticator) Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, http.MethodGet) {
			return
		}
		if !a.healthy(r.Context()) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Route is one endpoint of the HTTP API: a path pattern in ServeMux (and
// chi) syntax, with {id} wildcards, and its handler, which checks its own
// method.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes returns the endpoints of the HTTP API, the one list that [Mount]
// and the chi and gin adapters register:
//
//	POST   /auth/register          POST /auth/login    POST /auth/refresh
//	POST   /auth/logout            POST /auth/logout-all
//	GET    /auth/sessions          DELETE /auth/sessions/{id}
//	POST   /auth/password/change   POST /auth/password/forgot
//	POST   /auth/password/reset
//	GET    /admin/users            PUT  /admin/users/{id}/roles
//	GET    /me                     GET  /healthz
//
// The patterns name paths only: each handler checks its method itself, so
// a wrong method gets the API's JSON 405 rather than a router's plain-text
// one.
func (a *Authenticator) Routes() []Route {
	return []Route{
		{"/auth/register", a.Register()},
		{"/auth/login", a.Login()},
		{"/auth/refresh", a.Refresh()},
		{"/auth/logout", a.Logout()},
		{"/auth/logout-all", a.LogoutAll()},
		{"/auth/sessions", a.Sessions()},
		{"/auth/sessions/{id}", a.DeleteSession()},
		{"/auth/password/change", a.ChangePassword()},
		{"/auth/password/forgot", a.ForgotPassword()},
		{"/auth/password/reset", a.ResetPassword()},
		{"/admin/users", a.Users()},
		{"/admin/users/{id}/roles", a.UserRoles()},
		{"/me", a.Me()},
		{"/healthz", a.Health()},
	}
}

// Mount registers [Authenticator.Routes] on mux. An application may still
// register method patterns of its own beside them.
func (a *Authenticator) Mount(mux *http.ServeMux) {
	for _, rt := range a.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
}
