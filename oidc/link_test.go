package oidc

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

func TestDeriveUsername(t *testing.T) {
	for _, row := range []struct {
		name string
		in   ExternalIdentity
		want string
	}{
		{"preferred", ExternalIdentity{PreferredUsername: "Alice", Email: "x@example.com"}, "alice"},
		{"email local part", ExternalIdentity{Email: "bob.smith@example.com"}, "bob.smith"},
		// An attack: names that look like another account's, or carry markup or separators.
		{"non-ASCII letters dropped", ExternalIdentity{PreferredUsername: "аdmin"}, "dmin"}, // Cyrillic а
		{"markup dropped", ExternalIdentity{PreferredUsername: "<script>x"}, "scriptx"},
		{"leading punctuation", ExternalIdentity{PreferredUsername: "..-_carol"}, "carol"},
		{"trailing punctuation", ExternalIdentity{PreferredUsername: "dave--"}, "dave"},
		{"nothing usable", ExternalIdentity{PreferredUsername: "!!!"}, "user"},
		{"one letter", ExternalIdentity{PreferredUsername: "e"}, "user"},
		{"empty", ExternalIdentity{}, "user"},
		{"long", ExternalIdentity{PreferredUsername: strings.Repeat("a", 100)}, strings.Repeat("a", maxUsernameBase)},
	} {
		t.Run(row.name, func(t *testing.T) {
			got := deriveUsername(&row.in)
			if got != row.want {
				t.Errorf("deriveUsername(%+v) = %q, want %q", row.in, got, row.want)
			}
			if _, err := store.CanonicalUsername(got); err != nil {
				t.Errorf("%q is not a usable username: %v", got, err)
			}
		})
	}
}

// FuzzCallback feeds the callback arbitrary state cookies and query
// strings: it must never panic, never sign anyone in, never answer 5xx
// other than 503 (an unreachable provider), and create nothing.
func FuzzCallback(f *testing.F) {
	f.Add("", "code=c&state=s")
	f.Add("eyJwIjoib3AiLCJzIjoicyIsIm4iOiJuIiwidiI6InYiLCJlIjo5OTk5OTk5OTk5OX0", "code=c&state=s")
	f.Add("%%%", "state=%00")
	svc := fuzzService(f) // one for all inputs: auth.New hashes a dummy password
	f.Fuzz(func(t *testing.T, cookie, query string) {
		req := httptest.NewRequest(http.MethodGet, "/auth/oidc/op/callback", nil)
		req.URL.RawQuery = query
		if cookie != "" {
			req.Header.Set("Cookie", StateCookie+"="+cookie)
		}
		rec := httptest.NewRecorder()
		svc.CallbackHandler().ServeHTTP(rec, req)
		if rec.Code < 400 || (rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable) {
			t.Fatalf("callback answered %d", rec.Code)
		}
		if us, _, _ := svc.st.ListUsers(t.Context(), "", 10); len(us) != 0 {
			t.Fatalf("a refused callback created %d users", len(us))
		}
	})
}

// A provider whose discovery failed is not asked again for a few seconds:
// requests do not queue, one after the other, behind a provider that does
// not answer.
func TestDiscoveryBackoff(t *testing.T) {
	svc := fuzzService(t)
	now := time.Now()
	svc.cfg.now = func() time.Time { return now }
	p := svc.providers["op"]
	if _, _, err := svc.setup(p); !errors.Is(err, ErrProviderUnavailable) || p.failedAt.IsZero() {
		t.Fatalf("setup of a closed port: %v, failedAt %v", err, p.failedAt)
	}
	p.failedAt = now.Add(-time.Second) // tell the retry from the first try
	if _, _, err := svc.setup(p); !errors.Is(err, ErrProviderUnavailable) || !p.failedAt.Equal(now.Add(-time.Second)) {
		t.Errorf("within the backoff: %v, and discovery ran again (failedAt %v)", err, p.failedAt)
	}
	now = now.Add(discoveryBackoff)
	if _, _, err := svc.setup(p); !errors.Is(err, ErrProviderUnavailable) || !p.failedAt.Equal(now) {
		t.Errorf("after the backoff discovery did not run again: %v, failedAt %v", err, p.failedAt)
	}
}
