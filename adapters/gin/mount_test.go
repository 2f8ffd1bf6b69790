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

// TestMount walks the HTTP API through gin routes: register, me, refresh,
// logout, and the errors on the way.
func TestMount(t *testing.T) {
	for _, prefix := range []string{"", "/v1"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			f := newFixture(t)
			g := ginpkg.New()
			gatekeepgin.Mount(g.Group(prefix), f.A)

			res := serve(g, newRequest(http.MethodPost, prefix+"/auth/register", `{"username":"Alice","password":"correct horse"}`))
			require.Equal(t, http.StatusCreated, res.Status, res.Body)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			var tr auth.TokenResponse
			require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))
			assert.Equal(t, "Bearer", tr.TokenType)

			res = serve(g, newRequest(http.MethodPost, prefix+"/auth/login", `{"username":"alice","password":"correct horse"}`))
			require.Equal(t, http.StatusOK, res.Status, res.Body)

			res = serve(g, newRequest(http.MethodGet, prefix+"/me", "", "Authorization: Bearer "+tr.AccessToken))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			assert.JSONEq(t, `{"id":"`+tr.User.ID+`","username":"alice","roles":["user"],"mfa":false}`, res.Body)

			res = serve(g, newRequest(http.MethodPost, prefix+"/auth/refresh", `{"refresh_token":"`+tr.RefreshToken+`"}`))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			var tr2 auth.TokenResponse
			require.NoError(t, json.Unmarshal([]byte(res.Body), &tr2))

			res = serve(g, newRequest(http.MethodPost, prefix+"/auth/logout", "", "Authorization: Bearer "+tr2.AccessToken))
			require.Equal(t, http.StatusNoContent, res.Status, res.Body)
			res = serve(g, newRequest(http.MethodGet, prefix+"/me", "", "Authorization: Bearer "+tr2.AccessToken))
			assert.Equal(t, http.StatusUnauthorized, res.Status)

			res = serve(g, newRequest(http.MethodPost, prefix+"/auth/logout-all", ""))
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			assert.Equal(t, `Bearer realm="gatekeep"`, res.Header.Get("WWW-Authenticate"))

			res = serve(g, newRequest(http.MethodGet, prefix+"/healthz", ""))
			assert.Equal(t, http.StatusOK, res.Status)
			assert.JSONEq(t, `{"status":"ok"}`, res.Body)
		})
	}
}

// TestMountErrorsMatchNetHTTP: every error the mounted handlers give on gin
// is the one auth.Mount's net/http mux gives, 405s included (JSON, with
// Allow), since both leave the method check to the handlers.
func TestMountErrorsMatchNetHTTP(t *testing.T) {
	f := newFixture(t)
	g := ginpkg.New()
	gatekeepgin.Mount(g, f.A)
	mux := http.NewServeMux()
	f.A.Mount(mux)
	rows := []struct{ method, path, body string }{
		{http.MethodGet, "/auth/login", ""},
		{http.MethodDelete, "/me", ""},
		{http.MethodPut, "/healthz", ""},
		{http.MethodPost, "/auth/login", `{"username":"nobody","password":"wrong password"}`},
		{http.MethodPost, "/auth/register", `{"username":"x"`},
		{http.MethodPost, "/auth/register", `{"username":"bob","password":"short"}`},
		{http.MethodPost, "/auth/refresh", `{"refresh_token":"nope"}`},
		{http.MethodPost, "/auth/logout", ""},
		{http.MethodGet, "/me", ""},
	}
	for _, row := range rows {
		t.Run(row.method+row.path, func(t *testing.T) {
			want := serve(mux, newRequest(row.method, row.path, row.body))
			got := serve(g, newRequest(row.method, row.path, row.body))
			require.GreaterOrEqual(t, want.Status, 400)
			assert.Equal(t, want, got)
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
		})
	}
}
