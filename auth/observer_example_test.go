package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
)

// counters is an Observer keeping counts in atomics; a real one feeds
// Prometheus, OpenTelemetry or expvar the same way, labelled by
// AuthOutcome.String, Event.String and StoreCall.Op.
type counters struct {
	auth.NopObserver // the methods not written here do nothing
	outcomes         [auth.AuthUnavailable + 1]atomic.Int64
	logins           atomic.Int64
	storeErrors      atomic.Int64
}

func (c *counters) Authentication(_ context.Context, o auth.AuthOutcome) { c.outcomes[o].Add(1) }

func (c *counters) Event(_ context.Context, e auth.Event) {
	if e == auth.EventLogin || e == auth.EventRegister {
		c.logins.Add(1)
	}
}

func (c *counters) StoreCall(_ context.Context, call auth.StoreCall) {
	if call.Failed() {
		c.storeErrors.Add(1)
	}
}

// Counting authentications by outcome, logins and store errors with an
// Observer.
func ExampleWithObserver() {
	key, _ := token.NewHMACKey(token.HS256, "main", bytes.Repeat([]byte("s"), 32)) // use a real secret
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks)
	verifier, _ := token.NewVerifier(ks)
	st := memory.New()
	defer st.Close()
	m := &counters{}
	a, err := auth.New(signer, verifier, st, auth.WithObserver(m), auth.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := a.Register(context.Background(), auth.Registration{Username: "alice", Password: "correct horse battery staple"}, auth.Client{})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, bearer := range []string{tr.AccessToken, "", "not-a-token"} {
		r := httptest.NewRequest("GET", "/notes", nil)
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for o := auth.AuthOK; o <= auth.AuthUnavailable; o++ {
		fmt.Printf("%s=%d\n", o, m.outcomes[o].Load())
	}
	fmt.Println("logins:", m.logins.Load(), "store errors:", m.storeErrors.Load())
	// Output:
	// ok=1
	// no_token=1
	// invalid=1
	// revoked=0
	// unavailable=0
	// logins: 1 store errors: 0
}
