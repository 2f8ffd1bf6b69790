package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/store"
)

// ClaimsPath is the application route every example serves behind
// Require: 200 with the caller's application claims (auth.ClaimsAs), {}
// when the token has none.
const ClaimsPath = "/app/claims"

// plans is the application data the claims rows' ClaimsFunc reads: a
// user's plan, changed by the row between two refreshes.
var plans sync.Map // username -> plan

func claimsOptions() []config.BuildOption {
	return []config.BuildOption{config.WithAuthOptions(auth.WithClaims(func(_ context.Context, u store.User) (map[string]any, error) {
		plan := "free"
		if p, ok := plans.Load(u.Username); ok {
			plan = p.(string)
		}
		_, domain, _ := strings.Cut(u.Email, "@")
		return map[string]any{"tenant": domain, "plan": plan}, nil
	}))}
}

// Rows of application claims (auth.WithClaims).
func init() {
	rows = append(rows,
		row{name: "claims", opts: claimsOptions, run: func(t *testing.T, c *client) {
			plans.Delete("carol")
			tk := wantTokens(t, c.do(req{method: "POST", path: "/auth/register",
				body: map[string]string{"username": "carol", "password": pw, "email": "carol@acme.example"}}), http.StatusCreated)
			cl := jwtClaims(t, tk.AccessToken)
			if cl["tenant"] != "acme.example" || cl["plan"] != "free" {
				t.Errorf("access token claims %v, want tenant acme.example and plan free", cl)
			}
			if _, ok := jwtClaims(t, tk.RefreshToken)["tenant"]; ok {
				t.Error("the refresh token carries application claims")
			}
			wantAppClaims(t, c, tk.AccessToken, "acme.example", "free")
			// A change to the application's data shows at the next refresh.
			plans.Store("carol", "pro")
			next := wantTokens(t, c.refresh(tk.RefreshToken), http.StatusOK)
			wantAppClaims(t, c, next.AccessToken, "acme.example", "pro")
			// A token without application claims reads as none.
			plans.Delete("carol")
			wantError(t, c.do(req{method: "GET", path: ClaimsPath}), http.StatusUnauthorized, "invalid_token", challengeBare)
		}},

		// A ClaimsFunc that returns a name gatekeep owns fails the issue
		// with 503: never a token without its claims, never one whose
		// roles the application overrode.
		row{name: "claims_refused", opts: func() []config.BuildOption {
			return []config.BuildOption{config.WithAuthOptions(auth.WithClaims(func(context.Context, store.User) (map[string]any, error) {
				return map[string]any{"roles": []string{"admin"}}, nil
			}))}
		}, run: func(t *testing.T, c *client) {
			r := c.do(req{method: "POST", path: "/auth/register", body: creds("dave", pw)})
			wantError(t, r, http.StatusServiceUnavailable, "unavailable")
			wantError(t, c.do(req{method: "POST", path: "/auth/login", body: creds("dave", pw)}), http.StatusServiceUnavailable, "unavailable")
		}},
	)
}

func wantAppClaims(t *testing.T, c *client, access, tenant, plan string) {
	t.Helper()
	r := c.do(req{method: "GET", path: ClaimsPath, header: bearer(access)})
	wantStatus(t, r, http.StatusOK)
	if m := r.JSON(t); m["tenant"] != tenant || m["plan"] != plan {
		t.Errorf("%s answered %v, want tenant %s and plan %s", ClaimsPath, m, tenant, plan)
	}
}
