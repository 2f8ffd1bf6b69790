package readme

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/oidc"
)

var _ = withProviders

// The README's "Sign in with a provider" block.
func withProviders(st *config.Stack, githubID, githubSecret, corpID, corpSecret string) (http.Handler, error) {
	sso, err := oidc.New(st.Auth, st.Store, "/signed-in", []oidc.Provider{
		oidc.GitHub(githubID, githubSecret, "https://app.example.com/auth/oidc/github/callback"),
		{
			Name: "corp", Issuer: "https://sso.example.com/realms/corp",
			ClientID: corpID, ClientSecret: corpSecret,
			RedirectURL: "https://app.example.com/auth/oidc/corp/callback",
		},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	sso.Mount(mux) // chi: for _, rt := range sso.Routes() { r.Handle(rt.Pattern, rt.Handler) }
	return mux, nil
}

// The block's GitHub start redirects to GitHub with PKCE and a state
// cookie (GitHub needs no discovery, so nothing leaves the machine).
func TestREADMEProviders(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = "readme-secret-0123456789abcdef0123456789"
	st, err := config.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, err := withProviders(st, "Iv1.test", "gh-secret", "gatekeep", "corp-secret")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/oidc/github/start", nil))
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil || loc.Host != "github.com" {
		t.Fatalf("start: %d to %q, want 302 to github.com", rec.Code, rec.Header().Get("Location"))
	}
	q := loc.Query()
	if q.Get("client_id") != "Iv1.test" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Errorf("authorization request %v lacks the client, PKCE S256 or state", q)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].Name != oidc.StateCookie || !c[0].HttpOnly || !c[0].Secure {
		t.Errorf("state cookie %v, want one HttpOnly Secure %s", c, oidc.StateCookie)
	}
}
