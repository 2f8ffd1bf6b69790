package gin_test

import (
	"encoding/json"
	"net/http"
	"testing"

	ginpkg "github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
)

// TestMountRoutesWithIDs: the routes with a path wildcard ({id}) and the
// admin routes reach their handlers through Mount, with the id intact.
func TestMountRoutesWithIDs(t *testing.T) {
	f := newFixture(t)
	r := ginpkg.New()
	gatekeepgin.Mount(r, f.a)

	login := func(body string, status int) auth.TokenResponse {
		t.Helper()
		path := "/auth/login"
		if status == http.StatusCreated {
			path = "/auth/register"
		}
		res := serve(r, newRequest(http.MethodPost, path, body))
		require.Equal(t, status, res.Status, res.Body)
		var tr auth.TokenResponse
		require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))
		return tr
	}
	first := login(`{"username":"alice","password":"correct horse"}`, http.StatusCreated)
	second := login(`{"username":"alice","password":"correct horse"}`, http.StatusOK)

	res := serve(r, newRequest(http.MethodGet, "/auth/sessions", "", "Authorization: Bearer "+first.AccessToken))
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &list))
	require.Len(t, list.Sessions, 2)
	other := ""
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	require.NotEmpty(t, other)

	res = serve(r, newRequest(http.MethodDelete, "/auth/sessions/no-such-session", "", "Authorization: Bearer "+first.AccessToken))
	assert.Equal(t, http.StatusNotFound, res.Status, res.Body)
	res = serve(r, newRequest(http.MethodDelete, "/auth/sessions/"+other, "", "Authorization: Bearer "+first.AccessToken))
	require.Equal(t, http.StatusNoContent, res.Status, res.Body)
	res = serve(r, newRequest(http.MethodGet, "/me", "", "Authorization: Bearer "+second.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, res.Status, "the ended session's access token still works")

	res = serve(r, newRequest(http.MethodGet, "/admin/users", "", "Authorization: Bearer "+first.AccessToken))
	assert.Equal(t, http.StatusForbidden, res.Status, res.Body)
	res = serve(r, newRequest(http.MethodPut, "/admin/users/"+first.User.ID+"/roles", `{"roles":["admin"]}`, "Authorization: Bearer "+first.AccessToken))
	assert.Equal(t, http.StatusForbidden, res.Status, res.Body)
}
