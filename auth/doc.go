// Package auth is gatekeep's authentication: a [Gate] that authenticates
// requests by their access tokens and guards routes by role, and an
// [Authenticator] built on one that also runs the whole account and
// session lifecycle (register, login, refresh-token rotation, logout,
// password change and reset) from Go and over HTTP.
//
// A [Gate] needs only a token Verifier and a [store.Revoker] ([NewGate]):
// a service that accepts another's tokens holds one. It reads the access
// token of the `Authorization: Bearer` header (or, in cookie mode, the
// access cookie) and checks, on every request: signature, type (at+jwt),
// expiry, issuer and audience (the Verifier), then the store's revocation
// check, failing closed (503) when the store cannot answer. The principal
// ([Principal]) goes into the request context ([NewContext],
// [FromContext]), its application claims readable with [ClaimsAs]. Errors
// are rendered in one place ([ResponseFor], [WithErrorHandler]) as the
// JSON error body and WWW-Authenticate challenge of RFC 6750; no internal
// error text, token or password ever reaches a client or a log line.
//
// An [Authenticator] adds a Signer, a [store.Store] and a password
// [Hasher]. Each step of the lifecycle is a method taking a context, its
// inputs and a [Client] ([Authenticator.Register], [Authenticator.Login],
// [Authenticator.Refresh], [Authenticator.Logout],
// [Authenticator.LogoutAll], [Authenticator.ChangePassword],
// [Authenticator.ForgotPassword], [Authenticator.ResetPassword]), with
// errors matching this package's sentinels; [Authenticator.IssueTokens]
// starts a session for a user the application authenticated itself. The
// handlers of gatekeep's HTTP API are thin translations of those methods
// ([Authenticator.Routes], [Authenticator.Mount]). Passwords are hashed
// with argon2id by default ([Argon2id], [Bcrypt]); logins are throttled
// per account and per client IP; refresh tokens are single-use and a
// replayed one ends its whole session (RFC 9700 §4.14.2). [WithClaims]
// puts the application's own claims into every access token.
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
// In a handler behind Require:
//
//	p, _ := auth.FromContext(r.Context())
//	fmt.Fprintf(w, "hello %s", p.Username)
//
// Account lifecycle over HTTP: users list and end their sessions
// ([Authenticator.SessionsHandler], [Authenticator.DeleteSessionHandler]),
// change their password or reset it with a one-time token sent by the
// application's [Notifier] ([WithPasswordReset]); administrators list
// users and set their roles ([Authenticator.SetRoles],
// [Authenticator.UsersHandler], [Authenticator.UserRolesHandler]).
// [WithCookies] also delivers tokens as HttpOnly cookies for browsers,
// refusing cross-origin unsafe requests authenticated by them
// (http.CrossOriginProtection).
//
// [Authenticator.MountWith] mounts a subset of the routes, or under a
// prefix ([MountOptions]), beside an application's own: a path the
// application already serves is left out and reported, never replaced.
// [WithLegacyTokens] also accepts a Node express application's access
// tokens during a migration.
//
// Two-factor authentication (TOTP, RFC 6238, with recovery codes): with
// [WithKeyEncryptionKey], users enrol ([Authenticator.EnrolTOTP],
// [Authenticator.ConfirmTOTP]); then [Authenticator.Login] answers a
// [*MFARequiredError] carrying an mfa+jwt token ([token.MFA]) instead of a
// session, and [Authenticator.VerifyMFA] completes the login with a code.
// The stores keep enrolments through the optional [store.TOTPStore].
//
// Role guards decide with an [rbac.Requirement]: pass [WithPolicy] for role
// inheritance, or build a requirement yourself and use
// [Gate.Guard].
//
// [WithObserver] reports, for metrics, each authentication's outcome,
// lifecycle events and every store call with its latency ([Observer]).
// With or without one, a store that stops answering logs one warning when
// the outage starts (auth.store_unavailable) and one when it ends
// (auth.store_recovered).
package auth
