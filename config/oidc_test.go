package config_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

func lookupOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func oidcEnv() map[string]string {
	return map[string]string{
		"OIDC_PROVIDERS":              "corp-sso, github",
		"OIDC_CORP_SSO_ISSUER":        "https://sso.example.com",
		"OIDC_CORP_SSO_CLIENT_ID":     "gatekeep",
		"OIDC_CORP_SSO_CLIENT_SECRET": "corp-secret-value",
		"OIDC_CORP_SSO_REDIRECT_URL":  "https://app.example.com/auth/oidc/corp-sso/callback",
		"OIDC_GITHUB_CLIENT_ID":       "Iv1.abc",
		"OIDC_GITHUB_CLIENT_SECRET":   "gh-secret-value",
		"OIDC_GITHUB_REDIRECT_URL":    "https://app.example.com/auth/oidc/github/callback",
		"OIDC_GITHUB_SCOPES":          "read:user  user:email",
		"OIDC_SUCCESS_URL":            "/signed-in",
	}
}

func TestOIDCFromEnv(t *testing.T) {
	c, err := config.FromLookup(lookupOf(oidcEnv()))
	require.NoError(t, err)
	require.Len(t, c.OIDCProviders, 2)
	corp, gh := c.OIDCProviders[0], c.OIDCProviders[1]
	assert.Equal(t, config.OIDCProvider{Name: "corp-sso", Issuer: "https://sso.example.com", ClientID: "gatekeep",
		ClientSecret: "corp-secret-value", RedirectURL: "https://app.example.com/auth/oidc/corp-sso/callback"}, corp)
	assert.Equal(t, "github", gh.Name)
	assert.Empty(t, gh.Issuer)
	assert.Equal(t, []string{"read:user", "user:email"}, gh.Scopes)
	assert.Equal(t, "/signed-in", c.OIDCSuccessURL)
	assert.NotContains(t, fmt.Sprintf("%v %+v", c, c), "corp-secret-value", "a client secret printed")

	def, err := config.FromLookup(lookupOf(nil))
	require.NoError(t, err)
	assert.Empty(t, def.OIDCProviders, "no provider by default")
	assert.False(t, def.OIDCLinkByVerifiedEmail, "linking by email is off by default")
	assert.Empty(t, def.OIDCErrorURL)

	env := oidcEnv()
	env["OIDC_LINK_BY_VERIFIED_EMAIL"] = "true"
	env["OIDC_ERROR_URL"] = "https://app.example.com/sign-in-failed?x=1"
	on, err := config.FromLookup(lookupOf(env))
	require.NoError(t, err)
	assert.True(t, on.OIDCLinkByVerifiedEmail)
	assert.Equal(t, "https://app.example.com/sign-in-failed?x=1", on.OIDCErrorURL)
}

func TestOIDCInvalid(t *testing.T) {
	for _, row := range []struct {
		name, set, value, wantVar string
	}{
		{"bad name", "OIDC_PROVIDERS", "Corp SSO", "OIDC_PROVIDERS"},
		{"duplicate name", "OIDC_PROVIDERS", "github,github", "OIDC_PROVIDERS"},
		{"no issuer", "OIDC_CORP_SSO_ISSUER", "", "OIDC_CORP_SSO_ISSUER"},
		// Discovery and keys over plain http could be rewritten on the way.
		{"http issuer", "OIDC_CORP_SSO_ISSUER", "http://sso.example.com", "OIDC_CORP_SSO_ISSUER"},
		{"no client id", "OIDC_GITHUB_CLIENT_ID", "", "OIDC_GITHUB_CLIENT_ID"},
		{"bad redirect", "OIDC_GITHUB_REDIRECT_URL", "/auth/oidc/github/callback", "OIDC_GITHUB_REDIRECT_URL"},
		{"no openid scope", "OIDC_CORP_SSO_SCOPES", "email profile", "OIDC_CORP_SSO_SCOPES"},
		{"no success URL", "OIDC_SUCCESS_URL", "", "OIDC_SUCCESS_URL"},
		{"success URL with fragment", "OIDC_SUCCESS_URL", "/x#y", "OIDC_SUCCESS_URL"},
		{"error URL with fragment", "OIDC_ERROR_URL", "/x#y", "OIDC_ERROR_URL"},
		{"error URL of another scheme", "OIDC_ERROR_URL", "javascript:alert(1)", "OIDC_ERROR_URL"},
		{"link by email not a boolean", "OIDC_LINK_BY_VERIFIED_EMAIL", "maybe", "OIDC_LINK_BY_VERIFIED_EMAIL"},
	} {
		t.Run(row.name, func(t *testing.T) {
			env := oidcEnv()
			env[row.set] = row.value
			_, err := config.FromLookup(lookupOf(env))
			var ve *config.VarError
			require.True(t, errors.As(err, &ve), "error %v", err)
			assert.Equal(t, row.wantVar, ve.Var)
			assert.NotContains(t, err.Error(), "secret-value")
		})
	}
}

func TestOIDCBuild(t *testing.T) {
	env := oidcEnv()
	env["JWT_SECRET"] = secret32
	env["OIDC_LINK_BY_VERIFIED_EMAIL"] = "true"
	env["OIDC_ERROR_URL"] = "/sign-in-failed"
	c, err := config.FromLookup(lookupOf(env))
	require.NoError(t, err)
	st, err := config.Build(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NotNil(t, st.OIDC, "OIDC_PROVIDERS set, no Stack.OIDC")
	assert.Len(t, st.OIDC.Routes(), 6)

	c.OIDCProviders = nil
	plain, err := config.Build(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = plain.Close() })
	assert.Nil(t, plain.OIDC)
}
