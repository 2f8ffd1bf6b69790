package gatekeeptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	gogin "github.com/gin-gonic/gin"
	gochi "github.com/go-chi/chi/v5"

	ginadapter "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/gatekeeptest"
)

// whoami is the application's handler under test.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]any{"user": p.UserID, "roles": p.Roles})
})

// A test of an application's net/http handlers: a token minted for a user
// with a role, a request carrying it, the response recorded. (In a test,
// t is the *testing.T.)
func Example() {
	kit := gatekeeptest.New(t)
	mux := http.NewServeMux()
	mux.Handle("GET /me", kit.Auth.Require(whoami))
	mux.Handle("GET /admin", kit.Auth.Authorize("admin")(whoami))

	w := gatekeeptest.Serve(mux, kit.RequestAs(t, "GET", "/me", "user-1", "editor"))
	fmt.Print(w.Code, " ", w.Body.String())
	w = gatekeeptest.Serve(mux, kit.RequestAs(t, "GET", "/admin", "user-1", "editor"))
	fmt.Println(w.Code)
	w = gatekeeptest.Serve(mux, gatekeeptest.Request("GET", "/me", "", nil))
	fmt.Println(w.Code)
	// Output:
	// 200 {"roles":["editor"],"user":"user-1"}
	// 403
	// 401
}

// The same with chi: a chi router is an http.Handler.
func Example_chi() {
	kit := gatekeeptest.New(t)
	r := gochi.NewRouter()
	r.With(kit.Auth.Authorize("admin")).Get("/admin", whoami)

	w := gatekeeptest.Serve(r, kit.RequestAs(t, "GET", "/admin", "root", "admin"))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 200 {"roles":["admin"],"user":"root"}
}

// The same with gin, through gatekeep's gin adapter.
func Example_gin() {
	gogin.SetMode(gogin.TestMode)
	kit := gatekeeptest.New(t)
	r := gogin.New()
	r.GET("/me", ginadapter.Require(kit.Auth), func(c *gogin.Context) {
		p, _ := ginadapter.Principal(c)
		c.JSON(http.StatusOK, gogin.H{"user": p.UserID})
	})

	w := gatekeeptest.Serve(r, kit.RequestAs(t, "GET", "/me", "user-2"))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 200 {"user":"user-2"}
}

// Login goes through the real password check, on the kit's fast hasher;
// the injected clock expires the access token without a sleep.
func ExampleKit_Login() {
	kit := gatekeeptest.New(t)
	kit.Register(t, "alice", "correct horse battery staple")
	tr := kit.Login(t, "alice", "correct horse battery staple")
	h := kit.Auth.Require(whoami)

	fmt.Println(gatekeeptest.Serve(h, gatekeeptest.Request("GET", "/", tr.AccessToken, nil)).Code)
	kit.Clock.Advance(auth.DefaultAccessTTL + auth.DefaultLeeway + time.Second)
	fmt.Println(gatekeeptest.Serve(h, gatekeeptest.Request("GET", "/", tr.AccessToken, nil)).Code)
	// Output:
	// 200
	// 401
}

// MintAccess issues a real session's token without any password.
func ExampleKit_MintAccess() {
	kit := gatekeeptest.New(t)
	tok := kit.MintAccess(t, "user-3", "viewer")
	p, err := kit.Auth.AuthenticateToken(context.Background(), tok)
	fmt.Println(p.UserID, p.Roles, err)
	// Output:
	// user-3 [viewer] <nil>
}
