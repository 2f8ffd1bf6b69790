package readme

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/store"
)

type Account struct {
	Tenant string `json:"tenant"`
}

func withClaims(ctx context.Context, cfg config.Config, userOf func(*http.Request) (string, bool)) (*config.Stack, http.Handler, error) {
	st, err := config.Build(ctx, cfg, config.WithAuthOptions(auth.WithClaims(
		func(ctx context.Context, u store.User) (map[string]any, error) {
			_, domain, _ := strings.Cut(u.Email, "@")
			return map[string]any{"tenant": domain}, nil
		})))
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	mux.Handle("GET /billing", st.Auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, _ := auth.ClaimsAs[Account](r.Context())
		fmt.Fprintln(w, "tenant", acct.Tenant)
	})))
	// The application's own session (userOf) knows the user: hand out a pair.
	mux.Handle("GET /auth/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userID, ok := userOf(r)
		if !ok {
			st.Auth.Fail(w, r, auth.ErrNoToken)
			return
		}
		tokens, err := st.Auth.IssueTokens(r.Context(), userID, st.Auth.ClientOf(r))
		if err != nil {
			st.Auth.Fail(w, r, err) // 404 for an unknown user, 503 when the store cannot answer
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(tokens)
	}))
	return st, mux, nil
}

// TestWithClaims runs the block: the claim reaches the handler, and the
// application's own GET /auth/token hands its user a working pair.
func TestWithClaims(t *testing.T) {
	cfg := config.Default()
	cfg.JWTSecret = "readme-secret-0123456789abcdef-0123456789"
	var userID string
	st, h, err := withClaims(context.Background(), cfg, func(r *http.Request) (string, bool) {
		return userID, r.Header.Get("X-App-Session") == "ok" && userID != ""
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	tokens, err := st.Auth.Register(context.Background(), auth.Registration{Username: "alice", Password: "alice-password", Email: "alice@acme.example"}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	userID = tokens.User.ID
	get := func(path string, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/billing", map[string]string{"Authorization": "Bearer " + tokens.AccessToken}); code != 200 || body != "tenant acme.example\n" {
		t.Fatalf("/billing: %d %q", code, body)
	}
	if code, _ := get("/auth/token", nil); code != http.StatusUnauthorized {
		t.Fatalf("/auth/token without the application's session: %d", code)
	}
	code, body := get("/auth/token", map[string]string{"X-App-Session": "ok"})
	var pair auth.TokenResponse
	if err := json.Unmarshal([]byte(body), &pair); code != 200 || err != nil || pair.AccessToken == "" {
		t.Fatalf("/auth/token: %d %q", code, body)
	}
	if code, body := get("/billing", map[string]string{"Authorization": "Bearer " + pair.AccessToken}); code != 200 || body != "tenant acme.example\n" {
		t.Fatalf("/billing with the issued pair: %d %q", code, body)
	}
}
