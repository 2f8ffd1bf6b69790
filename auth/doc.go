// Package auth is the Authenticator: it wires a token Signer and Verifier,
// the user, session and revocation stores and a password Hasher together, and
// hands out net/http middleware, role guards and the HTTP handlers of the
// gatekeep API (register, login, refresh, logout and the account lifecycle).
//
// Not implemented yet: see the Authenticator issue.
package auth
