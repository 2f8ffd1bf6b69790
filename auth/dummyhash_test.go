package auth

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatekeep/gatekeep/store"
)

// Issue 22 finding 4: after a hasher switch an unknown user was verified
// against a dummy of the new kind and an existing user against the old
// kind, so timing told them apart. Every login now verifies against one
// hash of each kind and parameter set present: the same sets, whoever asks.
// The design counts what was verified, not how long it took.
func TestLoginWorkIsTheSameAcrossHasherSwitch(t *testing.T) {
	old := newFixture(t, nil) // argon2id m=64
	old.register("alice")
	// A user from another stack, with a bcrypt hash (cost 4: cheap here).
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), 4)
	require.NoError(t, err)
	require.NoError(t, old.st.CreateUser(context.Background(), &store.User{
		ID: store.NewID(), Username: "bob", PasswordHash: string(h), Roles: []string{"user"},
	}))

	// The hasher switches (other argon2id parameters) on the same store.
	probe := &probeHasher{Hasher: &Argon2id{p: Argon2idParams{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}}
	f := newFixture(t, old.st, WithHasher(probe))
	want := []string{"argon2id m=128,t=1,p=1,s=16,k=32", "argon2id m=64,t=1,p=1,s=16,k=32", "bcrypt 4"}
	for _, name := range []string{"nobody", "alice", "bob", "nobody-else", "no body"} {
		probe.takeVerified()
		w := f.do(req{method: "POST", path: "/auth/login", body: creds(name, "wrong password")})
		requireError(t, w, http.StatusUnauthorized, CodeInvalidCredentials)
		got := probe.takeVerified()
		slices.Sort(got)
		require.Equal(t, want, got, "the parameter sets verified for %q", name)
	}
	// The right password still logs in (and rehashes to the new kind).
	w := f.do(req{method: "POST", path: "/auth/login", body: creds("bob", testPassword)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
