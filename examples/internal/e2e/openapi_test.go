package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

// TestOpenAPI checks docs/openapi.yaml against the API as the e2e rows
// exercise it, so that the description cannot drift from the code. The
// document must load and validate (OpenAPI 3.1, kin-openapi). Then every row
// of the table runs on the memory store against the API as
// examples/nethttp builds it, and every exchange of its transcript (the
// same as testdata/<row>.golden, which the run compares as TestE2E does)
// is checked against the document:
//
//   - the route is found: its path is one the document describes, with the
//     method it describes; a path it does not describe must answer 404 and
//     a method the path does not serve 405 (the document's NotFound and
//     MethodNotAllowed responses), with Allow naming exactly the methods
//     the document gives the path (and HEAD beside GET, which the server
//     adds);
//   - the request is valid (parameters, security, body) whenever the
//     server accepted it (2xx), and invalid whenever the server refused
//     its body's shape (400 for a media type, a member, a type or
//     trailing data): the document allows what the server allows;
//   - the status is declared for the operation, with its required headers
//     (WWW-Authenticate on 401 and 403, Retry-After on 429,
//     Cache-Control, ...) and a body valid against its schema.
//
// Finally every golden transcript must belong to a row, the document's
// paths must be exactly the library's routes (auth.Routes) and the JWK Set,
// docs/http-api.md must name every operation and error code, and every
// documented operation must have been exercised.
func TestOpenAPI(t *testing.T) {
	doc := loadOpenAPI(t)
	chk := newAPIChecker(t, doc)

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			var extra []config.BuildOption
			if r.opts != nil {
				extra = r.opts()
			}
			c := newClient(t, "memory", nil, nil, r.env, func(st *config.Stack) http.Handler {
				chk.noteRoutes(st.Auth.Routes())
				if st.OIDC != nil {
					chk.noteRoutes(st.OIDC.Routes())
				}
				return chk.wrap(t, exampleHandler(st))
			}, extra...)
			r.run(t, c)
			c.compareTranscript(r.name)
		})
	}
	if t.Failed() {
		return
	}
	t.Logf("%d exchanges of %d rows checked against docs/openapi.yaml: %d accepted requests valid, %d refused for their shape invalid",
		chk.checked, len(rows), chk.accepted, chk.refused)

	t.Run("every_golden_has_a_row", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(testdataDir(), "*.golden"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no golden transcripts found: %v", err)
		}
		names := make(map[string]bool, len(rows))
		for _, r := range rows {
			names[r.name] = true
		}
		// The resource rows' transcripts are two services' exchanges: the
		// issuer's API (the rows above cover it) and the verify-only
		// service's own routes, which this document does not describe.
		for _, name := range resourceRows {
			names[name] = true
		}
		for _, f := range files {
			if name := strings.TrimSuffix(filepath.Base(f), ".golden"); !names[name] {
				t.Errorf("%s belongs to no row: its exchanges are not checked", f)
			}
		}
	})
	t.Run("paths_are_the_routes", func(t *testing.T) {
		want := append(chk.routePatterns(), "/.well-known/jwks.json")
		var got []string
		for p := range doc.Paths.Map() {
			got = append(got, p)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("docs/openapi.yaml describes the paths\n  %v\nthe API serves\n  %v", got, want)
		}
	})
	t.Run("prose_describes_the_same_api", func(t *testing.T) {
		// docs/http-api.md names every documented operation in its
		// endpoint table and every error code in its error table.
		prose, err := os.ReadFile(filepath.Join(docsDir(), "http-api.md"))
		if err != nil {
			t.Fatal(err)
		}
		for p, item := range doc.Paths.Map() {
			for m := range item.Operations() {
				if !bytes.Contains(prose, []byte("| `"+m+" "+p)) {
					t.Errorf("docs/http-api.md's endpoint table has no row for %s %s", m, p)
				}
			}
		}
		for _, code := range doc.Components.Schemas["Error"].Value.Properties["error"].Value.Enum {
			if !bytes.Contains(prose, []byte(fmt.Sprintf("| `%s` | ", code))) {
				t.Errorf("docs/http-api.md's error table has no row for %s", code)
			}
		}
	})
	t.Run("every_operation_exercised", func(t *testing.T) {
		for p, item := range doc.Paths.Map() {
			for m := range item.Operations() {
				if !chk.exercised(m + " " + p) {
					t.Errorf("%s %s is documented but no e2e row exercises it", m, p)
				}
			}
		}
	})
}

// loadOpenAPI loads and validates docs/openapi.yaml.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	path := filepath.Join(docsDir(), "openapi.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s is OpenAPI %s, want 3.1", path, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", path, err)
	}
	return doc
}

// docsDir is the repository's docs folder.
func docsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "docs")
}

// exampleHandler is examples/nethttp's newHandler (a main package cannot
// be imported): the library's routes, the JWK Set, the example's
// application route and a JSON 404.
func exampleHandler(st *config.Stack) http.Handler {
	mux := http.NewServeMux()
	st.Auth.Mount(mux)
	if st.OIDC != nil {
		st.OIDC.Mount(mux)
	}
	mux.Handle("/.well-known/jwks.json", token.JWKSHandler(st.Keys))
	mux.Handle("GET "+ClaimsPath, st.Auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := auth.ClaimsAs[map[string]any](r.Context())
		if claims == nil {
			claims = map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(w).Encode(claims)
	})))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, auth.ErrNotFound)
	}))
	return mux
}

// apiChecker validates exchanges against the document.
type apiChecker struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options

	mu       sync.Mutex
	seen     map[string]bool // "METHOD /path" of operations exercised
	routes   []string
	checked  int // exchanges checked
	accepted int // requests (2xx) validated
	refused  int // requests refused for their shape, refused by the document too
}

// shapeErrors are the descriptions of the 400s auth gives for a body's
// shape rather than its values: what a JSON Schema can say.
var shapeErrors = []string{
	"the body must be application/json",
	"the body is not a JSON object of the expected fields and types",
	"the body holds more than one JSON value",
}

func refusedForShape(body []byte) bool {
	var e auth.ErrorBody
	return json.Unmarshal(body, &e) == nil && slices.Contains(shapeErrors, e.Description)
}

func newAPIChecker(t *testing.T, doc *openapi3.T) *apiChecker {
	t.Helper()
	// The document's server is the examples' default address; the test
	// servers listen elsewhere, so match any host.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiChecker{
		doc: doc, router: router, seen: map[string]bool{},
		opts: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    presentedCredential,
		},
	}
}

// presentedCredential accepts a request for a security scheme when it
// carries that scheme's credential (whether the token is good is the
// server's business, and the answer's status says).
func presentedCredential(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearer":
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			return nil
		}
	case "cookie":
		if c, err := r.Cookie(auth.DefaultAccessCookie); err == nil && c.Value != "" && r.Header.Get("Authorization") == "" {
			return nil
		}
	}
	return fmt.Errorf("no %s credential", in.SecuritySchemeName)
}

func (c *apiChecker) noteRoutes(rs []auth.Route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rs {
		if !slices.Contains(c.routes, r.Pattern) {
			c.routes = append(c.routes, r.Pattern)
		}
	}
}

func (c *apiChecker) routePatterns() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.routes)
}

func (c *apiChecker) exercised(op string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[op]
}

// wrap serves next and checks each exchange; a mismatch fails t.
func (c *apiChecker) wrap(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("%s %s: reading the request body: %v", r.Method, r.URL.Path, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if r.URL.Path == ClaimsPath {
			return // the example's own route, not part of the API the document describes
		}
		if err := c.check(r, body, rec); err != nil {
			t.Errorf("%s %s -> %d does not agree with docs/openapi.yaml: %v", r.Method, r.URL.RequestURI(), rec.status, err)
		}
	})
}

// check validates one exchange.
func (c *apiChecker) check(r *http.Request, body []byte, rec *recorder) error {
	ctx := context.Background()
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }

	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	if req.Method == http.MethodHead {
		// Served wherever GET is, without a body: the GET operation must
		// declare the status.
		get := req.Clone(ctx)
		get.Method = http.MethodGet
		if route, _, err := c.router.FindRoute(get); err == nil {
			if route.Operation.Responses.Status(rec.status) == nil {
				return fmt.Errorf("status not declared for GET %s", route.Path)
			}
			return nil
		}
	}
	route, params, err := c.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if rec.status != http.StatusNotFound {
			return fmt.Errorf("the path is not described, yet the answer is %d, not 404", rec.status)
		}
		return c.checkComponent(req, rec, "NotFound")
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if rec.status != http.StatusMethodNotAllowed {
			return fmt.Errorf("the method is not described for this path, yet the answer is %d, not 405", rec.status)
		}
		if err := c.checkAllow(req, rec.Header().Get("Allow")); err != nil {
			return err
		}
		return c.checkComponent(req, rec, "MethodNotAllowed")
	case err != nil:
		return fmt.Errorf("finding the route: %w", err)
	}
	c.mu.Lock()
	c.seen[route.Method+" "+route.Path] = true
	c.mu.Unlock()

	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.opts}
	if rec.status == http.StatusBadRequest && refusedForShape(rec.body.Bytes()) {
		// Refused by the server for the body's shape (type, members,
		// media type): the document must refuse it too.
		c.mu.Lock()
		c.refused++
		c.mu.Unlock()
		if openapi3filter.ValidateRequest(ctx, in) == nil {
			return fmt.Errorf("the server refused the body's shape, yet the document accepts this request")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if rec.status >= 200 && rec.status < 300 {
		// Accepted by the server: the document must accept it too.
		c.mu.Lock()
		c.accepted++
		c.mu.Unlock()
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the server accepted a request the document refuses: %w", err)
		}
	}
	return c.validateResponse(ctx, in, rec)
}

func (c *apiChecker) validateResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, rec *recorder) error {
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.Header(),
		Options:                c.opts,
	}
	out.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if rec.body.Len() == 0 {
		return nil
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("response Content-Type %q, want application/json", ct)
	}
	return nil
}

// checkComponent validates an answer against the document's response
// component name, for answers OpenAPI cannot attach to an operation.
func (c *apiChecker) checkComponent(req *http.Request, rec *recorder, name string) error {
	ref := c.doc.Components.Responses[name]
	if ref == nil {
		return fmt.Errorf("docs/openapi.yaml has no response component %s", name)
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(rec.status, ref))
	route := &routers.Route{Spec: c.doc, Path: req.URL.Path, Method: req.Method, Operation: op}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: c.opts}
	return c.validateResponse(context.Background(), in, rec)
}

// checkAllow compares a 405's Allow header with the methods the document
// gives the request's path.
func (c *apiChecker) checkAllow(req *http.Request, allow string) error {
	var documented []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := req.Clone(context.Background())
		probe.Method = m
		if _, _, err := c.router.FindRoute(probe); err == nil {
			documented = append(documented, m)
		}
	}
	var got []string
	for _, m := range strings.Split(allow, ",") {
		if m = strings.TrimSpace(m); m != "" && !(m == "HEAD" && slices.Contains(documented, "GET")) {
			got = append(got, m)
		}
	}
	sort.Strings(got)
	if len(documented) == 0 || !slices.Equal(got, documented) {
		return fmt.Errorf("Allow: %q, but the document gives this path %v", allow, documented)
	}
	return nil
}

// recorder passes a response through and keeps its status and body.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
