package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/rbac"
)

// admin registers username, makes it an admin through SetRoles and logs
// it in again.
func (f *fixture) admin(username string) TokenResponse {
	f.t.Helper()
	tr := f.register(username)
	_, err := f.a.SetRoles(f.t.Context(), tr.User.ID, []string{"admin"})
	require.NoError(f.t, err)
	return f.login(username)
}

func (f *fixture) listUsers(tok, query string) (UserList, *httptest.ResponseRecorder) {
	f.t.Helper()
	w := f.do(req{method: "GET", path: "/admin/users" + query, bearer: tok})
	var out UserList
	if w.Code == http.StatusOK {
		dec := json.NewDecoder(strings.NewReader(w.Body.String()))
		dec.DisallowUnknownFields()
		require.NoError(f.t, dec.Decode(&out))
	}
	return out, w
}

func TestAdminListUsers(t *testing.T) {
	f := newFixture(t, nil)
	root := f.admin("root")
	alice := f.register("alice")
	for i := range 5 {
		f.register(fmt.Sprintf("user%d", i))
	}

	requireError(t, f.do(req{method: "GET", path: "/admin/users"}), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, f.do(req{method: "GET", path: "/admin/users", bearer: alice.AccessToken}), http.StatusForbidden, CodeInsufficientScope)
	w := f.do(req{method: "POST", path: "/admin/users", bearer: root.AccessToken})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	assert.Equal(t, "GET", w.Header().Get("Allow"))

	// Default page: everyone, no next_cursor member at all.
	list, w := f.listUsers(root.AccessToken, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, list.Users, 7)
	assert.NotContains(t, w.Body.String(), "next_cursor")
	assert.NotContains(t, w.Body.String(), "argon2") // no hashes
	var generic map[string][]map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &generic))
	assert.ElementsMatch(t, []string{"id", "username", "roles"}, keys(generic["users"][0]))
	for _, u := range list.Users {
		if u.ID == root.User.ID {
			assert.Equal(t, []string{"admin"}, u.Roles)
		}
	}

	// Pages of 3: 3, 3, 1, each id once.
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page, w := f.listUsers(root.AccessToken, q)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		pages++
		for _, u := range page.Users {
			assert.False(t, seen[u.ID])
			seen[u.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		assert.Len(t, page.Users, 3)
		cursor = page.NextCursor
	}
	assert.Equal(t, 3, pages)
	assert.Len(t, seen, 7)
	// A page that is exactly full has no next_cursor.
	page, _ := f.listUsers(root.AccessToken, "?limit=7")
	assert.Empty(t, page.NextCursor)
	page, _ = f.listUsers(root.AccessToken, "?limit=1000")
	assert.Len(t, page.Users, 7)

	for _, q := range []string{
		"?limit=0", "?limit=-1", "?limit=1001", "?limit=abc", "?limit=", "?limit=1&limit=2",
		"?cursor=%21%21%21", "?cursor=", // not one the store issued (not even base64url)
	} {
		t.Run(q, func(t *testing.T) {
			_, w := f.listUsers(root.AccessToken, q)
			requireError(t, w, http.StatusBadRequest, CodeInvalidRequest)
		})
	}
}

func TestAdminSetRoles(t *testing.T) {
	f := newFixture(t, nil)
	root := f.admin("root")
	alice := f.register("alice")
	path := "/admin/users/" + alice.User.ID + "/roles"

	put := func(tok, path, body string) *httptest.ResponseRecorder {
		return f.do(req{method: "PUT", path: path, bearer: tok, body: body})
	}
	requireError(t, put("", path, `{"roles":["admin"]}`), http.StatusUnauthorized, CodeInvalidToken)
	requireError(t, put(alice.AccessToken, path, `{"roles":["admin"]}`), http.StatusForbidden, CodeInsufficientScope)
	w := f.do(req{method: "POST", path: path, bearer: root.AccessToken, body: `{"roles":[]}`})
	requireError(t, w, http.StatusMethodNotAllowed, CodeInvalidRequest)
	assert.Equal(t, "PUT", w.Header().Get("Allow"))
	requireError(t, put(root.AccessToken, "/admin/users/nobody/roles", `{"roles":["user"]}`), http.StatusNotFound, CodeNotFound)

	for name, body := range map[string]string{
		"empty role":     `{"roles":[""]}`,
		"duplicate":      `{"roles":["user","user"]}`,
		"bad name":       `{"roles":["bad role"]}`,
		"missing roles":  `{}`,
		"null roles":     `{"roles":null}`,
		"wrong type":     `{"roles":"admin"}`,
		"unknown field":  `{"roles":[],"admin":true}`,
		"not json":       `roles=admin`,
		"trailing value": `{"roles":[]} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, put(root.AccessToken, path, body), http.StatusBadRequest, CodeInvalidRequest)
		})
	}
	// Nothing changed by the refusals.
	assert.Equal(t, http.StatusOK, f.status(alice.AccessToken))

	// The change: 200 with the user; alice's earlier token stops working
	// at once, though no second has passed; a new login carries the new
	// roles (in the same second).
	w = put(root.AccessToken, path, `{"roles":["user","editor"]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"username":"alice","roles":["user","editor"]}`, alice.User.ID), w.Body.String())
	assert.Equal(t, http.StatusUnauthorized, f.status(alice.AccessToken))
	requireError(t, f.refresh(alice.RefreshToken), http.StatusUnauthorized, CodeInvalidToken)
	again := f.login("alice")
	assert.Equal(t, []string{"user", "editor"}, again.User.Roles)
	me := f.do(req{method: "GET", path: "/me", bearer: again.AccessToken})
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"username":"alice","roles":["user","editor"],"mfa":false}`, alice.User.ID), me.Body.String())
	assert.Equal(t, http.StatusOK, f.status(root.AccessToken)) // others unaffected

	// An empty list is allowed: no roles.
	w = put(root.AccessToken, path, `{"roles":[]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"username":"alice","roles":[]}`, alice.User.ID), w.Body.String())

	// Promoting alice makes her an admin at her next login.
	require.Equal(t, http.StatusOK, put(root.AccessToken, path, `{"roles":["admin"]}`).Code)
	promoted := f.login("alice")
	_, w = f.listUsers(promoted.AccessToken, "")
	assert.Equal(t, http.StatusOK, w.Code)

	assert.Contains(t, f.logs.events(), "auth.roles_changed")
	assert.Contains(t, f.logs.all(), "by_user_id="+root.User.ID)

	// A router that sets no path values (gin): the id is the segment
	// before "roles".
	w = httptest.NewRecorder()
	r := httptest.NewRequest("PUT", "/v1/admin/users/"+alice.User.ID+"/roles", jsonReader(`{"roles":["user"]}`))
	r.Header.Set("Authorization", "Bearer "+root.AccessToken)
	f.a.UserRolesHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestSetRolesWithPolicy(t *testing.T) {
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "user"},
		rbac.Role{Name: "editor", Inherits: []string{"user"}},
		rbac.Role{Name: "admin", Inherits: []string{"editor"}},
	)
	require.NoError(t, err)
	f := newFixture(t, nil, WithPolicy(policy))
	root := f.admin("root")
	alice := f.register("alice")
	path := "/admin/users/" + alice.User.ID + "/roles"
	w := f.do(req{method: "PUT", path: path, bearer: root.AccessToken, body: `{"roles":["auditor"]}`})
	requireError(t, w, http.StatusBadRequest, CodeInvalidRequest)
	w = f.do(req{method: "PUT", path: path, bearer: root.AccessToken, body: `{"roles":["editor"]}`})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	_, err = f.a.SetRoles(t.Context(), alice.User.ID, []string{"superuser"})
	require.ErrorIs(t, err, ErrInvalidRequest)
	_, err = f.a.SetRoles(t.Context(), "", []string{"user"})
	require.ErrorIs(t, err, ErrNotFound)
	_, _, err = f.a.ListUsers(t.Context(), "", 0)
	require.ErrorIs(t, err, ErrInvalidRequest)

	// WithAdminRole: another role guards the admin handlers.
	g := newFixture(t, nil, WithPolicy(policy), WithAdminRole("editor"))
	ed := g.register("ed")
	_, err = g.a.SetRoles(t.Context(), ed.User.ID, []string{"editor"})
	require.NoError(t, err)
	_, w = g.listUsers(g.login("ed").AccessToken, "")
	assert.Equal(t, http.StatusOK, w.Code)
}

func jsonReader(s string) *strings.Reader { return strings.NewReader(s) }
