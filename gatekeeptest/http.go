package gatekeeptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Request returns a server request (httptest.NewRequest) for method and
// target with body (nil for none) carrying accessToken as its bearer
// token; an empty accessToken sets no Authorization header. A body gets
// Content-Type application/json.
func Request(method, target, accessToken string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if accessToken != "" {
		r.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return r
}

// RequestAs is [Request] with a token [Kit.MintAccess] mints for userID
// with roles, and no body.
func (k *Kit) RequestAs(t testing.TB, method, target, userID string, roles ...string) *http.Request {
	t.Helper()
	return Request(method, target, k.MintAccess(t, userID, roles...), nil)
}

// Serve serves r with h and returns the recorded response. h is any
// http.Handler: a net/http mux or middleware chain, a chi router, a gin
// engine.
func Serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
