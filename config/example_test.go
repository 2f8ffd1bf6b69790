package config_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatekeep/gatekeep/config"
)

// Build a stack from variables (here a map; FromEnv reads the process
// environment and .env), with an admin created at start, and log in as it.
func Example() {
	env := map[string]string{
		"JWT_SECRET":     "0123456789abcdef0123456789abcdef", // 32 bytes at least
		"JWT_EXPIRY":     "3600",                             // seconds, as in Node .env files
		"AUTH_STORE":     "memory",
		"ADMIN_USERNAME": "Root",
		"ADMIN_PASSWORD": "correct horse battery staple",
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		log.Fatal(err)
	}
	st, err := config.Build(context.Background(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Println("listen on", st.Addr, "with", st.Config.Store, "store,", st.Keys.Active().Algorithm(), "kid", st.Keys.Active().KID())

	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/auth/login", "application/json",
		strings.NewReader(`{"username":"root","password":"correct horse battery staple"}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		User struct {
			Username string   `json:"username"`
			Roles    []string `json:"roles"`
		} `json:"user"`
		ExpiresIn int `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	fmt.Println(resp.StatusCode, body.User.Username, body.User.Roles, body.ExpiresIn)

	// Output:
	// listen on 127.0.0.1:8080 with memory store, HS256 kid default
	// 200 root [admin] 3600
}

// A bad value is one line naming the variable.
func ExampleFromLookup_error() {
	env := map[string]string{"JWT_LEEWAY": "10m"}
	_, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(err)
	// Output: config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"
}
