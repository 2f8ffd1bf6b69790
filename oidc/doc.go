// Package oidc signs users in with OpenID Connect providers and plain
// OAuth 2.0 providers (GitHub built in), linked to gatekeep accounts, and
// ends every sign-in in an ordinary gatekeep session
// ([auth.Authenticator.IssueTokens]): refresh rotation, logout, the session
// list and roles then work as after a password login.
//
// It is built on golang.org/x/oauth2 (the authorization code flow, PKCE)
// and github.com/coreos/go-oidc/v3 (discovery, the JWKS, ID token
// verification), imported here as gooidc.
//
// # Usage
//
// Create a [Service] with [New] from an Authenticator, its store (which
// must implement [store.IdentityStore]; every store of this module does),
// the page to land on after a sign-in, and the providers; mount
// [Service.Routes] beside the Authenticator's:
//
//	GET  /auth/oidc/{provider}/start     302 to the provider
//	GET  /auth/oidc/{provider}/callback  303 to the success URL
//	POST /auth/oidc/exchange             {"code"} -> the token pair
//	POST /auth/oidc/{provider}/link      signed in: link another account
//	GET  /auth/identities                the caller's links
//	DELETE /auth/identities/{id}         remove one, never the last way in
//
// On net/http, [Service.Mount]; on chi,
//
//	for _, rt := range svc.Routes() { r.Handle(rt.Pattern, rt.Handler) }
//
// and on gin, with {provider} and {id} written :provider and :id,
//
//	r.Any(strings.NewReplacer("{provider}", ":provider", "{id}", ":id").Replace(rt.Pattern), gatekeepgin.Handler(rt.Handler))
//
// The configuration package builds one from OIDC_PROVIDERS (config.Build
// sets Stack.OIDC).
//
// # Security
//
// The start handler sends the browser to the provider with an
// authorization code request carrying a fresh state (against CSRF and
// login CSRF), nonce (against a replayed ID token) and PKCE S256 challenge
// (against an intercepted code), the three kept in a short-lived HttpOnly
// cookie of this browser. The callback checks the state against the cookie
// and spends it through the store's UseOnce, exchanges the code with the
// verifier, and verifies the ID token's signature (the provider's JWKS),
// issuer, audience, expiry and nonce. Accounts are linked by the
// provider's (issuer, subject); by an email only with
// [WithLinkByVerifiedEmail] and only when the provider marks it verified;
// to a signed-in user only through a flow that user started, named in the
// state cookie by a signed ticket ([auth.Authenticator.IssueLinkTicket]). Tokens never travel in a
// URL: in cookie mode the callback sets the session cookies; otherwise it
// redirects with a one-time code in the fragment, valid 60 seconds and
// spent through UseOnce ([auth.Authenticator.RedeemGrant]), which the page
// posts to /auth/oidc/exchange. A user with a second factor gets its
// challenge there, not a session. Every failure is a JSON error of the
// HTTP API (400, 401, 404, 409 or 503), or with [WithErrorURL] a redirect
// carrying only its code, and creates nothing.
package oidc
