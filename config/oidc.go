package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/oidc"
	"github.com/gatekeep/gatekeep/store"
)

// OIDCProvider is one provider of OIDC_PROVIDERS, from the variables
// OIDC_<NAME>_* (NAME the provider's name in upper case, '-' as '_').
type OIDCProvider struct {
	// Name is the provider's name in OIDC_PROVIDERS and in the paths
	// /auth/oidc/{name}/start and /callback: lower-case letters, digits
	// and '-'.
	Name string
	// Issuer is the OpenID Connect issuer, discovered at first use
	// (OIDC_<NAME>_ISSUER): https, or http on loopback. Unset for the
	// provider named "github", which is GitHub's OAuth 2.0 (no OpenID
	// Connect); required for every other.
	Issuer string
	// ClientID and ClientSecret are the client's registration at the
	// provider (OIDC_<NAME>_CLIENT_ID, OIDC_<NAME>_CLIENT_SECRET).
	ClientID     string
	ClientSecret Secret
	// RedirectURL is this server's callback, registered at the provider
	// (OIDC_<NAME>_REDIRECT_URL): https://host/auth/oidc/<name>/callback.
	RedirectURL string
	// Scopes are space-separated (OIDC_<NAME>_SCOPES). Default "openid
	// email profile" (GitHub: "read:user user:email").
	Scopes []string
}

var oidcName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// oidcVar is the variable OIDC_<NAME>_<field> of provider name.
func oidcVar(name, field string) string {
	return "OIDC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_" + field
}

// oidcProviders reads OIDC_<NAME>_* for each name of OIDC_PROVIDERS.
func (p *parser) oidcProviders(names string, dst *[]OIDCProvider) {
	if names == "" {
		return
	}
	var out []OIDCProvider
	for name := range strings.SplitSeq(names, ",") {
		name = strings.TrimSpace(name)
		if !oidcName.MatchString(name) || slices.ContainsFunc(out, func(o OIDCProvider) bool { return o.Name == name }) {
			p.fail(varErr("OIDC_PROVIDERS", "comma-separated distinct names of lower-case letters, digits and '-' (at most 32)", names))
			return
		}
		o := OIDCProvider{Name: name}
		p.str(oidcVar(name, "ISSUER"), &o.Issuer)
		p.str(oidcVar(name, "CLIENT_ID"), &o.ClientID)
		// A secret: read past get, which keeps values for error messages.
		if v, ok := p.lookup(oidcVar(name, "CLIENT_SECRET")); ok && v != "" {
			o.ClientSecret = Secret(v)
		}
		p.str(oidcVar(name, "REDIRECT_URL"), &o.RedirectURL)
		var scopes string
		p.str(oidcVar(name, "SCOPES"), &scopes)
		if f := strings.Fields(scopes); len(f) > 0 {
			o.Scopes = f
		}
		out = append(out, o)
	}
	*dst = out
}

// validateOIDC checks OIDC_PROVIDERS, each provider's variables,
// OIDC_SUCCESS_URL and OIDC_ERROR_URL.
func (c *Config) validateOIDC() error {
	if len(c.OIDCProviders) == 0 {
		return nil
	}
	for _, o := range c.OIDCProviders {
		if !oidcName.MatchString(o.Name) {
			return varErr("OIDC_PROVIDERS", "names of lower-case letters, digits and '-' (at most 32)", o.Name)
		}
		if o.Issuer == "" && o.Name != "github" {
			return varErr(oidcVar(o.Name, "ISSUER"), "the provider's OpenID Connect issuer URL (unset only for github)", "")
		}
		if o.Issuer != "" && !webURL(o.Issuer) {
			return varErr(oidcVar(o.Name, "ISSUER"), "an https URL (http only on loopback)", o.Issuer)
		}
		if o.ClientID == "" {
			return varErr(oidcVar(o.Name, "CLIENT_ID"), "the client id registered at the provider", "")
		}
		if !webURL(o.RedirectURL) {
			return varErr(oidcVar(o.Name, "REDIRECT_URL"), "this server's https callback URL, .../auth/oidc/"+o.Name+"/callback (http only on loopback)", o.RedirectURL)
		}
		if o.Issuer != "" && len(o.Scopes) > 0 && !slices.Contains(o.Scopes, "openid") {
			return varErr(oidcVar(o.Name, "SCOPES"), `space-separated scopes including "openid"`, strings.Join(o.Scopes, " "))
		}
	}
	if u, err := url.Parse(c.OIDCSuccessURL); c.OIDCSuccessURL == "" || err != nil || u.Fragment != "" ||
		(u.Scheme != "" && u.Scheme != "https" && u.Scheme != "http") {
		return varErr("OIDC_SUCCESS_URL", "where the browser goes after a provider sign-in: a path or an http(s) URL without a fragment", c.OIDCSuccessURL)
	}
	if u, err := url.Parse(c.OIDCErrorURL); c.OIDCErrorURL != "" && (err != nil || u.Fragment != "" ||
		(u.Scheme != "" && u.Scheme != "https" && u.Scheme != "http")) {
		return varErr("OIDC_ERROR_URL", "where a failed provider sign-in goes: a path or an http(s) URL without a fragment", c.OIDCErrorURL)
	}
	return nil
}

func webURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	h := u.Hostname()
	return u.Scheme == "https" || (u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1"))
}

// oidcProviderList turns the configured providers into oidc's.
func (c *Config) oidcProviderList() []oidc.Provider {
	var out []oidc.Provider
	for _, o := range c.OIDCProviders {
		var p oidc.Provider
		if o.Issuer == "" { // github, checked by validateOIDC
			p = oidc.GitHub(o.ClientID, string(o.ClientSecret), o.RedirectURL)
		} else {
			p = oidc.Provider{Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID,
				ClientSecret: string(o.ClientSecret), RedirectURL: o.RedirectURL}
		}
		if len(o.Scopes) > 0 {
			p.Scopes = slices.Clone(o.Scopes)
		}
		out = append(out, p)
	}
	return out
}

// buildOIDC returns the provider sign-in of cfg, or nil when
// OIDC_PROVIDERS is unset.
func buildOIDC(cfg Config, a *auth.Authenticator, st store.Store, bc buildConfig) (*oidc.Service, error) {
	if len(cfg.OIDCProviders) == 0 {
		return nil, nil
	}
	opts := []oidc.Option{oidc.WithLogger(bc.logger)}
	if bc.now != nil {
		opts = append(opts, oidc.WithClock(bc.now))
	}
	if cfg.CookieInsecure {
		opts = append(opts, oidc.WithInsecureStateCookie())
	}
	if cfg.OIDCLinkByVerifiedEmail {
		opts = append(opts, oidc.WithLinkByVerifiedEmail())
	}
	if cfg.OIDCErrorURL != "" {
		opts = append(opts, oidc.WithErrorURL(cfg.OIDCErrorURL))
	}
	svc, err := oidc.New(a, st, cfg.OIDCSuccessURL, cfg.oidcProviderList(), opts...)
	if err != nil {
		return nil, &VarError{Var: "OIDC_PROVIDERS", Want: "providers the oidc package accepts", Err: fmt.Errorf("%w", err)}
	}
	return svc, nil
}
