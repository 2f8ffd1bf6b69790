package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"
)

// Provider is one identity provider users sign in with. An OpenID Connect
// provider needs Issuer (its endpoints and keys come from discovery); a
// plain OAuth 2.0 provider (no ID token) leaves Issuer empty and sets
// Endpoint and UserInfo instead ([GitHub] is one).
type Provider struct {
	// Name is the path segment ({provider} in /auth/oidc/{provider}/...):
	// lower-case letters, digits and '-', at most 32 bytes.
	Name string
	// Issuer is the OpenID Connect issuer identifier (an https URL; http
	// only on loopback), from which discovery finds the endpoints.
	Issuer string
	// ClientID and ClientSecret are the client's registration at the
	// provider. ClientSecret may be empty for a public client (PKCE alone).
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback URL, registered at the
	// provider: https://host/auth/oidc/{Name}/callback.
	RedirectURL string
	// Scopes default to "openid email profile" for an OpenID Connect
	// provider; a plain OAuth 2.0 provider's UserInfo says what it needs.
	Scopes []string

	// Endpoint and UserInfo make a plain OAuth 2.0 provider.
	Endpoint oauth2.Endpoint
	UserInfo UserInfoSource
}

// ExternalIdentity is what a provider says about the account that signed
// in. Issuer and Subject name it; the rest only seeds a new user.
type ExternalIdentity struct {
	// Issuer and Subject are the stable name of the external account:
	// for OpenID Connect the ID token's iss and sub, for a plain OAuth 2.0
	// provider a fixed issuer string and the provider's immutable user id
	// (never a login name or an email, which can change hands).
	Issuer  string
	Subject string
	// Email is the account's email and EmailVerified whether the provider
	// vouches that the user controls it. An unverified email is never
	// stored nor used to link accounts; a verified one links a first
	// sign-in to the account with that email only with
	// [WithLinkByVerifiedEmail].
	Email         string
	EmailVerified bool
	// PreferredUsername seeds a new user's username.
	PreferredUsername string
}

// UserInfoSource maps a plain OAuth 2.0 provider's answer to an
// [ExternalIdentity]: it calls the provider's API with client (which
// carries the access token) and returns who signed in. An error means the
// sign-in fails (503 when the provider cannot be reached).
type UserInfoSource interface {
	Identity(ctx context.Context, client *http.Client) (*ExternalIdentity, error)
}

// UserInfoFunc adapts a function to [UserInfoSource].
type UserInfoFunc func(ctx context.Context, client *http.Client) (*ExternalIdentity, error)

// Identity calls f.
func (f UserInfoFunc) Identity(ctx context.Context, client *http.Client) (*ExternalIdentity, error) {
	return f(ctx, client)
}

// GitHubIssuer is the issuer string of identities from [GitHub].
const GitHubIssuer = "https://github.com"

// GitHub returns a plain OAuth 2.0 provider named "github" for a GitHub
// OAuth app: scopes read:user and user:email, the subject GitHub's numeric
// user id (logins can be renamed and reused), the primary email only when
// GitHub marks it verified.
func GitHub(clientID, clientSecret, redirectURL string) Provider {
	return Provider{
		Name: "github", ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL,
		Scopes:   []string{"read:user", "user:email"},
		Endpoint: endpoints.GitHub,
		UserInfo: githubUserInfo("https://api.github.com"),
	}
}

// githubUserInfo reads /user and /user/emails of the GitHub API at base.
func githubUserInfo(base string) UserInfoFunc {
	return func(ctx context.Context, client *http.Client) (*ExternalIdentity, error) {
		var u struct {
			ID    int64  `json:"id"`
			Login string `json:"login"`
		}
		if err := getJSON(ctx, client, base+"/user", &u); err != nil {
			return nil, err
		}
		if u.ID <= 0 {
			return nil, fmt.Errorf("%w: GitHub user without an id", ErrProviderUnavailable)
		}
		id := &ExternalIdentity{Issuer: GitHubIssuer, Subject: strconv.FormatInt(u.ID, 10), PreferredUsername: u.Login}
		var emails []struct {
			Email    string `json:"email"`
			Primary  bool   `json:"primary"`
			Verified bool   `json:"verified"`
		}
		if err := getJSON(ctx, client, base+"/user/emails", &emails); err == nil {
			for _, e := range emails {
				if e.Primary && e.Verified {
					id.Email, id.EmailVerified = e.Email, true
				}
			}
		}
		return id, nil
	}
}

// maxInfoBytes bounds a userinfo answer.
const maxInfoBytes = 1 << 20

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %d", ErrProviderUnavailable, url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxInfoBytes)).Decode(v); err != nil {
		return fmt.Errorf("%w: undecodable answer from %s", ErrProviderUnavailable, url)
	}
	return nil
}
