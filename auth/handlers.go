package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/gatekeep/gatekeep/internal/redact"
	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
)

// MaxBodyBytes is the largest request body the handlers read; larger
// bodies get 413 payload_too_large.
const MaxBodyBytes = 64 << 10

// secret is a string that never prints (internal/redact): slog, fmt and
// encoding/json all redact it, and it still decodes from JSON as a plain
// string.
type secret = redact.Secret

// endpoint is one handler of the HTTP API, described for handle, the one
// shell every handler goes through: method check, then (for authed
// endpoints) the principal, then (with a requirement) its role, then
// serve; any error is rendered by the error handler.
type endpoint struct {
	method string
	// authed endpoints need a valid access token; its principal is
	// passed to serve.
	authed bool
	// guarded endpoints (admin) also need the principal to meet require;
	// a nil require denies.
	guarded bool
	require *rbac.Requirement
	// endsSession endpoints (logout) clear dead token cookies when the
	// principal is refused, so the browser drops its refresh cookie too.
	endsSession bool
	serve       func(w http.ResponseWriter, r *http.Request, p *Principal) error
}

func (a *Authenticator) handle(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowMethod(w, r, e.method) {
			return
		}
		var (
			p   *Principal
			err error
		)
		if e.authed {
			if p, r, err = a.principal(r); err == nil && e.guarded {
				err = Check(e.require, p)
			}
		}
		if err == nil {
			err = e.serve(w, r, p)
		}
		if err != nil {
			if e.endsSession {
				a.clearDeadCookies(w, r, err)
			}
			a.Fail(w, r, err)
		}
	})
}

// allowMethod answers 405 unless r's method is method (HEAD is allowed
// wherever GET is).
func (a *Authenticator) allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	m := r.Method
	if m == http.MethodHead && method == http.MethodGet {
		m = http.MethodGet
	}
	if m == method {
		return true
	}
	a.Fail(w, r, &methodError{allow: method})
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

// noContent answers 204, never cached.
func noContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
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

// RegisterHandler returns the handler of POST /auth/register: body
// {"username","password"} and an optional "email"; 201 with a
// [TokenResponse] for a new user with role "user" ([Authenticator.Register]);
// 400 invalid_request for a bad body, username or password (8 to 1024
// bytes, at most 72 with bcrypt); 409 user_exists.
func (a *Authenticator) RegisterHandler() http.Handler {
	return a.tokensHandler(http.StatusCreated, func(w http.ResponseWriter, r *http.Request) (*TokenResponse, error) {
		var in struct {
			Username string `json:"username"`
			Password secret `json:"password"`
			Email    string `json:"email"`
		}
		err := a.loginCSRF(r)
		if err == nil {
			err = decodeJSON(w, r, &in)
		}
		if err != nil {
			return nil, err
		}
		return a.Register(r.Context(), Registration{Username: in.Username, Password: string(in.Password), Email: in.Email}, a.ClientOf(r))
	})
}

// LoginHandler returns the handler of POST /auth/login: body
// {"username","password"}; 200 with a [TokenResponse] ([Authenticator.Login]);
// 401 invalid_credentials for an unknown user or a wrong password alike
// (same body, same work); 429 too_many_attempts with Retry-After once the
// account or the client IP has failed too often ([WithLoginThrottle]); 503
// when the store cannot answer or hashing is saturated.
func (a *Authenticator) LoginHandler() http.Handler {
	return a.tokensHandler(http.StatusOK, func(w http.ResponseWriter, r *http.Request) (*TokenResponse, error) {
		var in struct {
			Username string `json:"username"`
			Password secret `json:"password"`
		}
		err := a.loginCSRF(r)
		if err == nil {
			err = decodeJSON(w, r, &in)
		}
		if err != nil {
			return nil, err
		}
		return a.Login(r.Context(), in.Username, string(in.Password), a.ClientOf(r))
	})
}

// RefreshHandler returns the handler of POST /auth/refresh: body
// {"refresh_token"}; 200 with a new [TokenResponse] (the presented refresh
// token is spent, see [Authenticator.Refresh]); 401 invalid_token
// otherwise. In cookie mode ([WithCookies]) an empty or {} body refreshes
// with the refresh cookie, and such a request from another origin is
// refused (403) before anything is spent.
func (a *Authenticator) RefreshHandler() http.Handler {
	return a.tokensHandler(http.StatusOK, func(w http.ResponseWriter, r *http.Request) (*TokenResponse, error) {
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
			return nil, err
		}
		return a.Refresh(r.Context(), string(in.RefreshToken), a.ClientOf(r))
	})
}

// tokensHandler serves a POST that issues a token pair (register, login,
// refresh): issue reads the request and runs the lifecycle step; the pair
// is written with status (and cookies in cookie mode).
func (a *Authenticator) tokensHandler(status int, issue func(http.ResponseWriter, *http.Request) (*TokenResponse, error)) http.Handler {
	return a.handle(endpoint{method: http.MethodPost, serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
		resp, err := issue(w, r)
		if err != nil {
			return err
		}
		a.writeTokens(w, r, status, resp)
		return nil
	}})
}

// LogoutHandler returns the handler of POST /auth/logout: with a valid
// access token, 204; that token and its whole session end now
// ([Authenticator.Logout]). 401 without one.
func (a *Authenticator) LogoutHandler() http.Handler { return a.logoutHandler(a.Logout) }

// LogoutAllHandler returns the handler of POST /auth/logout-all: with a
// valid access token, 204; every session and token of the user ends now
// ([Authenticator.LogoutAll]). 401 without one.
func (a *Authenticator) LogoutAllHandler() http.Handler { return a.logoutHandler(a.LogoutAll) }

// logoutHandler serves a logout that end performs: 204 with the token
// cookies expired.
func (a *Authenticator) logoutHandler(end func(context.Context, *Principal) error) http.Handler {
	return a.handle(endpoint{method: http.MethodPost, authed: true, endsSession: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			if err := end(r.Context(), p); err != nil {
				return err
			}
			a.clearTokenCookies(w)
			noContent(w)
			return nil
		}})
}

// MeHandler returns the handler of GET /me: with a valid access token, 200
// {"id","username","roles"} from the token (the username from the store
// when the token does not carry it). 401 without one.
func (a *Authenticator) MeHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodGet, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			name := p.Username
			if name == "" {
				u, err := a.st.User(r.Context(), p.UserID)
				switch {
				case errors.Is(err, store.ErrNotFound):
					return describe(ErrInvalidToken, "the user no longer exists")
				case err != nil:
					return storeErr("loading the user", err)
				}
				name = u.Username
			}
			writeJSON(w, http.StatusOK, userInfo(p.UserID, name, p.Roles))
			return nil
		}})
}

// HealthHandler returns the handler of GET /healthz: 200 {"status":"ok"},
// or 503 {"status":"unavailable"} when the store cannot answer within 2
// seconds: its Ping fails ([store.Pinger]), or it refuses writes
// ([store.WriteChecker]; a write probe runs at most every 5 seconds, and
// after a failure at every check until one succeeds).
func (a *Authenticator) HealthHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodGet, serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
		if !a.healthy(r.Context()) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}})
}

// SessionsHandler returns the handler of GET /auth/sessions: with a valid
// access token, 200 [SessionList] of the caller's live sessions
// ([Authenticator.ListSessions]). 401 without one.
func (a *Authenticator) SessionsHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodGet, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			out, err := a.ListSessions(r.Context(), p)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}})
}

// DeleteSessionHandler returns the handler of DELETE /auth/sessions/{id}:
// with a valid access token, 204 once the caller's session id has ended
// ([Authenticator.EndSession]: its refresh token and every access token
// issued under it stop working now). 404 not_found when no live session of
// the caller has that id: another user's session answers exactly as a
// missing one. 401 without a token.
//
// The id is read from the request's path value "id" (ServeMux, chi), or
// else from the last segment of the path (gin and other routers).
func (a *Authenticator) DeleteSessionHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodDelete, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			if err := a.EndSession(r.Context(), p.UserID, pathID(r, 0)); err != nil {
				return err
			}
			noContent(w)
			return nil
		}})
}

// ChangePasswordHandler returns the handler of POST /auth/password/change:
// with a valid access token and body {"current_password","new_password"},
// 204 once the password is new_password ([Authenticator.ChangePassword]).
// 401 invalid_credentials for a wrong current password, counted and
// throttled with the account's logins (429 too_many_attempts with
// Retry-After); 400 invalid_request for a bad body or new password; 401
// without a valid access token.
func (a *Authenticator) ChangePasswordHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, authed: true,
		serve: func(w http.ResponseWriter, r *http.Request, p *Principal) error {
			var in struct {
				CurrentPassword secret `json:"current_password"`
				NewPassword     secret `json:"new_password"`
			}
			if err := decodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := a.ChangePassword(r.Context(), p, string(in.CurrentPassword), string(in.NewPassword), a.ClientOf(r)); err != nil {
				return err
			}
			noContent(w)
			return nil
		}})
}

// ForgotPasswordHandler returns the handler of POST /auth/password/forgot:
// body {"username"}; 202 with no body, whether or not the user exists
// ([Authenticator.ForgotPassword]); 400 invalid_request for a malformed
// body; 429 too_many_attempts with Retry-After once the name has asked too
// often ([WithPasswordResetThrottle]).
func (a *Authenticator) ForgotPasswordHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
		var in struct {
			Username string `json:"username"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := a.ForgotPassword(r.Context(), in.Username, a.ClientOf(r)); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusAccepted)
		return nil
	}})
}

// ResetPasswordHandler returns the handler of POST /auth/password/reset:
// body {"token","new_password"}; 204 once the user's password is
// new_password and every session and token of the user has ended
// ([Authenticator.ResetPassword]). 401 invalid_token for a token that is
// malformed, expired, of another type, already used, or spent by a password
// change since it was issued; 400 invalid_request for a bad body or new
// password (the token then stays usable).
func (a *Authenticator) ResetPasswordHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPost, serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
		var in struct {
			Token       secret `json:"token"`
			NewPassword secret `json:"new_password"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := a.ResetPassword(r.Context(), string(in.Token), string(in.NewPassword), a.ClientOf(r)); err != nil {
			return err
		}
		noContent(w)
		return nil
	}})
}

// adminRequirement is the decision of the admin handlers: the admin role
// ([WithAdminRole]), with the policy's inheritance. One that cannot be
// built denies every request, logged once.
func (a *Authenticator) adminRequirement() *rbac.Requirement {
	req, err := a.Requirement(a.cfg.adminRole)
	if err != nil {
		a.log.LogAttrs(context.Background(), slog.LevelError, "auth.guard_invalid",
			slog.String("error", err.Error()))
		return nil
	}
	return req
}

// UsersHandler returns the handler of GET /admin/users?limit=&cursor=, for
// principals with the admin role ([WithAdminRole]; 401 without a valid
// access token, 403 without the role): 200 [UserList]
// ([Authenticator.ListUsers]), limit defaulting to 100 and at most 1000;
// 400 invalid_request for a bad limit or cursor.
func (a *Authenticator) UsersHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodGet, authed: true, guarded: true, require: a.adminRequirement(),
		serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
			q := r.URL.Query()
			limit := DefaultUsersPageSize
			if vs, ok := q["limit"]; ok {
				n, err := strconv.Atoi(vs[0])
				if len(vs) != 1 || err != nil || n < 1 || n > MaxUsersPageSize {
					return describe(ErrInvalidRequest, "limit must be between 1 and 1000")
				}
				limit = n
			}
			cursor := ""
			if vs, ok := q["cursor"]; ok {
				if len(vs) != 1 || vs[0] == "" {
					return describe(ErrInvalidRequest, "the cursor is not valid")
				}
				cursor = vs[0]
			}
			users, next, err := a.ListUsers(r.Context(), cursor, limit)
			if err != nil {
				return err
			}
			out := UserList{Users: make([]UserInfo, len(users)), NextCursor: next}
			for i, u := range users {
				out.Users[i] = userInfo(u.ID, u.Username, u.Roles)
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}})
}

// UserRolesHandler returns the handler of PUT /admin/users/{id}/roles,
// body {"roles":[...]}, for principals with the admin role (401/403
// otherwise): 200 with the user ({"id","username","roles"}) after
// [Authenticator.SetRoles]; 400 invalid_request for a bad body or bad
// roles; 404 not_found for an unknown id.
//
// The id is read from the request's path value "id" (ServeMux, chi), or
// else from the path segment before the last (gin and other routers).
func (a *Authenticator) UserRolesHandler() http.Handler {
	return a.handle(endpoint{method: http.MethodPut, authed: true, guarded: true, require: a.adminRequirement(),
		serve: func(w http.ResponseWriter, r *http.Request, _ *Principal) error {
			var in struct {
				Roles []string `json:"roles"`
			}
			if err := decodeJSON(w, r, &in); err != nil {
				return err
			}
			if in.Roles == nil {
				return describe(ErrInvalidRequest, "roles is required")
			}
			u, err := a.SetRoles(r.Context(), pathID(r, 1), in.Roles)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, userInfo(u.ID, u.Username, u.Roles))
			return nil
		}})
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
		{"/auth/register", a.RegisterHandler()},
		{"/auth/login", a.LoginHandler()},
		{"/auth/refresh", a.RefreshHandler()},
		{"/auth/logout", a.LogoutHandler()},
		{"/auth/logout-all", a.LogoutAllHandler()},
		{"/auth/sessions", a.SessionsHandler()},
		{"/auth/sessions/{id}", a.DeleteSessionHandler()},
		{"/auth/password/change", a.ChangePasswordHandler()},
		{"/auth/password/forgot", a.ForgotPasswordHandler()},
		{"/auth/password/reset", a.ResetPasswordHandler()},
		{"/admin/users", a.UsersHandler()},
		{"/admin/users/{id}/roles", a.UserRolesHandler()},
		{"/me", a.MeHandler()},
		{"/healthz", a.HealthHandler()},
	}
}

// Mount registers [Authenticator.Routes] on mux. An application may still
// register method patterns of its own beside them. A route at a path the
// application registered first (its own /healthz or /me) is left out and
// logged (auth.route_conflict, level Error), the application's route kept:
// Mount never panics. [Authenticator.MountWith] mounts a subset or under a
// prefix, and returns the conflicts.
func (a *Authenticator) Mount(mux *http.ServeMux) {
	a.LogMountError(a.MountWith(mux, MountOptions{}))
}
