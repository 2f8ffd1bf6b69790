package config_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/token"
)

// BenchmarkRequireRotation measures one authenticated request through
// Require with key rotation off (one key) and on (a Rotator over the
// store's ring, here holding a next, an active and a retiring key), side
// by side: warm is the default verified-token cache, cold verifies every
// request in full. The memory store keeps the store's own cost out.
func BenchmarkRequireRotation(b *testing.B) {
	kek := newKEKText()
	for _, alg := range []token.Algorithm{token.HS256, token.ES256} {
		for _, rot := range []string{"off", "on"} {
			env := map[string]string{"JWT_ALG": string(alg), "PASSWORD_HASH": "bcrypt"}
			if rot == "on" {
				for k, v := range rotationEnv(kek, alg) {
					env[k] = v
				}
			} else if alg == token.HS256 {
				env["JWT_SECRET"] = secret32
			}
			cfg, err := config.FromLookup(lookup(env))
			if err != nil {
				b.Fatal(err)
			}
			clk := &fakeClock{}
			clk.ns.Store(time.Now().UnixNano())
			st, err := config.Build(context.Background(), cfg, config.WithClock(clk.Now), config.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			if rot == "on" {
				// Walk the ring to next + active + retiring, as it is most
				// of the time.
				for _, d := range []time.Duration{time.Hour, 10 * time.Minute, 50 * time.Minute} {
					clk.Advance(d)
					if err := st.Rotator.Sync(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				if n := len(st.Keys.Keys()); n != 3 {
					b.Fatalf("%d keys in the set, want next, active and retiring", n)
				}
			}
			code, reg := serve(b, st).call(b, "POST", "/auth/register", "", map[string]string{"username": "bench", "password": "bench-password-Zq9"})
			if code != http.StatusCreated {
				b.Fatalf("register: %d %v", code, reg)
			}
			tok := reg["access_token"].(string)
			var source token.KeySource = st.Keys
			if st.Rotator != nil {
				source = st.Rotator
			}
			cold, err := token.NewVerifier(source, token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience), token.WithClock(clk.Now))
			if err != nil {
				b.Fatal(err)
			}
			for _, path := range []struct {
				name string
				v    token.Verifier
				opts []auth.Option
			}{
				{"warm", st.Verifier, nil},
				{"cold", cold, nil}, // a verifier without a cache
			} {
				b.Run(string(alg)+"/"+path.name+"/rotation-"+rot, func(b *testing.B) {
					a, err := auth.New(st.Signer, path.v, st.Store, append([]auth.Option{auth.WithClock(clk.Now),
						auth.WithIssuer(cfg.Issuer), auth.WithAudience(cfg.Audience), auth.WithLogger(slog.New(slog.DiscardHandler))}, path.opts...)...)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = a.Close() })
					h := a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
					r := httptest.NewRequest("GET", "/private", nil)
					r.Header.Set("Authorization", "Bearer "+tok)
					w := httptest.NewRecorder()
					b.ReportAllocs()
					for b.Loop() {
						h.ServeHTTP(w, r)
					}
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				})
			}
		}
	}
}
