package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

type otherKey struct{}

// TestRequireContext: the context Require and Optional hand on carries the
// principal and is otherwise the request's own: its values, its
// cancellation, and a principal a handler puts in it again wins.
func TestRequireContext(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.register("ctx-user").AccessToken
	for _, mw := range []func(http.Handler) http.Handler{f.a.Require, f.a.Optional} {
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "kept"))
		var seen *Principal
		var inner context.Context
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			p, ok := FromContext(ctx)
			require.True(t, ok)
			seen, inner = p, ctx
			require.Equal(t, "kept", ctx.Value(otherKey{}))
			require.Nil(t, ctx.Value(struct{}{}))
			again := &Principal{UserID: "someone else"}
			q, ok := FromContext(NewContext(ctx, again))
			require.True(t, ok)
			require.Same(t, again, q)
			w.WriteHeader(http.StatusNoContent)
		}))
		r := httptest.NewRequest("GET", "/", nil).WithContext(parent)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusNoContent, w.Code)
		require.NotNil(t, seen)
		require.NotEmpty(t, seen.UserID)
		require.NotEmpty(t, seen.SessionID)
		require.NoError(t, inner.Err())
		cancel()
		<-inner.Done() // the request's cancellation reaches the handler's context
		require.ErrorIs(t, inner.Err(), context.Canceled)
	}
}
