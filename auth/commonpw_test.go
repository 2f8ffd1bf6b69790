package auth

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// ASVS 5.0 V6.2.4: passwords set at registration, change and reset are
// checked against the 3000 most common passwords that meet the policy.
func TestCommonPasswordsRefused(t *testing.T) {
	for _, pw := range []string{"password", "12345678", "password123", "PassWord123", "iloveyou", "qwertyuiop"} {
		require.ErrorIs(t, checkNewPassword(pw), ErrPasswordCommon, pw)
	}
	for _, pw := range []string{testPassword, "x7#kq9!z", "password1234567890x"} {
		require.NoError(t, checkNewPassword(pw), pw)
	}
	require.Len(t, commonPasswords(), 3000)

	f := newFixture(t, nil)
	w := f.do(req{method: "POST", path: "/auth/register", body: creds("alice", "Password123")})
	requireError(t, w, http.StatusBadRequest, CodeInvalidRequest)
	require.Contains(t, w.Body.String(), "most common")
	tr := f.register("alice")
	w = f.do(req{method: "POST", path: "/auth/password/change", bearer: tr.AccessToken,
		body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "iloveyou"})})
	requireError(t, w, http.StatusBadRequest, CodeInvalidRequest)
	_, _, err := f.a.EnsureUser(t.Context(), "bob", "qwertyuiop", nil)
	require.ErrorIs(t, err, ErrPasswordCommon)
}
