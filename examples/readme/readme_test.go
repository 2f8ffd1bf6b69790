// Package readme holds every Go code block of the repository's README.md,
// verbatim, so that each one compiles (and the guards they show are run),
// and checks README.md and .env.example against the code.
package readme

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatekeep/gatekeep/config"
)

func init() { gin.SetMode(gin.ReleaseMode) } // no route listing in the test output

// The README's blocks as functions: compiled, some also run below.
var _ = []any{main, chiRouter, ginRouter, withPolicy, withClaims, existingApp}

// The application handlers the README's blocks route to.
var (
	listNotes  = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	createNote = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	deleteNote = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// Every ```go block of README.md appears, byte for byte, in a file of
// this package.
func TestREADMEGoBlocksCompile(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	blocks := goBlock.FindAllStringSubmatch(readme, -1)
	if len(blocks) < 4 {
		t.Fatalf("README.md has %d go blocks; want the quick start, chi, gin and roles at least", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(code.String(), b[1]) {
			first, _, _ := strings.Cut(strings.TrimSpace(b[1]), "\n")
			t.Errorf("README.md block starting %q is not verbatim in examples/readme: copy it into a _test.go file there (or fix the README)", first)
		}
	}
}

// CI (.ci/run) and developers run the README's test command.
func TestREADMETestCommand(t *testing.T) {
	if !strings.Contains(readRepoFile(t, "README.md"), "```sh\ngo test -race -count=1 ./...\n```") {
		t.Error("README.md lost its test command block: go test -race -count=1 ./...")
	}
}

// configVars are the variables config.FromLookup reads, from its source.
func configVars(t *testing.T) []string {
	src := readRepoFile(t, filepath.Join("config", "env.go"))
	var vars []string
	for _, m := range regexp.MustCompile(`p\.[a-z]+\("([A-Z_]+)"`).FindAllStringSubmatch(src, -1) {
		vars = append(vars, m[1])
	}
	slices.Sort(vars)
	if len(vars) < 20 {
		t.Fatalf("found %d variables in config/env.go; has its parser changed shape?", len(vars))
	}
	return slices.Compact(vars)
}

// .env.example names every variable, and as it is (defaults uncommented)
// it configures exactly config.Default().
func TestEnvExample(t *testing.T) {
	text := readRepoFile(t, ".env.example")
	var named []string
	for _, m := range regexp.MustCompile(`(?m)^(?:# )?([A-Z][A-Z0-9_]+)=`).FindAllStringSubmatch(text, -1) {
		named = append(named, m[1])
	}
	slices.Sort(named)
	if want := configVars(t); !slices.Equal(slices.Compact(named), want) {
		t.Errorf(".env.example names %q,\nconfig reads %q", named, want)
	}

	vals, err := config.ParseDotEnv(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := vals[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if def := config.Default(); !reflect.DeepEqual(cfg, def) {
		t.Errorf(".env.example's values are not the defaults:\n got %+v\nwant %+v", cfg, def)
	}
}

// The README's configuration table has one row per variable.
func TestREADMEConfigTable(t *testing.T) {
	var named []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(readRepoFile(t, "README.md"), -1) {
		named = append(named, m[1])
	}
	slices.Sort(named)
	if want := configVars(t); !slices.Equal(named, want) {
		t.Errorf("README's table names %q,\nconfig reads %q", named, want)
	}
}

// The routers of the README answer as they say.
func TestREADMERouters(t *testing.T) {
	env := map[string]string{
		"JWT_SECRET": "readme-secret-0123456789abcdef0123456789", "ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "root-password-Zq9",
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	quiet := config.WithLogger(slog.New(slog.DiscardHandler))
	build := func(t *testing.T) *config.Stack {
		st, err := config.Build(context.Background(), cfg, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	policy := func(t *testing.T) http.Handler {
		st, h, err := withPolicy(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return h
	}
	for name, h := range map[string]func(t *testing.T) http.Handler{
		"chi":    func(t *testing.T) http.Handler { return chiRouter(build(t)) },
		"gin":    func(t *testing.T) http.Handler { return ginRouter(build(t)) },
		"policy": policy,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h(t))
			defer srv.Close()
			var lastToken string // the access token of the last /auth/ answer
			do := func(method, path, tok, body string) int {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if strings.HasPrefix(path, "/auth/") {
					var tk struct {
						AccessToken string `json:"access_token"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&tk)
					lastToken = tk.AccessToken
				}
				return resp.StatusCode
			}
			if got := do("POST", "/auth/register", "", `{"username":"alice","password":"alice-password"}`); got != http.StatusCreated {
				t.Fatalf("register %d", got)
			}
			user := lastToken
			do("POST", "/auth/login", "", `{"username":"root","password":"root-password-Zq9"}`)
			admin := lastToken
			for _, c := range []struct {
				method, path, tok string
				want              int
			}{
				{"GET", "/notes", "", http.StatusUnauthorized},
				{"GET", "/notes", user, http.StatusOK},
				{"DELETE", "/notes/1", user, http.StatusForbidden},
				{"DELETE", "/notes/1", admin, http.StatusNoContent},
			} {
				if got := do(c.method, c.path, c.tok, ""); got != c.want {
					t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
				}
			}
			if name == "policy" {
				if got := do("POST", "/notes", user, ""); got != http.StatusForbidden {
					t.Errorf("POST /notes as user: %d, want 403 (no notes:write)", got)
				}
				if got := do("POST", "/notes", admin, ""); got != http.StatusCreated {
					t.Errorf("POST /notes as admin: %d, want 201 (admin inherits editor)", got)
				}
			}
		})
	}
}
