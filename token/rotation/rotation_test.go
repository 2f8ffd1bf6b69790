package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/token"
	"github.com/gatekeep/gatekeep/token/rotation"
)

func newMemory(t testing.TB) *memory.Store {
	t.Helper()
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestLifecycle walks one key through next, active, retiring and deleted
// on one instance, for every algorithm.
func TestLifecycle(t *testing.T) {
	for _, alg := range token.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			clk := newClock()
			st := newMemory(t)
			var logs syncBuffer
			in := newInstance(t, st, newKEK(t), alg, clk, slog.New(slog.NewJSONHandler(&logs, nil)))
			first := states(t, st)[store.KeyActive]
			if len(first) != 1 || in.r.KeySet().Active() == nil || in.r.KeySet().Active().KID() != first[0] {
				t.Fatalf("after New: ring %v, key set active %v; want the first key active in both", states(t, st), in.r.KeySet().Active())
			}
			// Not yet due: nothing changes.
			clk.Advance(every - prepublish - time.Second)
			in.sync(t)
			if s := states(t, st); len(s[store.KeyNext]) != 0 {
				t.Fatalf("a next key before its time: %v", s)
			}

			// Pre-publication: the next key verifies and is in the JWK Set,
			// but nothing signs with it.
			clk.Advance(time.Second)
			in.sync(t)
			s := states(t, st)
			if len(s[store.KeyNext]) != 1 || len(s[store.KeyActive]) != 1 {
				t.Fatalf("at every-prepublish: ring %v, want one next and one active", s)
			}
			next := s[store.KeyNext][0]
			if k, err := in.r.LookupKey(context.Background(), next); err != nil || k.KID() != next {
				t.Errorf("the next key is not in the verifier: %v", err)
			}
			if !strings.HasPrefix(string(alg), "HS") && !jwksKids(in)[next] {
				t.Errorf("the next key is not in the JWK Set")
			}
			if strings.HasPrefix(string(alg), "HS") && len(in.r.KeySet().JWKS().Keys) != 0 {
				t.Errorf("HMAC keys in the JWK Set")
			}
			old := in.sign(t, clk)
			if got := kidOf(t, old); got != first[0] {
				t.Errorf("signing with %q during pre-publication, want the active %q", got, first[0])
			}

			// Due: the next key activates, the old one retires and still
			// verifies what it signed.
			clk.Advance(prepublish)
			in.sync(t)
			s = states(t, st)
			if fmt.Sprint(s[store.KeyActive]) != "["+next+"]" || fmt.Sprint(s[store.KeyRetiring]) != fmt.Sprint(first) {
				t.Fatalf("at every: ring %v, want %s active and %s retiring", s, next, first[0])
			}
			if got := kidOf(t, in.sign(t, clk)); got != next {
				t.Errorf("signing with %q after activation, want %q", got, next)
			}
			if _, err := in.v.Verify(context.Background(), token.Access, old); err != nil {
				t.Errorf("a token of the retiring key no longer verifies: %v", err)
			}

			// The retiring key goes once every token it signed has expired.
			clk.Advance(retain + reload - time.Second)
			in.sync(t)
			if s := states(t, st); len(s[store.KeyRetiring]) != 1 {
				t.Fatalf("retiring key deleted early: %v", s)
			}
			clk.Advance(time.Second)
			in.sync(t)
			s = states(t, st)
			if len(s[store.KeyRetiring]) != 0 {
				t.Fatalf("retiring key kept past its time: %v", s)
			}
			if _, err := in.r.LookupKey(context.Background(), first[0]); !errors.Is(err, token.ErrUnknownKey) {
				t.Errorf("the deleted key still looks up: %v", err)
			}

			out := logs.String()
			for _, ev := range []string{"signing key created", "signing key activated", "signing key retiring", "signing key deleted"} {
				if !strings.Contains(out, ev) {
					t.Errorf("no audit event %q in %s", ev, out)
				}
			}
			if strings.Contains(out, "PRIVATE") || strings.Contains(out, "sealed") {
				t.Errorf("key material in the log: %s", out)
			}
		})
	}
}

// TestLateNextIsStillPrepublished: when no instance ran at the time the
// next key was due, the key created late still waits out the whole
// pre-publication before it signs.
func TestLateNextIsStillPrepublished(t *testing.T) {
	clk := newClock()
	st := newMemory(t)
	in := newInstance(t, st, newKEK(t), token.ES256, clk, nil)
	clk.Advance(10 * every)
	in.sync(t)
	s := states(t, st)
	if len(s[store.KeyNext]) != 1 {
		t.Fatalf("ring %v, want a next key", s)
	}
	clk.Advance(prepublish - time.Second)
	in.sync(t)
	if s := states(t, st); len(s[store.KeyNext]) != 1 {
		t.Fatalf("next key activated before its pre-publication ended: %v", s)
	}
	clk.Advance(time.Second)
	in.sync(t)
	if s := states(t, st); len(s[store.KeyNext]) != 0 || len(s[store.KeyRetiring]) != 1 {
		t.Fatalf("next key not activated after its pre-publication: %v", s)
	}
}

// TestRacingInstances: several instances on one store sync at once at
// every moment of several rotations; each step happens exactly once.
func TestRacingInstances(t *testing.T) {
	clk := newClock()
	st := newMemory(t)
	kek := newKEK(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const n = 4
	ins := make([]*instance, n)
	for i := range ins {
		ins[i] = newInstance(t, st, kek, token.EdDSA, clk, log)
	}
	for range 5 * int(every/(5*time.Minute)) {
		clk.Advance(5 * time.Minute)
		var wg sync.WaitGroup
		for _, in := range ins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := in.r.Sync(context.Background()); err != nil {
					t.Errorf("Sync: %v", err)
				}
			}()
		}
		wg.Wait()
		s := states(t, st)
		if len(s[store.KeyActive]) != 1 || len(s[store.KeyNext]) > 1 {
			t.Fatalf("ring %v: want exactly one active and at most one next", s)
		}
		for _, in := range ins {
			if got := in.r.KeySet().Active().KID(); got != s[store.KeyActive][0] {
				t.Fatalf("an instance signs with %q after Sync, the ring's active key is %q", got, s[store.KeyActive][0])
			}
		}
	}
	out := logs.String()
	if c, a := strings.Count(out, "signing key created"), strings.Count(out, "signing key activated"); c != 6 || a != 5 {
		t.Errorf("%d keys created and %d activated over 5 rotations, want 6 and 5 (each step exactly once)", c, a)
	}
}

// TestFirstKeyRace: instances starting together on an empty ring agree on
// one first key.
func TestFirstKeyRace(t *testing.T) {
	clk := newClock()
	st := newMemory(t)
	kek := newKEK(t)
	ins := make([]*instance, 6)
	var wg sync.WaitGroup
	for i := range ins {
		wg.Add(1)
		go func() { defer wg.Done(); ins[i] = newInstance(t, st, kek, token.ES256, clk, nil) }()
	}
	wg.Wait()
	s := states(t, st)
	if len(s[store.KeyActive]) != 1 || len(s) != 1 {
		t.Fatalf("ring %v after a racing start, want exactly one key, active", s)
	}
	for _, in := range ins {
		if in.r.KeySet().Active().KID() != s[store.KeyActive][0] {
			t.Errorf("an instance signs with another key than the ring's")
		}
	}
}

// TestRefusesUnopenable: an instance whose key-encryption key does not
// open the ring, or that meets a tampered or swapped record, refuses to
// sign with it and writes nothing.
func TestRefusesUnopenable(t *testing.T) {
	ctx := context.Background()
	clk := newClock()

	t.Run("wrong KEK at start", func(t *testing.T) {
		st := newMemory(t)
		newInstance(t, st, newKEK(t), token.ES256, clk, nil)
		before, _ := st.SigningKeys(ctx)
		_, err := rotation.New(ctx, st, newKEK(t), token.ES256, every, rotation.WithClock(clk.Now),
			rotation.WithPrepublish(prepublish), rotation.WithReloadInterval(reload), rotation.WithLogger(slog.New(slog.DiscardHandler)))
		if !errors.Is(err, rotation.ErrNoSigningKey) || !errors.Is(err, token.ErrSealed) {
			t.Fatalf("New with another KEK: %v, want ErrNoSigningKey and ErrSealed", err)
		}
		after, _ := st.SigningKeys(ctx)
		if after.Version != before.Version || len(after.Keys) != len(before.Keys) {
			t.Errorf("an instance with the wrong KEK wrote to the ring: version %d -> %d", before.Version, after.Version)
		}
	})

	// Records written through the store's API with sealed keys that must
	// not open: altered bytes, and another record's sealed key (kid swap).
	for _, row := range []struct {
		name   string
		forge  func(good *store.SigningKey) []byte
		forAlg token.Algorithm
	}{
		{"tampered record", func(g *store.SigningKey) []byte {
			b := append([]byte(nil), g.Sealed...)
			b[len(b)/2] ^= 1
			return b
		}, token.ES256},
		{"kid swap", func(g *store.SigningKey) []byte { return g.Sealed }, token.ES256},
	} {
		t.Run(row.name+" as the active key", func(t *testing.T) {
			src := newMemory(t)
			kek := newKEK(t)
			newInstance(t, src, kek, row.forAlg, clk, nil)
			good, _ := src.SigningKeys(ctx)
			st := newMemory(t)
			forged := &store.SigningKey{ID: "forged-kid", Algorithm: string(row.forAlg), State: store.KeyActive,
				CreatedAt: clk.Now(), ActivatedAt: clk.Now(), Sealed: row.forge(good.Keys[0])}
			if row.name == "tampered record" {
				forged.ID = good.Keys[0].ID
			}
			if _, err := st.CreateSigningKey(ctx, 0, forged); err != nil {
				t.Fatal(err)
			}
			_, err := rotation.New(ctx, st, kek, row.forAlg, every, rotation.WithClock(clk.Now),
				rotation.WithPrepublish(prepublish), rotation.WithReloadInterval(reload), rotation.WithLogger(slog.New(slog.DiscardHandler)))
			if !errors.Is(err, rotation.ErrNoSigningKey) || !errors.Is(err, token.ErrSealed) {
				t.Fatalf("New over a %s: %v, want ErrNoSigningKey and ErrSealed", row.name, err)
			}
			if r, _ := st.SigningKeys(ctx); r.Version != 1 || len(r.Keys) != 1 {
				t.Errorf("the instance wrote to the ring (version %d, %d keys) instead of refusing", r.Version, len(r.Keys))
			}
		})
	}

	t.Run("an unopenable next key is never activated", func(t *testing.T) {
		st := newMemory(t)
		kek := newKEK(t)
		in := newInstance(t, st, kek, token.ES256, clk, nil)
		ring, _ := st.SigningKeys(ctx)
		swapped := &store.SigningKey{ID: "intruder", Algorithm: "ES256", State: store.KeyNext, CreatedAt: clk.Now(), Sealed: ring.Keys[0].Sealed}
		if _, err := st.CreateSigningKey(ctx, ring.Version, swapped); err != nil {
			t.Fatal(err)
		}
		active := in.r.KeySet().Active().KID()
		clk.Advance(3 * every)
		if err := in.r.Sync(ctx); !errors.Is(err, rotation.ErrUnopenable) {
			t.Fatalf("Sync over an unopenable next key: %v, want ErrUnopenable", err)
		}
		s := states(t, st)
		if fmt.Sprint(s[store.KeyActive]) != "["+active+"]" || fmt.Sprint(s[store.KeyNext]) != "[intruder]" {
			t.Errorf("ring %v: the instance changed it", s)
		}
		if _, err := in.r.LookupKey(ctx, "intruder"); err == nil {
			t.Errorf("the unopenable key verifies")
		}
		if got := kidOf(t, in.sign(t, clk)); got != active {
			t.Errorf("signing with %q, want the still-valid active key %q", got, active)
		}
	})
}

// countingStore counts the reads of a real store.
type countingStore struct {
	store.KeyStore
	reads atomic.Int64
}

func (c *countingStore) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	c.reads.Add(1)
	return c.KeyStore.SigningKeys(ctx)
}

// TestUnknownKidReloadsOncePerInterval: tokens naming a kid the instance
// does not know prompt one reload per interval, never one per request;
// a kid another instance just published is found by that reload.
func TestUnknownKidReloadsOncePerInterval(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	mem := newMemory(t)
	cs := &countingStore{KeyStore: mem}
	kek := newKEK(t)
	a := newInstance(t, mem, kek, token.ES256, clk, nil)
	b := newInstance(t, cs, kek, token.ES256, clk, nil)
	base := cs.reads.Load()
	clk.Advance(every - prepublish - time.Second)

	// A token with a kid nobody has, many times over.
	other := newInstance(t, newMemory(t), newKEK(t), token.ES256, clk, nil)
	forged := other.sign(t, clk)
	for range 1000 {
		if _, err := b.v.Verify(ctx, token.Access, forged); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v, want ErrUnknownKey", err)
		}
	}
	if n := cs.reads.Load() - base; n != 1 {
		t.Fatalf("1000 tokens with an unknown kid made %d store reads, want 1", n)
	}

	// A creates its next key; B has not reloaded. Within the same
	// interval B does not read again; in the next one, the first unknown
	// kid makes B find the key.
	clk.Advance(time.Second)
	a.sync(t)
	next := states(t, mem)[store.KeyNext][0]
	if _, err := b.r.LookupKey(ctx, next); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("B found the next key without a reload: %v", err)
	}
	clk.Advance(reload)
	if k, err := b.r.LookupKey(ctx, next); err != nil || k.KID() != next {
		t.Fatalf("B did not find the next key by an unknown-kid reload: %v", err)
	}
	if n := cs.reads.Load() - base; n != 2 {
		t.Errorf("%d store reads, want 2", n)
	}
	// Known kids never read the store.
	tok := b.sign(t, clk)
	for range 1000 {
		if _, err := b.v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := cs.reads.Load() - base; n != 2 {
		t.Errorf("verifying known kids read the store: %d reads, want 2", n)
	}
}

func TestNewRefusals(t *testing.T) {
	ctx := context.Background()
	st := newMemory(t)
	kek := newKEK(t)
	rows := []struct {
		name  string
		st    store.KeyStore
		kek   *token.KEK
		alg   token.Algorithm
		every time.Duration
		opts  []rotation.Option
	}{
		{"nil store", nil, kek, token.ES256, every, nil},
		{"no KEK", st, nil, token.ES256, every, nil},
		{"no period", st, kek, token.ES256, 0, nil},
		{"unknown algorithm", st, kek, "none", every, nil},
		// The hazard of signing with a key another instance has not loaded.
		{"pre-publication below the reload interval", st, kek, token.ES256, every,
			[]rotation.Option{rotation.WithPrepublish(time.Second), rotation.WithReloadInterval(time.Minute)}},
		{"zero retention", st, kek, token.ES256, every, []rotation.Option{rotation.WithRetain(0)}},
		{"nil clock", st, kek, token.ES256, every, []rotation.Option{rotation.WithClock(nil)}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			rot, err := rotation.New(ctx, r.st, r.kek, r.alg, r.every, r.opts...)
			if !errors.Is(err, rotation.ErrInvalidConfig) {
				t.Errorf("got %v, want ErrInvalidConfig", err)
			}
			if rot != nil {
				_ = rot.Close()
			}
		})
	}
	if ring, _ := st.SigningKeys(ctx); ring.Version != 0 {
		t.Errorf("refused constructions wrote to the ring")
	}
}

// TestVerifyOnlyKeys: static keys verify, never sign, and sit beside the
// ring's keys.
func TestVerifyOnlyKeys(t *testing.T) {
	clk := newClock()
	old, err := token.GenerateKey(token.HS256, "previous")
	if err != nil {
		t.Fatal(err)
	}
	oldKS, _ := token.NewKeySet(old)
	oldSigner, _ := token.NewSigner(oldKS, token.WithClock(clk.Now))
	tok, err := oldSigner.Sign(token.Access, &token.Claims{Subject: "u", ExpiresAt: clk.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, newMemory(t), newKEK(t), token.HS256, clk, nil, rotation.WithVerifyOnly(old))
	if _, err := in.v.Verify(context.Background(), token.Access, tok); err != nil {
		t.Errorf("a token of a verify-only key: %v", err)
	}
	if kidOf(t, in.sign(t, clk)) == "previous" {
		t.Errorf("signed with the verify-only key")
	}
}

// TestStepCostsRequestsNoRead: when another instance activates the next
// key, this instance verifies the new key's tokens at once from what its
// last reload loaded: no request waits on the store for a rotation.
func TestStepCostsRequestsNoRead(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	mem := newMemory(t)
	cs := &countingStore{KeyStore: mem}
	kek := newKEK(t)
	a := newInstance(t, mem, kek, token.ES256, clk, nil)
	b := newInstance(t, cs, kek, token.ES256, clk, nil)
	clk.Advance(every - prepublish)
	a.sync(t) // creates the next key
	b.sync(t) // B's periodic reload loads it
	clk.Advance(prepublish)
	a.sync(t) // activates it; B has not reloaded since
	base := cs.reads.Load()
	tok := a.sign(t, clk)
	if kidOf(t, tok) == b.r.KeySet().Active().KID() {
		t.Fatal("A did not rotate")
	}
	for range 1000 {
		if _, err := b.v.Verify(ctx, token.Access, tok); err != nil {
			t.Fatalf("B refuses the new key's token: %v", err)
		}
	}
	if n := cs.reads.Load() - base; n != 0 {
		t.Errorf("verifying the new key's tokens made %d store reads, want 0", n)
	}
}

// TestRotateNow: a forced rotation creates the next key at once, refuses to
// activate it before its pre-publication, then activates it ahead of the
// schedule; the old key keeps verifying as retiring.
func TestRotateNow(t *testing.T) {
	clk := newClock()
	st := newMemory(t)
	in := newInstance(t, st, newKEK(t), token.ES256, clk, slog.New(slog.DiscardHandler))
	first := states(t, st)[store.KeyActive][0]
	old := in.sign(t, clk)

	step, err := in.r.RotateNow(context.Background())
	if err != nil || step.Action != "created" || step.Kid == "" {
		t.Fatalf("first RotateNow: %+v %v", step, err)
	}
	if s := states(t, st); fmt.Sprint(s[store.KeyNext]) != "["+step.Kid+"]" {
		t.Fatalf("ring %v, want %s next", s, step.Kid)
	}
	if !jwksKids(in)[step.Kid] {
		t.Error("the forced next key is not in the JWK Set")
	}
	_, err = in.r.RotateNow(context.Background())
	var early *rotation.TooEarlyError
	if !errors.As(err, &early) || !errors.Is(err, rotation.ErrTooEarly) || early.Kid != step.Kid {
		t.Fatalf("activating before the pre-publication: %v", err)
	}
	if got := kidOf(t, in.sign(t, clk)); got != first {
		t.Fatalf("signing with %s before the forced activation", got)
	}

	clk.Advance(prepublish)
	act, err := in.r.RotateNow(context.Background())
	if err != nil || act.Action != "activated" || act.Kid != step.Kid {
		t.Fatalf("second RotateNow: %+v %v", act, err)
	}
	in.sync(t) // what every instance does at its next reload
	s := states(t, st)
	if fmt.Sprint(s[store.KeyActive]) != "["+step.Kid+"]" || fmt.Sprint(s[store.KeyRetiring]) != "["+first+"]" {
		t.Fatalf("after the forced rotation: %v", s)
	}
	if got := kidOf(t, in.sign(t, clk)); got != step.Kid {
		t.Errorf("signing with %s, want the new key %s", got, step.Kid)
	}
	if _, err := in.v.Verify(context.Background(), token.Access, old); err != nil {
		t.Errorf("a token of the retiring key no longer verifies: %v", err)
	}
}
