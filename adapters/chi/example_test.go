package chi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	gochi "github.com/go-chi/chi/v5"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// Guard a chi route by role: any valid access token reads notes, only an
// admin deletes them. The auth middleware goes into r.Use and r.With as
// it is.
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

	r := gochi.NewRouter()
	gatekeepchi.Mount(r, a) // POST /auth/login, GET /me, ...
	r.Route("/api", func(r gochi.Router) {
		r.Use(a.Require)
		r.Get("/notes", func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.FromContext(r.Context())
			fmt.Fprintf(w, "notes of %s", p.UserID)
		})
		r.With(a.Authorize("admin")).Delete("/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})
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

// Name the matched route in auth's audit events and in the application's
// own records logged with a request's context.
func ExampleLogHandler() {
	logger := slog.New(gatekeepchi.LogHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output
			}
			return a
		},
	})))
	r := gochi.NewRouter()
	r.Get("/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "note.read")
	})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/notes/7", nil))
	// Give it to the Authenticator too: auth.New(signer, verifier, st, auth.WithLogger(logger))

	// Output:
	// level=INFO msg=note.read http.route=/notes/{id}
}
