package gatekeeptest

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// The issuer and audience of a Kit's tokens.
const (
	Issuer   = "gatekeeptest"
	Audience = "gatekeeptest-api"
)

// Password is the password [Kit.User] gives users created without one.
const Password = "gatekeeptest password"

// Kit is an in-memory gatekeep for an application's tests: use Auth as the
// application uses its Authenticator (Require, Authorize, Mount...). Each
// Kit has its own store, key and clock, so tests using different Kits
// never see each other's users or tokens.
type Kit struct {
	// Auth is the Authenticator, with the kit's fast hasher.
	Auth *auth.Authenticator
	// Store is its memory store, for arranging state directly.
	Store *memory.Store
	// Clock is the time of the store, the tokens and Auth.
	Clock *Clock
	// Signer and Verifier use the kit's key, [Issuer] and [Audience].
	Signer   *token.JWTSigner
	Verifier *token.JWTVerifier
}

// Option configures [New].
type Option func(*options)

type options struct {
	start    time.Time
	authOpts []auth.Option
	logger   *slog.Logger
}

// WithStart sets the Clock's initial time. Default: the current time,
// truncated to the second.
func WithStart(t time.Time) Option { return func(o *options) { o.start = t } }

// WithAuthOptions adds options to the Authenticator (after the kit's own,
// so they win): WithClaims, WithPolicy, WithCookies, WithAccessTTL... The
// kit sets the hasher, clock, issuer, audience and logger; overriding those
// is allowed but loses what the kit gives.
func WithAuthOptions(opts ...auth.Option) Option {
	return func(o *options) { o.authOpts = append(o.authOpts, opts...) }
}

// WithLogger sets the logger of audit events. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New returns a Kit closed when t ends. It fails t when the stack cannot
// be built (a bad option), and panics outside a test binary, where there
// is no test to fail: the kit's hasher must never reach production.
func New(t testing.TB, opts ...Option) *Kit {
	if !inTest() {
		panic(errNotTest)
	}
	t.Helper()
	o := options{start: time.Now().Truncate(time.Second), logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	clk := NewClock(o.start)
	st := memory.New(memory.WithClock(clk.Now))
	t.Cleanup(func() { _ = st.Close() })
	key, err := token.GenerateKey(token.HS256, "gatekeeptest")
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	topts := []token.Option{token.WithIssuer(Issuer), token.WithAudience(Audience), token.WithClock(clk.Now)}
	signer, err := token.NewSigner(ks, topts...)
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	cache, err := token.NewCache(0)
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	verifier, err := token.NewVerifier(ks, append(topts, token.WithCache(cache))...)
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	aopts := append([]auth.Option{
		auth.WithHasher(fastHasher{}), auth.WithClock(clk.Now),
		auth.WithIssuer(Issuer), auth.WithAudience(Audience), auth.WithLogger(o.logger),
	}, o.authOpts...)
	a, err := auth.New(signer, verifier, st, aopts...)
	if err != nil {
		t.Fatalf("gatekeeptest: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return &Kit{Auth: a, Store: st, Clock: clk, Signer: signer, Verifier: verifier}
}

// User returns the user named username, creating it with [Password] and
// roles when there is none (through [auth.Authenticator.EnsureUser]; an
// existing user is returned as it is). It fails t on error.
func (k *Kit) User(t testing.TB, username string, roles ...string) *store.User {
	t.Helper()
	u, _, err := k.Auth.EnsureUser(context.Background(), username, Password, roles)
	if err != nil {
		t.Fatalf("gatekeeptest: creating user %q: %v", username, err)
	}
	return u
}

// Register registers username with password through
// [auth.Authenticator.Register] (role "user") and returns the new
// session's tokens. It fails t on error.
func (k *Kit) Register(t testing.TB, username, password string) *auth.TokenResponse {
	t.Helper()
	tr, err := k.Auth.Register(context.Background(), auth.Registration{Username: username, Password: password}, auth.Client{})
	if err != nil {
		t.Fatalf("gatekeeptest: registering %q: %v", username, err)
	}
	return tr
}

// Login logs username in with password through [auth.Authenticator.Login]
// (the real password check, throttling included, on the fast hasher) and
// returns the session's tokens. It fails t on error; to test a failing
// login call k.Auth.Login.
func (k *Kit) Login(t testing.TB, username, password string) *auth.TokenResponse {
	t.Helper()
	tr, err := k.Auth.Login(context.Background(), username, password, auth.Client{})
	if err != nil {
		t.Fatalf("gatekeeptest: logging %q in: %v", username, err)
	}
	return tr
}

// MintAccess returns an access token for the user with ID userID holding
// exactly roles, through [auth.Authenticator.IssueTokens]: a real session,
// which Logout, RevokeUser and the clock end as any other. The user is
// created (named userID, or a generated name when userID is not a usable
// username) when missing; an existing user's roles are set to roles for
// the tokens minted from now on (tokens minted earlier keep theirs, as
// tokens do). It fails t on error.
func (k *Kit) MintAccess(t testing.TB, userID string, roles ...string) string {
	t.Helper()
	return k.mint(t, userID, roles).AccessToken
}

// MintTokens is [Kit.MintAccess] returning the whole pair (refresh token
// included).
func (k *Kit) MintTokens(t testing.TB, userID string, roles ...string) *auth.TokenResponse {
	t.Helper()
	return k.mint(t, userID, roles)
}

func (k *Kit) mint(t testing.TB, userID string, roles []string) *auth.TokenResponse {
	t.Helper()
	ctx := context.Background()
	if roles == nil {
		roles = []string{}
	}
	_, err := k.Store.User(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		name := userID
		if _, cerr := store.CanonicalUsername(name); cerr != nil {
			name = "user-" + store.NewID()
		}
		err = k.Store.CreateUser(ctx, &store.User{ID: userID, Username: name, Roles: roles})
	case err == nil:
		_, err = k.Store.UpdateUser(ctx, userID, store.UserUpdate{Roles: roles})
	}
	if err != nil {
		t.Fatalf("gatekeeptest: preparing user %q: %v", userID, err)
	}
	tr, err := k.Auth.IssueTokens(ctx, userID, auth.Client{})
	if err != nil {
		t.Fatalf("gatekeeptest: issuing tokens for %q: %v", userID, err)
	}
	return tr
}
