// Package auth is the Authenticator: login, logout and refresh-token
// rotation over a token Signer/Verifier and a [store.Store], with net/http
// middleware, role guards and password hashing.
//
// An [Authenticator] authenticates a request from the access token of its
// `Authorization: Bearer` header ([Authenticator.Authenticate]): signature,
// type (at+jwt), expiry, issuer and audience, then the store's revocation
// check on every request, failing closed (503) when the store cannot
// answer. The principal ([Principal]) goes into the request context
// ([NewContext], [FromContext]). Errors are rendered in one place
// ([ResponseFor], [WithErrorHandler]) as the JSON error body and
// WWW-Authenticate challenge of RFC 6750; no internal error text, token or
// password ever reaches a client or a log line.
//
// The handlers serve gatekeep's HTTP API (register, login, refresh, logout,
// logout-all, sessions, password change, forgot and reset, admin users and
// roles, me, healthz; see [Authenticator.Mount]). Passwords are hashed with argon2id by default
// ([Argon2id], [Bcrypt]); logins are throttled per account and per client
// IP; refresh tokens are single-use and a replayed one ends its whole
// session (RFC 9700 §4.14.2).
//
// # Usage
//
//	key, _ := token.NewHMACKey(token.HS256, "", secret) // at least 32 bytes
//	ks, _ := token.NewKeySet(key)
//	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
//	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
//	st := memory.New()
//	defer st.Close()
//
//	a, err := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	a.Mount(mux) // POST /auth/register, /auth/login, /auth/refresh, /auth/logout, ...
//	mux.Handle("GET /notes", a.Require(notes))                    // any valid access token
//	mux.Handle("DELETE /notes/{id}", a.Authorize("admin")(remove)) // role admin (401/403)
//
// In a handler behind [Authenticator.Require]:
//
//	p, _ := auth.FromContext(r.Context())
//	fmt.Fprintf(w, "hello %s", p.Username)
//
// Account lifecycle: users list and end their sessions
// ([Authenticator.Sessions], [Authenticator.DeleteSession]), change their
// password ([Authenticator.ChangePassword]) or reset it with a one-time
// token sent by the application's [Notifier] ([WithPasswordReset],
// [Authenticator.ForgotPassword], [Authenticator.ResetPassword]);
// administrators list users and set their roles ([Authenticator.SetRoles],
// [Authenticator.Users], [Authenticator.UserRoles]). [WithCookies] also
// delivers tokens as HttpOnly cookies for browsers, refusing cross-origin
// unsafe requests authenticated by them (http.CrossOriginProtection).
//
// Role guards decide with an [rbac.Requirement]: pass [WithPolicy] for role
// inheritance, or build a requirement yourself and use
// [Authenticator.Guard].
package auth
