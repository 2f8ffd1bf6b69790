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
	c, err := config.FromLookup(lookupOf(env))
	require.NoError(t, err)
	st, err := config.Build(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NotNil(t, st.OIDC, "OIDC_PROVIDERS set, no Stack.OIDC")
	assert.Len(t, st.OIDC.Routes(), 3)

	c.OIDCProviders = nil
	plain, err := config.Build(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = plain.Close() })
	assert.Nil(t, plain.OIDC)
}
