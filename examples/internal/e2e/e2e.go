package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store/redis"
)

var update = flag.Bool("e2e.update", false, "rewrite examples/internal/e2e/testdata/*.golden from this run")

// Secret is the JWT_SECRET of every row that does not set its own.
const Secret = "e2e-secret-0123456789abcdef-0123456789"

// Admin credentials, bootstrapped through ADMIN_USERNAME/ADMIN_PASSWORD in
// the rows that need an administrator.
const (
	AdminUser     = "root"
	AdminPassword = "root-password-Zq9"
)

// Stores are the AUTH_STORE values every row runs on.
var Stores = []string{"memory", "bolt", "redis", "postgres"}

// Handler builds an example's whole HTTP API from a stack.
type Handler func(*config.Stack) http.Handler

// Run runs every row of the table against the handler newHandler builds,
// on each of [Stores]. Each row gets a fresh stack (config.FromLookup over
// the row's variables, then config.Build, as the examples' main does) and
// a real HTTP server.
func Run(t *testing.T, newHandler Handler) {
	for _, kind := range Stores {
		t.Run(kind, func(t *testing.T) {
			var rc *goredis.Client
			var pg *pgxpool.Pool
			switch kind {
			case "redis":
				rc = needRedis(t)
			case "postgres":
				pg = pgtest.Pool(t) // internal/pgtest: skips, or fails under CI
			}
			for _, r := range rows {
				t.Run(r.name, func(t *testing.T) {
					var extra []config.BuildOption
					if r.opts != nil {
						extra = r.opts()
					}
					c := newClient(t, kind, rc, pg, r.env, newHandler, extra...)
					r.run(t, c)
					c.compareTranscript(r.name)
				})
			}
		})
	}
}

// needRedis returns a client on the test Redis (internal/redistest).
// Without one it skips the Redis rows with a message, or fails when CI is
// set.
func needRedis(t *testing.T) *goredis.Client {
	t.Helper()
	return redistest.Client(t)
}

// client talks to one server built for one row.
type client struct {
	t       *testing.T
	srv     *httptest.Server
	stack   *config.Stack
	http    *http.Client
	mailDir string
	lines   []string
	// root, when set, is the client whose transcript this one's exchanges
	// go into, marked [B] (the verify-only service of the resource rows).
	root *client
}

func newClient(t *testing.T, kind string, rc *goredis.Client, pg *pgxpool.Pool, rowEnv map[string]string, newHandler Handler, extra ...config.BuildOption) *client {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"JWT_SECRET": Secret,
		"AUTH_STORE": kind,
		"BOLT_PATH":  filepath.Join(dir, "gatekeep.db"),
		"REDIS_URL":  redistest.URL(),
		"MAIL_DIR":   filepath.Join(dir, "mail"),
	}
	if kind == "postgres" {
		env["DATABASE_URL"], env["POSTGRES_SCHEMA"] = pgtest.URL(), pgtest.Schema(t, pg)
	}
	for k, v := range rowEnv {
		env[k] = v // "" unsets: FromLookup takes an empty value as unset
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	opts := buildOptions(t, kind, rc)
	st, err := config.Build(context.Background(), cfg, append(opts, extra...)...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	srv := httptest.NewServer(newHandler(st))
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("closing the stack: %v", err)
		}
	})
	return &client{
		t: t, srv: srv, stack: st, mailDir: env["MAIL_DIR"],
		http: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// buildOptions are a row's build options: quiet, and on Redis a key
// prefix of its own, removed when the test ends.
func buildOptions(t *testing.T, kind string, rc *goredis.Client) []config.BuildOption {
	opts := []config.BuildOption{config.WithLogger(slog.New(slog.DiscardHandler))}
	if kind == "redis" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "gke2e-" + hex.EncodeToString(b[:])
		opts = append(opts, config.WithRedisOptions(redis.WithPrefix(prefix)))
		t.Cleanup(func() { removeKeys(rc, prefix) })
	}
	return opts
}

// removeKeys deletes every key under prefix (the store hash-tags its keys
// as "{prefix:...").
func removeKeys(c *goredis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, pattern := range []string{"{" + prefix + ":*", prefix + ":*"} {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			_ = c.Del(ctx, it.Val()).Err()
		}
	}
}

// response is one answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object; a body that is not one fails the
// test.
func (r *response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%d body is not a JSON object: %q", r.Status, clip(r.Body))
	}
	return m
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// req describes one request: body is a string sent as it is, or any other
// value sent as JSON; header holds extra headers.
type req struct {
	method, path string
	body         any
	header       map[string]string
	// anyNames records usernames and roles as strings in the transcript,
	// for answers whose order depends on random ids (pages of users).
	anyNames bool
	// anyDescription records error_description as a string, where auth
	// gives one of several true descriptions depending on timing.
	anyDescription bool
}

// do sends q and records the exchange in the transcript.
func (c *client) do(q req) *response {
	c.t.Helper()
	var body io.Reader
	switch b := q.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(q.method, c.srv.URL+q.path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range q.header {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		c.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", q.method, q.path, err)
	}
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if c.root != nil {
		c.root.lines = append(c.root.lines, "[B] "+transcriptLine(q, r))
	} else {
		c.lines = append(c.lines, transcriptLine(q, r))
	}
	return r
}

// The headers the contract specifies; the transcript keeps their values
// (normalised where they vary by time or token).
var transcriptHeaders = []string{
	"Allow", "Cache-Control", "Content-Type", "Location", "Retry-After",
	"Set-Cookie", "WWW-Authenticate", "X-Content-Type-Options",
}

// pathIDs are identifiers in paths, replaced in the transcript.
var (
	pathIDs = regexp.MustCompile(`/(sessions|users)/[^/?]+`)
	cursors = regexp.MustCompile(`cursor=[^&]+`)
)

func transcriptLine(q req, r *response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %d\n", q.method, cursors.ReplaceAllString(pathIDs.ReplaceAllString(q.path, "/$1/{id}"), "cursor={cursor}"), r.Status)
	for _, h := range transcriptHeaders {
		vs := r.Header.Values(h)
		if len(vs) == 0 {
			continue
		}
		norm := make([]string, len(vs))
		for i, v := range vs {
			switch h {
			case "Retry-After":
				v = "<seconds>"
			case "Set-Cookie":
				v = normaliseCookie(v)
			}
			norm[i] = v
		}
		sort.Strings(norm)
		for _, v := range norm {
			fmt.Fprintf(&b, "  %s: %s\n", h, v)
		}
	}
	if len(r.Body) > 0 {
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			fmt.Fprintf(&b, "  body: <not JSON, %d bytes>\n", len(r.Body))
		} else {
			fmt.Fprintf(&b, "  body: %s\n", shape("", v, q))
		}
	}
	return b.String()
}

// normaliseCookie keeps a cookie's name and attributes, not its value nor
// its times.
func normaliseCookie(v string) string {
	parts := strings.Split(v, ";")
	name, val, _ := strings.Cut(strings.TrimSpace(parts[0]), "=")
	out := []string{name + "=" + map[bool]string{true: "", false: "<value>"}[val == ""]}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		k, v, ok := strings.Cut(p, "=")
		switch {
		case ok && strings.EqualFold(k, "Expires"):
			p = k + "=<date>"
		case ok && strings.EqualFold(k, "Max-Age") && v != "0":
			p = k + "=<seconds>" // counted down from the token's expiry
		}
		out = append(out, p)
	}
	return strings.Join(out, "; ")
}

// keptValues are the JSON members whose values are part of the contract
// (codes, constants, names the rows chose), kept in the transcript.
var keptValues = map[string]bool{
	"error": true, "error_description": true, "token_type": true, "status": true,
	"username": true, "roles": true, "current": true, "kty": true, "alg": true,
	"use": true, "crv": true, "methods": true,
}

// shape renders v with its structure and types, keeping the values of
// keptValues members.
func shape(key string, v any, q req) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, shape(k, x[k], q))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = shape(key, e, q)
		}
		sort.Strings(parts) // stores list in their own order
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		if keptValues[key] && !(q.anyNames && (key == "username" || key == "roles")) && !(q.anyDescription && key == "error_description") {
			return fmt.Sprintf("%q", x)
		}
		return "string"
	case float64:
		if key == "expires_in" {
			return fmt.Sprint(x)
		}
		return "number"
	case bool:
		return fmt.Sprint(x)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// compareTranscript checks the row's transcript against its golden file,
// or writes it with -e2e.update.
func (c *client) compareTranscript(row string) {
	c.t.Helper()
	if c.t.Failed() || c.t.Skipped() {
		return
	}
	got := strings.Join(c.lines, "")
	path := filepath.Join(testdataDir(), row+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			c.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatalf("no golden transcript for row %s (run with -e2e.update once the row is right): %v", row, err)
	}
	if got != string(want) {
		c.t.Errorf("transcript differs from %s: this router or store answers differently from the others\n%s", path, diff(string(want), got))
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo := max(0, i-3)
			return fmt.Sprintf("line %d\n--- want (context from line %d)\n%s\n+++ got\n%s",
				i+1, lo+1, strings.Join(w[lo:min(len(w), i+4)], "\n"), strings.Join(g[lo:min(len(g), i+4)], "\n"))
		}
	}
	return "(equal lines, different bytes)"
}

func testdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// keysOf returns m's keys, sorted.
func keysOf(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
