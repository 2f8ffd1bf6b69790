package gatekeeptest_test

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/gatekeeptest"
	"github.com/gatekeep/gatekeep/store"
)

const kitPackage = "github.com/gatekeep/gatekeep/gatekeeptest"

// production builds the stack configuration gives for env (over a memory
// store, with a throwaway JWT_SECRET and MAIL_DIR), as a service would.
func production(t *testing.T, env map[string]string) (*config.Stack, error) {
	t.Helper()
	vars := map[string]string{"JWT_SECRET": strings.Repeat("s", 32), "MAIL_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	s, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, nil
}

// storedHash registers a user on s and returns the hash its store keeps.
func storedHash(t *testing.T, a *auth.Authenticator, st store.Store) string {
	t.Helper()
	tr, err := a.Register(context.Background(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})
	require.NoError(t, err)
	u, err := st.User(context.Background(), tr.User.ID)
	require.NoError(t, err)
	return u.PasswordHash
}

// Configuration can select argon2id or bcrypt at their production
// parameters and nothing else, whatever PASSWORD_HASH says, and a Kit in
// the same process changes none of that.
func TestConfigNeverSelectsTheKitHasher(t *testing.T) {
	kit := gatekeeptest.New(t)
	kit.Register(t, "bob", "correct horse battery staple") // the kit's hasher has run
	for _, c := range []struct {
		value, prefix string // prefix "" means refused
	}{
		{"", "$argon2id$v=19$m=19456,t=2,p=1$"},
		{"argon2id", "$argon2id$v=19$m=19456,t=2,p=1$"},
		{"bcrypt", "$2a$12$"},
		{"gatekeeptest", ""}, {"GATEKEEPTEST", ""}, {"$gatekeeptest$", ""}, {"fast", ""},
		{"test", ""}, {"hmac", ""}, {"sha256", ""}, {"plain", ""}, {"none", ""}, {"Argon2id ", ""},
	} {
		t.Run("PASSWORD_HASH="+c.value, func(t *testing.T) {
			s, err := production(t, map[string]string{"PASSWORD_HASH": c.value})
			if c.prefix == "" {
				require.ErrorIs(t, err, config.ErrInvalid)
				return
			}
			require.NoError(t, err)
			switch s.Hasher.(type) {
			case *auth.Argon2id, *auth.Bcrypt:
			default:
				t.Fatalf("config built a %T", s.Hasher)
			}
			h := storedHash(t, s.Auth, s.Store)
			assert.True(t, strings.HasPrefix(h, c.prefix), "stored hash %.20q...", h)
		})
	}
	t.Run("FromEnv", func(t *testing.T) {
		t.Setenv("JWT_SECRET", strings.Repeat("s", 32))
		for _, v := range []string{"gatekeeptest", "fast", "test"} {
			t.Setenv("PASSWORD_HASH", v)
			_, err := config.FromEnv()
			require.ErrorIs(t, err, config.ErrInvalid, "PASSWORD_HASH=%s", v)
		}
	})
	t.Run("auth.New's default", func(t *testing.T) {
		h, err := config.NewHasher(config.HashArgon2id)
		require.NoError(t, err)
		enc, err := h.Hash("correct horse battery staple")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$"))
	})
}

// No package of the module but this one (and its tests) imports the kit,
// so no production build can contain its hasher.
func TestNoProductionCodeImportsTheKit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "github.com/gatekeep/gatekeep/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Greater(t, len(lines), 10, "go list found too few packages: %s", out)
	for _, l := range lines {
		pkg, deps, _ := strings.Cut(l, " ")
		if pkg == kitPackage || strings.HasPrefix(pkg, kitPackage+"/") {
			continue
		}
		for _, d := range strings.Fields(deps) {
			assert.NotEqual(t, kitPackage, d, "%s depends on the test kit", pkg)
		}
	}
}

// A hash the kit made, should one reach a real store, lets nobody in: the
// production hashers do not read its format.
func TestProductionRefusesKitHashes(t *testing.T) {
	kit := gatekeeptest.New(t)
	u := kit.User(t, "carol")
	require.True(t, strings.HasPrefix(u.PasswordHash, "$gatekeeptest$"), u.PasswordHash)
	for _, kind := range []config.HashKind{config.HashArgon2id, config.HashBcrypt} {
		h, err := config.NewHasher(kind)
		require.NoError(t, err)
		ok, _, err := h.Verify(gatekeeptest.Password, u.PasswordHash)
		assert.False(t, ok, string(kind))
		assert.ErrorIs(t, err, auth.ErrUnknownHash, string(kind))
	}
	s, err := production(t, nil)
	require.NoError(t, err)
	planted := *u
	require.NoError(t, s.Store.CreateUser(context.Background(), &planted))
	_, err = s.Auth.Login(context.Background(), "carol", gatekeeptest.Password, auth.Client{})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}

// A token the kit minted is refused by a production stack, even one
// configured with the kit's issuer and audience: every Kit has a key of
// its own.
func TestProductionRefusesKitTokens(t *testing.T) {
	kit := gatekeeptest.New(t)
	tok := kit.MintAccess(t, "dave", "admin")
	s, err := production(t, map[string]string{"JWT_ISSUER": gatekeeptest.Issuer, "JWT_AUDIENCE": gatekeeptest.Audience})
	require.NoError(t, err)
	_, err = s.Auth.AuthenticateToken(context.Background(), tok)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	// Nor does another Kit accept it.
	_, err = gatekeeptest.New(t).Auth.AuthenticateToken(context.Background(), tok)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
}

// Built as an ordinary program (not a test binary), code using the kit
// stops at New.
func TestRefusesOutsideTestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "notest")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/notest").CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(bin).CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the program ran to the end: %v\n%s", err, out)
	assert.Contains(t, string(out), "gatekeeptest: refusing to run outside a test binary")
	assert.NotContains(t, string(out), "the kit ran outside a test")
}
