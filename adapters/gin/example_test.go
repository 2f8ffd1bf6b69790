package gin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	ginpkg "github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// Guard a gin route by role: any valid access token reads notes, only an
// admin deletes them.
func Example() {
	key, _ := token.NewHMACKey(token.HS256, "k1", bytes.Repeat([]byte("s"), 32)) // JWT_SECRET
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	verifier, _ := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
	st := memory.New()
	defer st.Close()
	a, err := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))
	if err != nil {
		panic(err)
	}

	ginpkg.SetMode(ginpkg.ReleaseMode)
	r := ginpkg.New()
	gatekeepgin.Mount(r, a) // POST /auth/login, GET /me, ...
	api := r.Group("/api", gatekeepgin.Require(a))
	api.GET("/notes", func(c *ginpkg.Context) {
		p, _ := gatekeepgin.Principal(c)
		c.String(http.StatusOK, "notes of %s", p.UserID)
	})
	api.DELETE("/notes/:id", gatekeepgin.Authorize(a, "admin"), func(c *ginpkg.Context) {
		c.Status(http.StatusNoContent)
	})

	// A token for a plain user, as /auth/login would issue.
	tok, _ := signer.Sign(token.Access, &token.Claims{Subject: "u1", SessionID: "s1",
		Roles: []string{"user"}, ExpiresAt: time.Now().Add(time.Minute)})
	for _, req := range []struct{ method, path, token string }{
		{http.MethodGet, "/api/notes", ""},
		{http.MethodGet, "/api/notes", tok},
		{http.MethodDelete, "/api/notes/7", tok},
	} {
		rr := httptest.NewRecorder()
		hr := httptest.NewRequest(req.method, req.path, nil)
		if req.token != "" {
			hr.Header.Set("Authorization", "Bearer "+req.token)
		}
		r.ServeHTTP(rr, hr)
		fmt.Println(strings.TrimSpace(fmt.Sprint(req.method, " ", req.path, " ", rr.Code, " ", rr.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// GET /api/notes 401 Bearer realm="gatekeep"
	// GET /api/notes 200
	// DELETE /api/notes/7 403 Bearer realm="gatekeep", error="insufficient_scope", scope="admin"
}
