package e2e

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// oidcEnv configures one OpenID Connect provider whose issuer does not
// answer (a closed loopback port): the rows below need no provider, and a
// sign-in that does reach one is tested in package oidc against a real
// provider.
var oidcEnv = map[string]string{
	"OIDC_PROVIDERS":          "corp",
	"OIDC_CORP_ISSUER":        "http://127.0.0.1:1",
	"OIDC_CORP_CLIENT_ID":     "gatekeep",
	"OIDC_CORP_CLIENT_SECRET": "e2e-client-secret",
	"OIDC_CORP_REDIRECT_URL":  "http://127.0.0.1:1/auth/oidc/corp/callback",
	"OIDC_SUCCESS_URL":        "/welcome",
}

func init() {
	rows = append(rows,
		row{name: "oidc_refusals", env: oidcEnv, run: func(t *testing.T, c *client) {
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/nope/start"}), http.StatusNotFound, "not_found")
			// The provider does not answer its discovery: 503, no redirect.
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/corp/start"}), http.StatusServiceUnavailable, "unavailable")
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/corp/start"}), http.StatusMethodNotAllowed, "invalid_request")

			// An attack: a callback without the browser's state cookie (login CSRF).
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/corp/callback?code=c&state=s"}), http.StatusBadRequest, "invalid_request")
			// An attack: a state cookie whose state is not the callback's.
			forged := base64.RawURLEncoding.EncodeToString([]byte(`{"p":"corp","s":"other","n":"n","v":"v","e":99999999999}`))
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/corp/callback?code=c&state=s",
				header: cookieHeader("gatekeep_oidc", forged)}), http.StatusBadRequest, "invalid_request")
			// A callback for a provider that is not configured.
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/nope/callback?code=c&state=s"}), http.StatusNotFound, "not_found")

			// Exchange: a code that is no code, an empty one, a bad body, a wrong method.
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/exchange", body: map[string]string{"code": "not-a-code"}}),
				http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/exchange", body: map[string]string{"code": ""}}),
				http.StatusBadRequest, "invalid_request")
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/exchange", body: `{"code":"x","extra":1}`}),
				http.StatusBadRequest, "invalid_request")
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/exchange"}), http.StatusMethodNotAllowed, "invalid_request")
		}},
		row{name: "oidc_identities", env: oidcEnv, run: func(t *testing.T, c *client) {
			alice := c.register("alice", "correct horse battery staple")
			// A password user has no links yet.
			r := c.do(req{method: "GET", path: "/auth/identities", header: bearer(alice.AccessToken)})
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Cache-Control", "no-store")
			if strings.TrimSpace(string(r.Body)) != `{"identities":[]}` {
				t.Errorf("GET /auth/identities = %s, want an empty list", r.Body)
			}
			// Another user's link, or none, answers 404 alike.
			wantError(t, c.do(req{method: "DELETE", path: "/auth/identities/nope", header: bearer(alice.AccessToken)}),
				http.StatusNotFound, "not_found")
			// Linking needs an access token; a refresh token is none.
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/corp/link"}), http.StatusUnauthorized, "invalid_token", challengeBare)
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/corp/link", header: bearer(alice.RefreshToken)}),
				http.StatusUnauthorized, "invalid_token", challengeInvalidToken)
			wantError(t, c.do(req{method: "GET", path: "/auth/identities"}), http.StatusUnauthorized, "invalid_token", challengeBare)
			wantError(t, c.do(req{method: "DELETE", path: "/auth/identities/x"}), http.StatusUnauthorized, "invalid_token", challengeBare)
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/nope/link", header: bearer(alice.AccessToken)}),
				http.StatusNotFound, "not_found")
			// The provider does not answer its discovery: 503, no flow.
			wantError(t, c.do(req{method: "POST", path: "/auth/oidc/corp/link", header: bearer(alice.AccessToken)}),
				http.StatusServiceUnavailable, "unavailable")
			wantError(t, c.do(req{method: "GET", path: "/auth/oidc/corp/link", header: bearer(alice.AccessToken)}),
				http.StatusMethodNotAllowed, "invalid_request")
		}},
	)
}
