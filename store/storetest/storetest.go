package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// Run runs the whole conformance suite against the stores newStore
// returns: the clauses of [RunUserStore], [RunSessionStore], [RunRevoker]
// and [RunCounter], then those that span interfaces (one user's data
// isolated from another's across users, sessions and revocations; keys
// that look like separators; the optional [store.Pinger] and
// [store.WriteChecker]). It calls newStore once per subtest, with that
// subtest's t, so the store can register its cleanup with t.Cleanup.
// Subtests that wait for expiry run in parallel with each other; see the
// package documentation.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	if newStore == nil {
		t.Fatal("storetest: newStore is nil")
	}
	RunUserStore(t, func(t *testing.T) store.UserStore { return newStore(t) })
	RunSessionStore(t, func(t *testing.T) store.SessionStore { return newStore(t) })
	RunRevoker(t, func(t *testing.T) store.Revoker { return newStore(t) })
	RunCounter(t, func(t *testing.T) store.Counter { return newStore(t) })
	run(t, clauses(), newStore)
}

// clauses are the clauses Run adds to those of the four interfaces: the
// ones that need a whole store.Store.
func clauses() []clause {
	return append(crossClauses(), optionalTOTPClauses()...)
}

// RunUserStore runs the clauses of the [store.UserStore] contract against
// the stores newStore returns, one subtest per clause on a fresh store,
// as [Run] does. A store that keeps only accounts proves itself with it.
func RunUserStore(t *testing.T, newStore func(t *testing.T) store.UserStore) {
	t.Helper()
	run(t, userClauses(), newStore)
}

// RunSessionStore runs the clauses of the [store.SessionStore] contract
// against the stores newStore returns, one subtest per clause on a fresh
// store, as [Run] does.
func RunSessionStore(t *testing.T, newStore func(t *testing.T) store.SessionStore) {
	t.Helper()
	run(t, sessionClauses(), newStore)
}

// RunRevoker runs the clauses of the [store.Revoker] contract against the
// stores newStore returns, one subtest per clause on a fresh store, as
// [Run] does. A service that only verifies tokens holds a Revoker alone,
// and proves it with this.
func RunRevoker(t *testing.T, newStore func(t *testing.T) store.Revoker) {
	t.Helper()
	run(t, revokerClauses(), newStore)
}

// RunCounter runs the clauses of the [store.Counter] contract against the
// stores newStore returns, one subtest per clause on a fresh store, as
// [Run] does.
func RunCounter(t *testing.T, newStore func(t *testing.T) store.Counter) {
	t.Helper()
	run(t, counterClauses(), newStore)
}

// run runs each clause in its own subtest on a fresh store from newStore.
func run[S any](t *testing.T, cs []clauseOf[S], newStore func(t *testing.T) S) {
	t.Helper()
	if newStore == nil {
		t.Fatal("storetest: newStore is nil")
	}
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			if c.parallel {
				t.Parallel()
			}
			s := newStore(t)
			if any(s) == nil {
				t.Fatalf("%s: newStore returned nil", c.name)
			}
			c.run(&ct{T: t, clause: c.name + " (" + c.text + ")"}, s)
		})
	}
}

// clauseOf is one rule of a contract and the check that enforces it, run
// on a store of type S: the one interface the rule is about.
type clauseOf[S any] struct {
	// name is the subtest name: Interface method or area, then the rule.
	name string
	// text states the rule as the contract does; failures quote it.
	text string
	// parallel marks subtests that mostly wait for expiry.
	parallel bool
	run      func(t *ct, s S)
}

// clause is a rule that needs a whole store.Store: one that spans
// interfaces, or an optional ability found by type assertion.
type clause = clauseOf[store.Store]

// ct is a testing.T whose failures name the clause being checked.
type ct struct {
	*testing.T
	clause string
}

func (t *ct) Errorf(format string, args ...any) {
	t.T.Helper()
	t.T.Errorf("%s: %s", t.clause, fmt.Sprintf(format, args...))
}

func (t *ct) Fatalf(format string, args ...any) {
	t.T.Helper()
	t.T.Fatalf("%s: %s", t.clause, fmt.Sprintf(format, args...))
}

// must fails the clause when err is not nil.
func (t *ct) must(err error, what string) {
	t.T.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails the clause when err does not match target.
func (t *ct) wantErr(err, target error, what string) {
	t.T.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
	}
}

// wantCancelled fails the clause for each named call whose error is not
// what a store returns for a cancelled context.
func (t *ct) wantCancelled(errs map[string]error) {
	t.T.Helper()
	for _, name := range slices.Sorted(maps.Keys(errs)) {
		if err := errs[name]; !ctxErr(err) {
			t.Errorf("%s with a cancelled context returned %v, want context.Canceled or ErrUnavailable", name, err)
		}
	}
}

// Lifetimes used by the expiry clauses: short enough to keep the suite
// fast, long enough that a loaded CI machine does not see a record expire
// before the first read.
const (
	shortTTL = 200 * time.Millisecond
	// expiryWait is how long a clause waits for a shortTTL record to go.
	expiryWait = shortTTL + 250*time.Millisecond
	// long is a lifetime nothing in a test outlives.
	long = time.Hour
)

// ctx returns a context for one store call.
func ctx(t *ct) context.Context { return t.Context() }

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	return c
}

// ctxErr reports whether err is what a store should return for a cancelled
// context: the context's error or ErrUnavailable, wrapped or not.
func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable)
}

// now returns the current time at millisecond precision, which every store
// keeps exactly.
func now() time.Time { return time.Now().Truncate(time.Millisecond) }

// sameTime reports whether a and b are the same instant to the millisecond.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// near reports whether got is within tol of want.
func near(got, want time.Time, tol time.Duration) bool {
	d := got.Sub(want)
	return d <= tol && d >= -tol
}

// count returns how many errs are nil and how many match target.
func count(errs []error, target error) (nilN, matchN int) {
	for _, err := range errs {
		switch {
		case err == nil:
			nilN++
		case errors.Is(err, target):
			matchN++
		}
	}
	return nilN, matchN
}

// firstOther returns the first error that is neither nil nor target.
func firstOther(errs []error, target error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, target) {
			return err
		}
	}
	return nil
}
