package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// RunKeyStore runs the conformance clauses of [store.KeyStore] against the
// stores newStore returns, one fresh store per subtest (as [Run] does).
// The store must start with an empty key ring.
func RunKeyStore(t *testing.T, newStore func(t *testing.T) store.KeyStore) {
	t.Helper()
	for _, c := range keyClauses() {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatalf("%s: newStore returned nil", c.name)
			}
			c.run(&kt{T: t, clause: c.name + " (" + c.text + ")"}, s)
		})
	}
}

type keyClause struct {
	name, text string
	run        func(t *kt, s store.KeyStore)
}

// kt is a testing.T whose failures name the KeyStore clause being checked.
type kt struct {
	*testing.T
	clause string
}

func (t *kt) Errorf(format string, args ...any) {
	t.T.Helper()
	t.T.Errorf("%s: %s", t.clause, fmt.Sprintf(format, args...))
}

func (t *kt) Fatalf(format string, args ...any) {
	t.T.Helper()
	t.T.Fatalf("%s: %s", t.clause, fmt.Sprintf(format, args...))
}

func (t *kt) must(err error, what string) {
	t.T.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func (t *kt) wantErr(err, target error, what string) {
	t.T.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
	}
}

// ring reads the ring, failing the clause on an error.
func (t *kt) ring(s store.KeyStore) *store.KeyRing {
	t.T.Helper()
	r, err := s.SigningKeys(t.Context())
	t.must(err, "SigningKeys")
	if r == nil {
		t.Fatalf("SigningKeys returned a nil ring")
	}
	return r
}

// key finds id in r, or nil.
func (r0 keyRingView) key(id string) *store.SigningKey {
	for _, k := range r0.Keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

type keyRingView struct{ *store.KeyRing }

var keyT0 = time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func newSigningKey(id string, state store.KeyState, created time.Time) *store.SigningKey {
	k := &store.SigningKey{ID: id, Algorithm: "ES256", State: state, CreatedAt: created,
		Sealed: []byte("sealed:" + id + "\x00\xff")}
	if state == store.KeyActive {
		k.ActivatedAt = created
	}
	return k
}

// create makes a key at the ring's current version and returns the new one.
func (t *kt) create(s store.KeyStore, k *store.SigningKey) int64 {
	t.T.Helper()
	v, err := s.CreateSigningKey(t.Context(), t.ring(s).Version, k)
	t.must(err, "CreateSigningKey "+k.ID)
	return v
}

// countStates counts the keys of r in each state.
func countStates(r *store.KeyRing) map[store.KeyState]int {
	n := map[store.KeyState]int{}
	for _, k := range r.Keys {
		n[k.State]++
	}
	return n
}

func keyClauses() []keyClause {
	return []keyClause{
		{"SigningKeys/empty", "a ring never written is at version 0 with no keys", func(t *kt, s store.KeyStore) {
			r := t.ring(s)
			if r.Version != 0 || len(r.Keys) != 0 {
				t.Errorf("got version %d with %d keys, want 0 and 0", r.Version, len(r.Keys))
			}
		}},
		{"CreateSigningKey/round trip", "a created key reads back with every field, at the next version", func(t *kt, s store.KeyStore) {
			k := newSigningKey("kid-1", store.KeyNext, keyT0)
			v, err := s.CreateSigningKey(t.Context(), 0, k)
			t.must(err, "CreateSigningKey")
			if v != 1 {
				t.Errorf("version after the first create: %d, want 1", v)
			}
			r := t.ring(s)
			if r.Version != 1 || len(r.Keys) != 1 {
				t.Fatalf("ring at version %d with %d keys, want 1 and 1", r.Version, len(r.Keys))
			}
			g := r.Keys[0]
			if g.ID != k.ID || g.Algorithm != k.Algorithm || g.State != store.KeyNext ||
				!sameTime(g.CreatedAt, k.CreatedAt) || !g.ActivatedAt.IsZero() || !g.RetireAt.IsZero() ||
				!bytes.Equal(g.Sealed, k.Sealed) {
				t.Errorf("read back %+v, want %+v", g, k)
			}
		}},
		{"CreateSigningKey/first active", "the first key of a ring may be created active, a second active one is refused", func(t *kt, s store.KeyStore) {
			a := newSigningKey("a", store.KeyActive, keyT0)
			t.create(s, a)
			r := t.ring(s)
			if g := (keyRingView{r}).key("a"); g == nil || g.State != store.KeyActive || !sameTime(g.ActivatedAt, keyT0) {
				t.Fatalf("created active key reads back as %+v", g)
			}
			_, err := s.CreateSigningKey(t.Context(), r.Version, newSigningKey("b", store.KeyActive, keyT0))
			t.wantErr(err, store.ErrConflict, "second active key")
			if r2 := t.ring(s); r2.Version != r.Version || len(r2.Keys) != 1 {
				t.Errorf("a refused create changed the ring: version %d, %d keys", r2.Version, len(r2.Keys))
			}
		}},
		{"CreateSigningKey/invalid", "an empty id, algorithm or sealed key, a zero CreatedAt or a retiring state is ErrInvalid", func(t *kt, s store.KeyStore) {
			rows := []struct {
				name string
				edit func(k *store.SigningKey)
			}{
				{"empty id", func(k *store.SigningKey) { k.ID = "" }},
				{"empty algorithm", func(k *store.SigningKey) { k.Algorithm = "" }},
				{"no sealed key", func(k *store.SigningKey) { k.Sealed = nil }},
				{"zero CreatedAt", func(k *store.SigningKey) { k.CreatedAt = time.Time{} }},
				{"retiring", func(k *store.SigningKey) { k.State = store.KeyRetiring }},
				{"no state", func(k *store.SigningKey) { k.State = "" }},
				{"active without ActivatedAt", func(k *store.SigningKey) { k.State = store.KeyActive; k.ActivatedAt = time.Time{} }},
			}
			for _, row := range rows {
				k := newSigningKey("x", store.KeyNext, keyT0)
				row.edit(k)
				_, err := s.CreateSigningKey(t.Context(), 0, k)
				t.wantErr(err, store.ErrInvalid, row.name)
			}
			if _, err := s.CreateSigningKey(t.Context(), 0, nil); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("nil key: got %v, want ErrInvalid", err)
			}
			if r := t.ring(s); r.Version != 0 || len(r.Keys) != 0 {
				t.Errorf("refused creates changed the ring: version %d, %d keys", r.Version, len(r.Keys))
			}
		}},
		{"CreateSigningKey/compare-and-swap", "a create at a version the ring has left, or with a taken id, is ErrConflict and changes nothing", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("a", store.KeyNext, keyT0))
			_, err := s.CreateSigningKey(t.Context(), 0, newSigningKey("b", store.KeyNext, keyT0))
			t.wantErr(err, store.ErrConflict, "stale version")
			_, err = s.CreateSigningKey(t.Context(), 7, newSigningKey("b", store.KeyNext, keyT0))
			t.wantErr(err, store.ErrConflict, "future version")
			_, err = s.CreateSigningKey(t.Context(), 1, newSigningKey("a", store.KeyNext, keyT0.Add(time.Hour)))
			t.wantErr(err, store.ErrConflict, "taken id")
			r := t.ring(s)
			if r.Version != 1 || len(r.Keys) != 1 || !sameTime(r.Keys[0].CreatedAt, keyT0) {
				t.Errorf("refused creates changed the ring: version %d, keys %+v", r.Version, r.Keys)
			}
		}},
		{"CreateSigningKey/odd ids", "ids with separators, braces, NUL and non-ASCII are kept apart and round-trip", func(t *kt, s store.KeyStore) {
			ids := []string{"a:b", "a", "{x}", "x\x00y", "x", "ключ", "*", "k/../k"}
			for i, id := range ids {
				t.create(s, newSigningKey(id, store.KeyNext, keyT0.Add(time.Duration(i)*time.Second)))
			}
			r := t.ring(s)
			if len(r.Keys) != len(ids) {
				t.Fatalf("%d keys, want %d", len(r.Keys), len(ids))
			}
			for i, id := range ids {
				if r.Keys[i].ID != id || !bytes.Equal(r.Keys[i].Sealed, []byte("sealed:"+id+"\x00\xff")) {
					t.Errorf("key %d reads back as %q, want %q with its own sealed key", i, r.Keys[i].ID, id)
				}
			}
		}},
		{"SigningKeys/order", "keys are ordered by CreatedAt, then id", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("c", store.KeyNext, keyT0.Add(time.Minute)))
			t.create(s, newSigningKey("b", store.KeyNext, keyT0))
			t.create(s, newSigningKey("a", store.KeyNext, keyT0.Add(time.Minute)))
			var got []string
			for _, k := range t.ring(s).Keys {
				got = append(got, k.ID)
			}
			if fmt.Sprint(got) != "[b a c]" {
				t.Errorf("order %q, want [b a c]", got)
			}
		}},
		{"SigningKeys/copies", "changing a returned key, or the one passed in, changes nothing stored", func(t *kt, s store.KeyStore) {
			k := newSigningKey("a", store.KeyNext, keyT0)
			t.create(s, k)
			k.Sealed[0] ^= 0xff
			k.ID = "changed"
			r := t.ring(s)
			r.Keys[0].Sealed[1] ^= 0xff
			r.Keys[0].State = store.KeyActive
			g := t.ring(s).Keys[0]
			if g.ID != "a" || g.State != store.KeyNext || !bytes.Equal(g.Sealed, []byte("sealed:a\x00\xff")) {
				t.Errorf("stored key changed through a copy: %+v", g)
			}
		}},
		{"ActivateSigningKey/step", "activating a next key makes it active and the old active retiring until retireAt, in one version", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("old", store.KeyActive, keyT0))
			v := t.create(s, newSigningKey("new", store.KeyNext, keyT0.Add(time.Hour)))
			at, until := keyT0.Add(2*time.Hour), keyT0.Add(50*time.Hour)
			v2, err := s.ActivateSigningKey(t.Context(), v, "new", at, until)
			t.must(err, "ActivateSigningKey")
			if v2 != v+1 {
				t.Errorf("version %d after activation at %d, want %d", v2, v, v+1)
			}
			r := keyRingView{t.ring(s)}
			o, n := r.key("old"), r.key("new")
			if o == nil || o.State != store.KeyRetiring || !sameTime(o.RetireAt, until) || !sameTime(o.ActivatedAt, keyT0) {
				t.Errorf("old key after activation: %+v, want retiring until %v", o, until)
			}
			if n == nil || n.State != store.KeyActive || !sameTime(n.ActivatedAt, at) || !n.RetireAt.IsZero() {
				t.Errorf("new key after activation: %+v, want active since %v", n, at)
			}
			if c := countStates(r.KeyRing); c[store.KeyActive] != 1 {
				t.Errorf("%d active keys, want 1", c[store.KeyActive])
			}
		}},
		{"ActivateSigningKey/refusals", "a stale version, a key that is not next or missing, or a zero time changes nothing", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("act", store.KeyActive, keyT0))
			v := t.create(s, newSigningKey("nxt", store.KeyNext, keyT0))
			at, until := keyT0.Add(time.Hour), keyT0.Add(2*time.Hour)
			_, err := s.ActivateSigningKey(t.Context(), v-1, "nxt", at, until)
			t.wantErr(err, store.ErrConflict, "stale version")
			_, err = s.ActivateSigningKey(t.Context(), v, "act", at, until)
			t.wantErr(err, store.ErrConflict, "already active")
			_, err = s.ActivateSigningKey(t.Context(), v, "none", at, until)
			t.wantErr(err, store.ErrNotFound, "missing key")
			_, err = s.ActivateSigningKey(t.Context(), v, "nxt", time.Time{}, until)
			t.wantErr(err, store.ErrInvalid, "zero at")
			_, err = s.ActivateSigningKey(t.Context(), v, "nxt", at, time.Time{})
			t.wantErr(err, store.ErrInvalid, "zero retireAt")
			r := keyRingView{t.ring(s)}
			if r.Version != v || r.key("act").State != store.KeyActive || r.key("nxt").State != store.KeyNext {
				t.Errorf("refused activations changed the ring: version %d, keys %+v", r.Version, r.Keys)
			}
			// A retiring key cannot come back.
			v, err = s.ActivateSigningKey(t.Context(), v, "nxt", at, until)
			t.must(err, "activate nxt")
			_, err = s.ActivateSigningKey(t.Context(), v, "act", at, until)
			t.wantErr(err, store.ErrConflict, "retiring key")
		}},
		{"ActivateSigningKey/no active yet", "activating a next key in a ring without an active key retires nothing", func(t *kt, s store.KeyStore) {
			v := t.create(s, newSigningKey("n", store.KeyNext, keyT0))
			_, err := s.ActivateSigningKey(t.Context(), v, "n", keyT0, keyT0.Add(time.Hour))
			t.must(err, "ActivateSigningKey")
			c := countStates(t.ring(s))
			if c[store.KeyActive] != 1 || c[store.KeyRetiring] != 0 {
				t.Errorf("states after activation: %v, want one active", c)
			}
		}},
		{"DeleteSigningKey", "a next or retiring key is deleted; the active one, a missing one or a stale version is refused", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("old", store.KeyActive, keyT0))
			v := t.create(s, newSigningKey("new", store.KeyNext, keyT0))
			_, err := s.ActivateSigningKey(t.Context(), v, "new", keyT0, keyT0)
			t.must(err, "activate")
			v = t.create(s, newSigningKey("spare", store.KeyNext, keyT0))
			_, err = s.DeleteSigningKey(t.Context(), v, "new")
			t.wantErr(err, store.ErrConflict, "active key")
			_, err = s.DeleteSigningKey(t.Context(), v, "none")
			t.wantErr(err, store.ErrNotFound, "missing key")
			_, err = s.DeleteSigningKey(t.Context(), v-1, "old")
			t.wantErr(err, store.ErrConflict, "stale version")
			if r := t.ring(s); r.Version != v || len(r.Keys) != 3 {
				t.Fatalf("refused deletes changed the ring: version %d, %d keys", r.Version, len(r.Keys))
			}
			v2, err := s.DeleteSigningKey(t.Context(), v, "old")
			t.must(err, "delete retiring")
			v3, err := s.DeleteSigningKey(t.Context(), v2, "spare")
			t.must(err, "delete next")
			r := t.ring(s)
			if v2 != v+1 || v3 != v+2 || r.Version != v3 || len(r.Keys) != 1 || r.Keys[0].ID != "new" {
				t.Errorf("after deletes: versions %d %d, ring %d with %+v; want only the active key", v2, v3, r.Version, r.Keys)
			}
			_, err = s.DeleteSigningKey(t.Context(), v3, "old")
			t.wantErr(err, store.ErrNotFound, "deleted twice")
		}},
		{"KeyStore/cancelled context", "a cancelled context gives its error or ErrUnavailable and changes nothing", func(t *kt, s store.KeyStore) {
			v := t.create(s, newSigningKey("n", store.KeyNext, keyT0))
			c, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := s.SigningKeys(c); !ctxErr(err) {
				t.Errorf("SigningKeys: %v", err)
			}
			if _, err := s.CreateSigningKey(c, v, newSigningKey("m", store.KeyNext, keyT0)); !ctxErr(err) {
				t.Errorf("CreateSigningKey: %v", err)
			}
			if _, err := s.ActivateSigningKey(c, v, "n", keyT0, keyT0); !ctxErr(err) {
				t.Errorf("ActivateSigningKey: %v", err)
			}
			if _, err := s.DeleteSigningKey(c, v, "n"); !ctxErr(err) {
				t.Errorf("DeleteSigningKey: %v", err)
			}
			r := t.ring(s)
			if r.Version != v || len(r.Keys) != 1 || r.Keys[0].State != store.KeyNext {
				t.Errorf("cancelled calls changed the ring: version %d, keys %+v", r.Version, r.Keys)
			}
		}},
		{"CreateSigningKey/race", "of concurrent creates of different keys on one version exactly one wins, the others get ErrConflict", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("act", store.KeyActive, keyT0))
			v := t.ring(s).Version
			errs := race(8, func(i int) error {
				_, err := s.CreateSigningKey(t.Context(), v, newSigningKey(fmt.Sprintf("next-%d", i), store.KeyNext, keyT0))
				return err
			})
			checkOneWinner(t, errs)
			r := t.ring(s)
			if c := countStates(r); r.Version != v+1 || c[store.KeyNext] != 1 {
				t.Errorf("after the race: version %d (want %d), states %v (want one next)", r.Version, v+1, c)
			}
		}},
		{"CreateSigningKey/race for the first key", "of concurrent creates of a first active key exactly one wins", func(t *kt, s store.KeyStore) {
			errs := race(8, func(i int) error {
				_, err := s.CreateSigningKey(t.Context(), 0, newSigningKey(fmt.Sprintf("first-%d", i), store.KeyActive, keyT0))
				return err
			})
			checkOneWinner(t, errs)
			if c := countStates(t.ring(s)); c[store.KeyActive] != 1 || len(t.ring(s).Keys) != 1 {
				t.Errorf("after the race: states %v, want exactly one active key", c)
			}
		}},
		{"ActivateSigningKey/race", "of concurrent activations of different next keys on one version exactly one wins; never two active keys", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("act", store.KeyActive, keyT0))
			t.create(s, newSigningKey("n1", store.KeyNext, keyT0))
			v := t.create(s, newSigningKey("n2", store.KeyNext, keyT0))
			errs := race(8, func(i int) error {
				_, err := s.ActivateSigningKey(t.Context(), v, fmt.Sprintf("n%d", 1+i%2), keyT0.Add(time.Hour), keyT0.Add(2*time.Hour))
				return err
			})
			checkOneWinner(t, errs)
			r := t.ring(s)
			if c := countStates(r); r.Version != v+1 || c[store.KeyActive] != 1 || c[store.KeyRetiring] != 1 || c[store.KeyNext] != 1 {
				t.Errorf("after the race: version %d (want %d), states %v (want one of each)", r.Version, v+1, c)
			}
		}},
		{"DeleteSigningKey/race", "of concurrent changes on one version (deletes and a create) exactly one wins", func(t *kt, s store.KeyStore) {
			t.create(s, newSigningKey("act", store.KeyActive, keyT0))
			t.create(s, newSigningKey("n1", store.KeyNext, keyT0))
			v := t.create(s, newSigningKey("n2", store.KeyNext, keyT0))
			errs := race(6, func(i int) error {
				var err error
				switch i % 3 {
				case 0:
					_, err = s.DeleteSigningKey(t.Context(), v, "n1")
				case 1:
					_, err = s.DeleteSigningKey(t.Context(), v, "n2")
				default:
					_, err = s.CreateSigningKey(t.Context(), v, newSigningKey(fmt.Sprintf("n%d", 3+i), store.KeyNext, keyT0))
				}
				return err
			})
			checkOneWinner(t, errs)
			if r := t.ring(s); r.Version != v+1 {
				t.Errorf("after the race: version %d, want %d", r.Version, v+1)
			}
		}},
	}
}

// race runs n calls of f at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func checkOneWinner(t *kt, errs []error) {
	t.T.Helper()
	won, lost := count(errs, store.ErrConflict)
	if err := firstOther(errs, store.ErrConflict); err != nil {
		t.Fatalf("a racer failed otherwise: %v", err)
	}
	if won != 1 || lost != len(errs)-1 {
		t.Errorf("%d winners and %d ErrConflict among %d racers, want exactly one winner", won, lost, len(errs))
	}
}
