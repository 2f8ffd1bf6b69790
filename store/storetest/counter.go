package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// windowTol is how far a store's window end may differ from the one the
// suite computes (a server's clock, a TTL read back in milliseconds).
const windowTol = time.Second

func counterClauses() []clauseOf[store.Counter] {
	return []clauseOf[store.Counter]{
		{
			name: "Counter/IncrCount",
			text: "Incr adds one and returns the window end, which later Incr calls do not move; Count reads the same",
			run: func(t *ct, s store.Counter) {
				start := time.Now()
				var first time.Time
				for i := int64(1); i <= 3; i++ {
					n, reset, err := s.Incr(ctx(t), "login:alice", time.Minute)
					t.must(err, "Incr")
					if n != i {
						t.Errorf("Incr #%d returned %d", i, n)
					}
					if i == 1 {
						first = reset
						if !near(reset, start.Add(time.Minute), windowTol) {
							t.Errorf("window ends %v, want about %v", reset, start.Add(time.Minute))
						}
					} else if !near(reset, first, 50*time.Millisecond) {
						// A sliding window lets a patient attacker go on forever.
						t.Errorf("Incr #%d moved the window end from %v to %v", i, first, reset)
					}
				}
				n, reset, err := s.Count(ctx(t), "login:alice")
				t.must(err, "Count")
				if n != 3 || !near(reset, first, 50*time.Millisecond) {
					t.Errorf("Count = %d, %v; want 3, %v", n, reset, first)
				}
			},
		},
		{
			name: "Counter/CountUnknown",
			text: "Count of a key with no open window is zero with a zero time",
			run: func(t *ct, s store.Counter) {
				n, reset, err := s.Count(ctx(t), "nothing")
				t.must(err, "Count")
				if n != 0 || !reset.IsZero() {
					t.Errorf("Count = %d, %v; want 0 and the zero time", n, reset)
				}
			},
		},
		{
			name: "Counter/Reset",
			text: "Reset closes the key's window: Count reads zero and the next Incr starts at one; resetting an unknown key is not an error",
			run: func(t *ct, s store.Counter) {
				for range 3 {
					_, _, err := s.Incr(ctx(t), "k", time.Minute)
					t.must(err, "Incr")
				}
				_, _, err := s.Incr(ctx(t), "other", time.Minute)
				t.must(err, "Incr(other)")
				t.must(s.Reset(ctx(t), "k"), "Reset")
				n, reset, err := s.Count(ctx(t), "k")
				t.must(err, "Count")
				if n != 0 || !reset.IsZero() {
					t.Errorf("Count after Reset = %d, %v; want 0 and the zero time", n, reset)
				}
				if n, _, _ := s.Incr(ctx(t), "k", time.Minute); n != 1 {
					t.Errorf("Incr after Reset = %d, want 1", n)
				}
				if n, _, _ := s.Count(ctx(t), "other"); n != 1 {
					t.Errorf("Reset of k changed other's count to %d", n)
				}
				t.must(s.Reset(ctx(t), "unknown"), "Reset(unknown)")
			},
		},
		{
			name:     "Counter/WindowExpiry",
			text:     "a window closes by itself at its end: Count reads zero and Incr starts a new one",
			parallel: true,
			run: func(t *ct, s store.Counter) {
				for range 2 {
					_, _, err := s.Incr(ctx(t), "k", shortTTL)
					t.must(err, "Incr")
				}
				time.Sleep(expiryWait)
				if n, _, err := s.Count(ctx(t), "k"); err != nil || n != 0 {
					t.Errorf("Count after the window = %d, %v; want 0", n, err)
				}
				start := time.Now()
				n, reset, err := s.Incr(ctx(t), "k", time.Minute)
				t.must(err, "Incr")
				if n != 1 || !near(reset, start.Add(time.Minute), windowTol) {
					t.Errorf("Incr in a new window = %d, %v; want 1, about %v", n, reset, start.Add(time.Minute))
				}
			},
		},
		{
			name: "Counter/Concurrent",
			text: "concurrent Incr calls each count once: 50 calls return 1 to 50 and leave 50",
			run: func(t *ct, s store.Counter) {
				const n = 50
				got := make([]int64, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { got[i], _, errs[i] = s.Incr(ctx(t), "k", time.Minute) })
				}
				wg.Wait()
				for _, err := range errs {
					t.must(err, "Incr")
				}
				slices.Sort(got)
				for i, v := range got {
					if v != int64(i+1) {
						// A lost update lets a brute-force attack past the limit.
						t.Fatalf("Incr results %v, want 1..%d each once", got, n)
					}
				}
				if c, _, err := s.Count(ctx(t), "k"); err != nil || c != n {
					t.Errorf("Count = %d, %v; want %d", c, err, n)
				}
			},
		},
		{
			name: "Counter/InvalidInput",
			text: "Incr returns ErrInvalid for an empty key or a window below one millisecond, and counts nothing",
			run: func(t *ct, s store.Counter) {
				_, _, err := s.Incr(ctx(t), "", time.Minute)
				t.wantErr(err, store.ErrInvalid, "Incr(\"\")")
				for _, w := range []time.Duration{0, -time.Second, time.Microsecond} {
					_, _, err := s.Incr(ctx(t), "k", w)
					t.wantErr(err, store.ErrInvalid, fmt.Sprintf("Incr(window %v)", w))
				}
				if n, _, err := s.Count(ctx(t), "k"); err != nil || n != 0 {
					t.Errorf("Count after invalid Incr calls = %d, %v; want 0", n, err)
				}
			},
		},
		{
			name: "Context/Cancelled/Counter",
			text: "every Counter method honours a cancelled context: it returns an error (the context's or ErrUnavailable) and stores nothing",
			run: func(t *ct, s store.Counter) {
				cx := cancelled()
				_, _, err := s.Incr(ctx(t), "kept", time.Minute)
				t.must(err, "Incr(kept)")
				errs := map[string]error{"Reset": s.Reset(cx, "kept")}
				_, _, errs["Incr"] = s.Incr(cx, "k", time.Minute)
				_, _, errs["Count"] = s.Count(cx, "k")
				t.wantCancelled(errs)
				// Nothing changed.
				if n, _, err := s.Count(ctx(t), "k"); err != nil || n != 0 {
					t.Errorf("Count after a cancelled Incr = %d, %v; want 0", n, err)
				}
				if n, _, err := s.Count(ctx(t), "kept"); err != nil || n != 1 {
					t.Errorf("Count after a cancelled Reset = %d, %v; want 1", n, err)
				}
			},
		},
		{
			name: "Isolation/SeparatorLikeKeys/Counter",
			text: "Counter: ids, usernames and keys such as a:b, *, \\x00 and {tag} stay isolated: each names only itself",
			run: func(t *ct, s store.Counter) {
				trickyCountersSetup(t, s)
				trickyCountersCheck(t, s)
			},
		},
	}
}
