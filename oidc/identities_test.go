package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/oidc"
)

// call sends method to s's path with bearer (none when empty) through
// client (http.DefaultClient when nil) and returns the response, read.
func call(t *testing.T, client *http.Client, s *site, method, path, bearer string) (*http.Response, []byte) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res, buf.Bytes()
}

func bodyCode(body []byte) string {
	var e auth.ErrorBody
	_ = json.Unmarshal(body, &e)
	return e.Error
}

// startLink posts the link start with bearer from b and walks the
// provider as login; it returns the callback URL, not yet visited.
func startLink(t *testing.T, b *browser, s *site, bearer, login string) *url.URL {
	t.Helper()
	res, body := call(t, b.c, s, http.MethodPost, "/auth/oidc/op/link", bearer)
	var ls oidc.LinkStart
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &ls) != nil || ls.AuthorizationURL == "" {
		t.Fatalf("POST link: %d %s, want 200 with authorization_url", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST link: Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
	}
	next, err := b.c.Get(ls.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	return b.follow(t, next, login)
}

// link runs a whole link flow and returns the callback's response.
func link(t *testing.T, s *site, bearer, login string) *http.Response {
	t.Helper()
	b := newBrowser()
	return b.get(t, startLink(t, b, s, bearer, login).String())
}

func register(t *testing.T, s *site, name string) *auth.TokenResponse {
	t.Helper()
	tr, err := s.a.Register(context.Background(), auth.Registration{Username: name, Password: "correct horse battery staple"},
		auth.Client{IP: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func identities(t *testing.T, s *site, bearer string) []oidc.IdentityView {
	t.Helper()
	res, body := call(t, nil, s, http.MethodGet, "/auth/identities", bearer)
	var v struct{ Identities []oidc.IdentityView }
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Identities == nil {
		t.Fatalf("GET /auth/identities: %d %s, want 200 with a list", res.StatusCode, body)
	}
	return v.Identities
}

func TestLink(t *testing.T) {
	s := newSite(t)
	issuer := startProvider(t, s.srv.URL+"/auth/oidc/op/callback")
	s.start(t, issuer, false, "gatekeep")
	ctx := context.Background()

	pat := register(t, s, "pat")
	t.Run("LinkWhileSignedIn", func(t *testing.T) {
		res := link(t, s, pat.AccessToken, "pat-at-op")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/welcome#linked=op" {
			t.Fatalf("link callback: %d to %q (%s), want 303 to /welcome#linked=op", res.StatusCode, res.Header.Get("Location"), errorCode(t, res))
		}
		got, err := s.st.IdentityBySubject(ctx, issuer, "pat-at-op")
		if err != nil || got.UserID != pat.User.ID {
			t.Fatalf("the identity links to %+v (%v), want pat", got, err)
		}
		// The provider account now signs in as pat: no new user.
		n := len(users(t, s))
		st, tr := exchange(t, s, signInCode(t, s, "pat-at-op"))
		if st != http.StatusOK || tr.User.ID != pat.User.ID || len(users(t, s)) != n {
			t.Errorf("sign-in after link: %d as %q with %d users, want 200 as pat with %d", st, tr.User.Username, len(users(t, s)), n)
		}
		list := identities(t, s, pat.AccessToken)
		if len(list) != 1 || list[0].Provider != "op" || list[0].Issuer != issuer || list[0].Subject != "pat-at-op" ||
			list[0].Email != "pat-at-op@example.com" || list[0].ID == "" || list[0].CreatedAt.IsZero() {
			t.Errorf("identities = %+v, want the one link", list)
		}
		// Linking the same account again to the same user is done already.
		if res := link(t, s, pat.AccessToken, "pat-at-op"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("relink to the same user: %d, want 303", res.StatusCode)
		}
	})
	t.Run("LinkedToAnotherUser", func(t *testing.T) {
		// An attack: linking moves no account from its owner.
		ron := register(t, s, "ron")
		res := link(t, s, ron.AccessToken, "pat-at-op")
		if res.StatusCode != http.StatusConflict || errorCode(t, res) != oidc.CodeIdentityLinked {
			t.Fatalf("link of pat's account by ron: %d, want 409 identity_linked", res.StatusCode)
		}
		if got, _ := s.st.IdentityBySubject(ctx, issuer, "pat-at-op"); got == nil || got.UserID != pat.User.ID {
			t.Errorf("after the refused link the account is %+v, want still pat's", got)
		}
		if list := identities(t, s, ron.AccessToken); len(list) != 0 {
			t.Errorf("ron has %d identities, want 0", len(list))
		}
	})
	t.Run("NeedsToken", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, "/auth/oidc/op/link"}, {http.MethodGet, "/auth/identities"}, {http.MethodDelete, "/auth/identities/x"},
		} {
			res, body := call(t, nil, s, c.method, c.path, "")
			if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s without a token: %d %s, want 401 with a Bearer challenge", c.method, c.path, res.StatusCode, body)
			}
			// A refresh token is no access token.
			if res, _ := call(t, nil, s, c.method, c.path, pat.RefreshToken); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with a refresh token: %d, want 401", c.method, c.path, res.StatusCode)
			}
		}
		res, _ := call(t, nil, s, http.MethodPost, "/auth/oidc/nope/link", pat.AccessToken)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("link with an unknown provider: %d, want 404", res.StatusCode)
		}
	})
	t.Run("ForgedTicket", func(t *testing.T) {
		// An attack: the state cookie is the client's to rewrite; a ticket
		// naming another user (here: a grant for pat, signed by the same
		// keys but of another type) or garbage links nothing.
		ron := register(t, s, "ron2")
		grant, _, err := s.a.IssueGrant(ctx, pat.User.ID, 60e9)
		if err != nil {
			t.Fatal(err)
		}
		for name, forged := range map[string]string{"grant": grant, "garbage": "x.y.z"} {
			b := newBrowser()
			cb := startLink(t, b, s, ron.AccessToken, "forged-"+name)
			tamper(t, b, s, func(m map[string]any) { m["l"] = forged })
			res := b.get(t, cb.String())
			if res.StatusCode != http.StatusUnauthorized || errorCode(t, res) != auth.CodeInvalidToken {
				t.Errorf("%s ticket: %d, want 401 invalid_token", name, res.StatusCode)
			}
			if _, err := s.st.IdentityBySubject(ctx, issuer, "forged-"+name); err == nil {
				t.Errorf("a %s ticket linked an identity", name)
			}
		}
		// Dropping the ticket turns the flow into a sign-in of a new user,
		// never a link to the one who started it.
		b := newBrowser()
		cb := startLink(t, b, s, ron.AccessToken, "dropped")
		tamper(t, b, s, func(m map[string]any) { delete(m, "l") })
		b.get(t, cb.String())
		if got, err := s.st.IdentityBySubject(ctx, issuer, "dropped"); err != nil || got.UserID == ron.User.ID {
			t.Errorf("a dropped ticket: %+v %v, want a new user's link", got, err)
		}
	})
	t.Run("SignedOutMeanwhile", func(t *testing.T) {
		// Logout-all between start and callback revokes the ticket too.
		sam := register(t, s, "sam")
		b := newBrowser()
		cb := startLink(t, b, s, sam.AccessToken, "sam-at-op")
		p, err := s.a.AuthenticateToken(ctx, sam.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		s.clock.advance(1e9) // revocation is by issue second
		if err := s.a.LogoutAll(ctx, p); err != nil {
			t.Fatal(err)
		}
		res := b.get(t, cb.String())
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("link after logout-all: %d, want 401", res.StatusCode)
		}
		if _, err := s.st.IdentityBySubject(ctx, issuer, "sam-at-op"); err == nil {
			t.Errorf("a revoked ticket linked an identity")
		}
	})
	t.Run("Unlink", func(t *testing.T) {
		// solo signed up through the provider: no password.
		_, solo := exchange(t, s, signInCode(t, s, "solo"))
		list := identities(t, s, solo.AccessToken)
		if len(list) != 1 {
			t.Fatalf("solo has %d identities, want 1", len(list))
		}
		first := list[0].ID
		res, body := call(t, nil, s, http.MethodDelete, "/auth/identities/"+first, solo.AccessToken)
		if res.StatusCode != http.StatusConflict || bodyCode(body) != oidc.CodeLastSignIn {
			t.Fatalf("unlink of the last way to sign in: %d %s, want 409 last_sign_in", res.StatusCode, body)
		}
		if res := link(t, s, solo.AccessToken, "solo-second"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("second link: %d", res.StatusCode)
		}
		// An attack: pat removing solo's link by its id.
		res, body = call(t, nil, s, http.MethodDelete, "/auth/identities/"+first, pat.AccessToken)
		if res.StatusCode != http.StatusNotFound || bodyCode(body) != auth.CodeNotFound {
			t.Errorf("unlink of another user's identity: %d %s, want 404 not_found", res.StatusCode, body)
		}
		res, body = call(t, nil, s, http.MethodDelete, "/auth/identities/"+first, solo.AccessToken)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("unlink of one of two: %d %s, want 204", res.StatusCode, body)
		}
		if _, err := s.st.IdentityBySubject(ctx, issuer, "solo"); err == nil {
			t.Errorf("the unlinked identity still signs in")
		}
		list = identities(t, s, solo.AccessToken)
		if len(list) != 1 || list[0].Subject != "solo-second" {
			t.Fatalf("after unlink: %+v, want solo-second only", list)
		}
		res, _ = call(t, nil, s, http.MethodDelete, "/auth/identities/"+list[0].ID, solo.AccessToken)
		if res.StatusCode != http.StatusConflict {
			t.Errorf("unlink of the remaining last link: %d, want 409", res.StatusCode)
		}
		res, _ = call(t, nil, s, http.MethodDelete, "/auth/identities/"+first, solo.AccessToken)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("unlink again: %d, want 404", res.StatusCode)
		}
		// pat has a password: its only link may go.
		pl := identities(t, s, pat.AccessToken)
		res, _ = call(t, nil, s, http.MethodDelete, "/auth/identities/"+pl[0].ID, pat.AccessToken)
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("unlink of pat's only link (pat has a password): %d, want 204", res.StatusCode)
		}
		res, _ = call(t, nil, s, http.MethodPost, "/auth/identities", pat.AccessToken)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /auth/identities: %d, want 405", res.StatusCode)
		}
	})
}

// A user with TOTP enrolled who signs in through the provider is asked
// for the second factor, as a password login is: no session before it.
func TestProviderMFA(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, auth.KeyEncryptionKeySize)
	exch, cook, mail := newSite(t), newSite(t), newSite(t)
	issuer := startProvider(t, exch.srv.URL+"/auth/oidc/op/callback", cook.srv.URL+"/auth/oidc/op/callback",
		mail.srv.URL+"/auth/oidc/op/callback")
	for _, s := range []*site{exch, cook, mail} {
		s.authOpts = []auth.Option{auth.WithKeyEncryptionKey(kek)}
	}
	mail.svcOpts = []oidc.Option{oidc.WithLinkByVerifiedEmail()}
	exch.start(t, issuer, false, "gatekeep")
	cook.start(t, issuer, true, "gatekeep")
	mail.start(t, issuer, false, "gatekeep")
	ctx := context.Background()
	// enrol confirms TOTP for tr's user and returns its recovery codes.
	enrol := func(t *testing.T, s *site, tr *auth.TokenResponse) []string {
		t.Helper()
		p, err := s.a.AuthenticateToken(ctx, tr.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		setup, err := s.a.EnrolTOTP(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(setup.Secret, s.clock.now())
		recovery, err := s.a.ConfirmTOTP(ctx, p, code)
		if err != nil || len(recovery) == 0 {
			t.Fatal(err)
		}
		return recovery
	}
	mfaExchange := func(t *testing.T, s *site, code string) *auth.MFARequiredError {
		t.Helper()
		res, err := http.Post(s.srv.URL+"/auth/oidc/exchange", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v struct {
			auth.MFARequiredError
			AccessToken string `json:"access_token"`
		}
		if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&v) != nil ||
			!v.Required || v.Token == "" || v.AccessToken != "" || len(res.Cookies()) != 0 {
			t.Fatalf("exchange for a TOTP user: %d %+v, want 200 mfa_required without tokens", res.StatusCode, v)
		}
		return &v.MFARequiredError
	}

	t.Run("Exchange", func(t *testing.T) {
		_, tr := exchange(t, exch, signInCode(t, exch, "tess"))
		recovery := enrol(t, exch, tr)
		mfa := mfaExchange(t, exch, signInCode(t, exch, "tess"))
		// The challenge completes as a password login's does.
		got, err := exch.a.VerifyMFA(ctx, mfa.Token, auth.SecondFactor{RecoveryCode: recovery[0]}, auth.Client{})
		if err != nil || got.User.Username != "tess" {
			t.Errorf("VerifyMFA after a provider sign-in: %v, want tess's session", err)
		}
	})
	t.Run("CookieMode", func(t *testing.T) {
		b := newBrowser()
		res := b.get(t, b.authorize(t, cook, "cleo").String())
		var access string
		for _, c := range res.Cookies() {
			if strings.Contains(c.Name, "access") {
				access = c.Value
			}
		}
		if res.StatusCode != http.StatusSeeOther || access == "" {
			t.Fatalf("cookie-mode sign-in: %d, want 303 with the cookies", res.StatusCode)
		}
		tr := &auth.TokenResponse{AccessToken: access}
		_ = enrol(t, cook, tr)
		b = newBrowser()
		res = b.get(t, b.authorize(t, cook, "cleo").String())
		loc := res.Header.Get("Location")
		for _, c := range res.Cookies() {
			if c.Name != oidc.StateCookie {
				t.Errorf("a TOTP user's callback set cookie %s: the session comes after the second factor", c.Name)
			}
		}
		_, code, ok := strings.Cut(loc, "#code=")
		if res.StatusCode != http.StatusSeeOther || !ok {
			t.Fatalf("TOTP user's cookie-mode callback: %d to %q, want 303 with #code=", res.StatusCode, loc)
		}
		code, _ = url.QueryUnescape(code)
		mfaExchange(t, cook, code)
	})
	t.Run("JoinedByEmail", func(t *testing.T) {
		// An attack: a provider account with the victim's verified email
		// joins the victim's account, but not past its second factor.
		mia := registerEmail(t, mail, "mia", "mia@example.com")
		_ = enrol(t, mail, mia)
		mfaExchange(t, mail, signInCode(t, mail, "mia"))
		if got, err := mail.st.IdentityBySubject(ctx, issuer, "mia"); err != nil || got.UserID != mia.User.ID {
			t.Errorf("the identity is %+v (%v), want joined to mia", got, err)
		}
	})
}

func registerEmail(t *testing.T, s *site, name, email string) *auth.TokenResponse {
	t.Helper()
	tr, err := s.a.Register(context.Background(), auth.Registration{Username: name, Password: "correct horse battery staple", Email: email},
		auth.Client{IP: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestLinkByVerifiedEmail(t *testing.T) {
	on, off := newSite(t), newSite(t)
	issuer := startProvider(t, on.srv.URL+"/auth/oidc/op/callback", off.srv.URL+"/auth/oidc/op/callback")
	on.svcOpts = []oidc.Option{oidc.WithLinkByVerifiedEmail()}
	on.start(t, issuer, false, "gatekeep")
	off.start(t, issuer, false, "gatekeep")

	vera := registerEmail(t, on, "vera", "vera@example.com")
	n := len(users(t, on))
	st, tr := exchange(t, on, signInCode(t, on, "vera"))
	if st != http.StatusOK || tr.User.ID != vera.User.ID || len(users(t, on)) != n {
		t.Fatalf("verified email: %d as %q (%d users), want 200 as the existing vera (%d)", st, tr.User.Username, len(users(t, on)), n)
	}
	if got, err := on.st.IdentityBySubject(context.Background(), issuer, "vera"); err != nil || got.UserID != vera.User.ID {
		t.Errorf("the identity is %+v (%v), want linked to vera", got, err)
	}
	// The provider's account keeps signing in as vera, by its link now.
	if _, tr := exchange(t, on, signInCode(t, on, "vera")); tr.User.ID != vera.User.ID {
		t.Errorf("second sign-in as %q, want vera", tr.User.Username)
	}

	for _, c := range []struct {
		name, login string
		setup       func()
	}{
		// An attack: an unverified email would hand over anyone's account.
		{"unverified", "unverified-uma", func() { registerEmail(t, on, "uma", "unverified-uma@example.com") }},
		// Two users with the email: which one is not ours to guess.
		{"ambiguous", "dup", func() {
			registerEmail(t, on, "dup1", "dup@example.com")
			registerEmail(t, on, "dup2", "dup@example.com")
		}},
		// Exactly that email: another case is another address here.
		{"other case", "casey", func() { registerEmail(t, on, "casey1", "Casey@example.com") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			before := users(t, on)
			st, tr := exchange(t, on, signInCode(t, on, c.login))
			if st != http.StatusOK || len(users(t, on)) != len(before)+1 {
				t.Fatalf("sign-in: %d with %d users, want 200 and a new user", st, len(users(t, on))-len(before))
			}
			for _, u := range before {
				if u.ID == tr.User.ID {
					t.Errorf("signed in as the existing %q", u.Username)
				}
			}
		})
	}
	t.Run("off by default", func(t *testing.T) {
		walt := registerEmail(t, off, "walt", "walt@example.com")
		if _, tr := exchange(t, off, signInCode(t, off, "walt")); tr.User.ID == walt.User.ID {
			t.Errorf("without the option a verified email joined walt's account")
		}
	})
}

func TestErrorURL(t *testing.T) {
	s := newSite(t)
	issuer := startProvider(t, s.srv.URL+"/auth/oidc/op/callback")
	s.svcOpts = []oidc.Option{oidc.WithErrorURL("/oops?from=oidc")}
	s.start(t, issuer, false, "gatekeep")

	want := func(t *testing.T, res *http.Response, code string) {
		t.Helper()
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/oops" {
			t.Fatalf("failed callback: %d to %q, want 303 to /oops", res.StatusCode, res.Header.Get("Location"))
		}
		q := loc.Query()
		if q.Get("error") != code || q.Get("from") != "oidc" || len(q) != 2 || loc.Fragment != "" {
			t.Errorf("error redirect %q, want only error=%s beside the URL's own query", loc, code)
		}
	}
	// A forged state.
	b := newBrowser()
	cb := b.authorize(t, s, "mallory")
	q := cb.Query()
	q.Set("state", "forged")
	cb.RawQuery = q.Encode()
	want(t, b.get(t, cb.String()), auth.CodeInvalidRequest)
	// The provider's refusal.
	b = newBrowser()
	cb = b.authorize(t, s, "dora")
	q = cb.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	cb.RawQuery = q.Encode()
	want(t, b.get(t, cb.String()), auth.CodeInvalidCredentials)
	// A link of another user's account.
	_, owner := exchange(t, s, signInCode(t, s, "owner"))
	if owner.AccessToken == "" {
		t.Fatal("no sign-in")
	}
	other := register(t, s, "other")
	want(t, link(t, s, other.AccessToken, "owner"), oidc.CodeIdentityLinked)
	// The other endpoints still answer JSON.
	res, _ := call(t, nil, s, http.MethodPost, "/auth/oidc/op/link", "")
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("link without a token: %d, want 401 JSON", res.StatusCode)
	}

	for _, bad := range []string{"/x#frag", "javascript:alert(1)"} {
		if _, err := oidc.New(s.a, s.st, "/welcome", []oidc.Provider{{Name: "op", Issuer: issuer, ClientID: "c",
			RedirectURL: s.srv.URL + "/cb"}}, oidc.WithErrorURL(bad)); !errors.Is(err, oidc.ErrInvalidConfig) {
			t.Errorf("WithErrorURL(%q): %v, want ErrInvalidConfig", bad, err)
		}
	}
}
