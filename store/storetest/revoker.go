package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

func isRevoked(t *ct, s store.Revoker, c store.Check) bool {
	t.T.Helper()
	r, err := s.IsRevoked(ctx(t), c)
	t.must(err, fmt.Sprintf("IsRevoked(%+v)", c))
	return r
}

func revokerClauses() []clauseOf[store.Revoker] {
	return []clauseOf[store.Revoker]{
		{
			name: "Revoke/TokenID",
			text: "a revoked token id is revoked; other ids are not; revoking again is not an error",
			run: func(t *ct, s store.Revoker) {
				until := now().Add(long)
				t.must(s.Revoke(ctx(t), "jti-1", until), "Revoke")
				t.must(s.Revoke(ctx(t), "jti-1", until), "Revoke again")
				if !isRevoked(t, s, store.Check{TokenID: "jti-1", UserID: "u1", IssuedAt: now()}) {
					t.Errorf("revoked token id reported valid")
				}
				if isRevoked(t, s, store.Check{TokenID: "jti-2", UserID: "u1", IssuedAt: now()}) {
					t.Errorf("a token id never revoked reported revoked")
				}
				if isRevoked(t, s, store.Check{}) {
					t.Errorf("an empty Check reported revoked")
				}
			},
		},
		{
			name: "Revoke/SessionID",
			text: "a revoked session id revokes every token whose sid is that id",
			run: func(t *ct, s store.Revoker) {
				t.must(s.Revoke(ctx(t), "sid-1", now().Add(long)), "Revoke(session)")
				for _, jti := range []string{"a", "b"} {
					if !isRevoked(t, s, store.Check{TokenID: jti, SessionID: "sid-1", UserID: "u1", IssuedAt: now()}) {
						t.Errorf("token %q of a revoked session reported valid", jti)
					}
				}
				if isRevoked(t, s, store.Check{TokenID: "c", SessionID: "sid-2", UserID: "u1", IssuedAt: now()}) {
					t.Errorf("token of another session reported revoked")
				}
			},
		},
		{
			name:     "Revoke/Expires",
			text:     "a revocation disappears by itself after its until time",
			parallel: true,
			run: func(t *ct, s store.Revoker) {
				t.must(s.Revoke(ctx(t), "short", now().Add(shortTTL)), "Revoke(short)")
				t.must(s.Revoke(ctx(t), "long", now().Add(long)), "Revoke(long)")
				if !isRevoked(t, s, store.Check{TokenID: "short"}) {
					t.Fatalf("revocation missing before its until time")
				}
				time.Sleep(expiryWait)
				if isRevoked(t, s, store.Check{TokenID: "short"}) {
					t.Errorf("revocation still present after its until time")
				}
				if !isRevoked(t, s, store.Check{TokenID: "long"}) {
					t.Errorf("a revocation with a far until time disappeared")
				}
			},
		},
		{
			name: "RevokeUserBefore/IssuedAt",
			text: "RevokeUserBefore revokes the user's tokens issued before the mark; a token issued at or after it is valid",
			run: func(t *ct, s store.Revoker) {
				mark := now().Truncate(time.Second)
				t.must(s.RevokeUserBefore(ctx(t), "u1", mark, mark.Add(long)), "RevokeUserBefore")
				rows := []struct {
					name string
					c    store.Check
					want bool
				}{
					{"issued a second before", store.Check{TokenID: "t1", UserID: "u1", IssuedAt: mark.Add(-time.Second)}, true},
					{"issued a millisecond before", store.Check{TokenID: "t2", UserID: "u1", IssuedAt: mark.Add(-time.Millisecond)}, true},
					{"issued exactly at the mark", store.Check{TokenID: "t3", UserID: "u1", IssuedAt: mark}, false},
					{"issued after", store.Check{TokenID: "t4", UserID: "u1", IssuedAt: mark.Add(time.Second)}, false},
					// A token without iat must not slip past a logout-everywhere.
					{"zero IssuedAt", store.Check{TokenID: "t5", UserID: "u1"}, true},
					{"another user", store.Check{TokenID: "t6", UserID: "u2", IssuedAt: mark.Add(-time.Second)}, false},
				}
				for _, r := range rows {
					if got := isRevoked(t, s, r.c); got != r.want {
						t.Errorf("%s: IsRevoked = %v, want %v", r.name, got, r.want)
					}
				}
			},
		},
		{
			name: "RevokeUserBefore/OnlyForward",
			text: "the valid-after mark only moves forward: an earlier before than the one stored is ignored",
			run: func(t *ct, s store.Revoker) {
				t2 := now().Truncate(time.Second)
				t1 := t2.Add(-time.Hour)
				t.must(s.RevokeUserBefore(ctx(t), "u1", t2, t2.Add(long)), "RevokeUserBefore(later)")
				// A stale or replayed request must not un-revoke tokens.
				t.must(s.RevokeUserBefore(ctx(t), "u1", t1, t2.Add(long)), "RevokeUserBefore(earlier)")
				if !isRevoked(t, s, store.Check{TokenID: "t", UserID: "u1", IssuedAt: t1.Add(time.Minute)}) {
					t.Errorf("an earlier mark moved the valid-after time back")
				}
				t3 := t2.Add(time.Minute)
				t.must(s.RevokeUserBefore(ctx(t), "u1", t3, t3.Add(long)), "RevokeUserBefore(later still)")
				if !isRevoked(t, s, store.Check{TokenID: "t", UserID: "u1", IssuedAt: t2}) {
					t.Errorf("a later mark did not move the valid-after time forward")
				}
			},
		},
		{
			name:     "RevokeUserBefore/Expires",
			text:     "a valid-after mark disappears by itself after its until time",
			parallel: true,
			run: func(t *ct, s store.Revoker) {
				mark := now()
				t.must(s.RevokeUserBefore(ctx(t), "u1", mark, now().Add(shortTTL)), "RevokeUserBefore")
				old := store.Check{TokenID: "t", UserID: "u1", IssuedAt: mark.Add(-time.Hour)}
				if !isRevoked(t, s, old) {
					t.Fatalf("mark missing before its until time")
				}
				time.Sleep(expiryWait)
				if isRevoked(t, s, old) {
					t.Errorf("mark still present after its until time")
				}
			},
		},
		{
			name: "UseOnce/Once",
			text: "UseOnce returns true for the first use of an id and false for every later one",
			run: func(t *ct, s store.Revoker) {
				until := now().Add(long)
				for i, want := range []bool{true, false, false} {
					first, err := s.UseOnce(ctx(t), "reset-1", until)
					t.must(err, "UseOnce")
					if first != want {
						t.Errorf("use %d: first = %v, want %v", i+1, first, want)
					}
				}
				first, err := s.UseOnce(ctx(t), "reset-2", until)
				t.must(err, "UseOnce(other id)")
				if !first {
					t.Errorf("another id's first use reported as a reuse")
				}
				if isRevoked(t, s, store.Check{TokenID: "reset-1"}) {
					t.Errorf("a used one-time id is reported revoked: UseOnce and Revoke must not share entries")
				}
			},
		},
		{
			name: "UseOnce/Concurrent50",
			text: "of 50 concurrent UseOnce calls with one id exactly one returns true",
			run: func(t *ct, s store.Revoker) {
				const n = 50
				firsts := make([]bool, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				until := now().Add(long)
				for i := range n {
					wg.Go(func() {
						<-start
						firsts[i], errs[i] = s.UseOnce(ctx(t), "reset-token", until)
					})
				}
				close(start)
				wg.Wait()
				wins := 0
				for i := range n {
					t.must(errs[i], "UseOnce")
					if firsts[i] {
						wins++
					}
				}
				if wins != 1 {
					// More than one: a password-reset link worked twice.
					t.Errorf("%d calls returned first = true, want exactly 1", wins)
				}
			},
		},
		{
			name:     "UseOnce/Expires",
			text:     "a one-time id is remembered until its until time and then disappears by itself",
			parallel: true,
			run: func(t *ct, s store.Revoker) {
				first, err := s.UseOnce(ctx(t), "once", now().Add(shortTTL))
				t.must(err, "UseOnce")
				if !first {
					t.Fatalf("first use reported as a reuse")
				}
				time.Sleep(expiryWait)
				first, err = s.UseOnce(ctx(t), "once", now().Add(long))
				t.must(err, "UseOnce after until")
				if !first {
					t.Errorf("the entry was still remembered after its until time")
				}
			},
		},
		{
			name: "UseOnce/PastUntilStillOnce",
			text: "UseOnce with an until already past still lets exactly one of concurrent calls win",
			run: func(t *ct, s store.Revoker) {
				const n = 20
				var wins atomic.Int32
				var wg sync.WaitGroup
				start := make(chan struct{})
				past := now().Add(-time.Minute)
				for range n {
					wg.Go(func() {
						<-start
						first, err := s.UseOnce(ctx(t), "stale-token", past)
						if err == nil && first {
							wins.Add(1)
						}
					})
				}
				close(start)
				wg.Wait()
				if w := wins.Load(); w != 1 {
					t.Errorf("%d of %d calls returned first = true, want exactly 1", w, n)
				}
			},
		},
		{
			name:     "Revoke/NeverShortened",
			text:     "Revoke with an earlier until than the stored one does not shorten the revocation, nor RevokeUserBefore its mark",
			parallel: true,
			run: func(t *ct, s store.Revoker) {
				t.must(s.Revoke(ctx(t), "jti-long", now().Add(long)), "Revoke(long)")
				t.must(s.Revoke(ctx(t), "jti-long", now().Add(shortTTL)), "Revoke(short)")
				before := now().Add(time.Minute)
				t.must(s.RevokeUserBefore(ctx(t), "user-long", before, now().Add(long)), "RevokeUserBefore(long)")
				t.must(s.RevokeUserBefore(ctx(t), "user-long", before, now().Add(shortTTL)), "RevokeUserBefore(short)")
				time.Sleep(expiryWait)
				// Shortening would be failing open: a revoked token valid again.
				if !isRevoked(t, s, store.Check{TokenID: "jti-long"}) {
					t.Errorf("a later Revoke with an earlier until shortened the revocation")
				}
				if !isRevoked(t, s, store.Check{UserID: "user-long", IssuedAt: now()}) {
					t.Errorf("a later RevokeUserBefore with an earlier until shortened the mark")
				}
			},
		},
		{
			name: "Revoker/EmptyID",
			text: "Revoke, RevokeUserBefore and UseOnce return ErrInvalid for an empty id",
			run: func(t *ct, s store.Revoker) {
				until := now().Add(long)
				t.wantErr(s.Revoke(ctx(t), "", until), store.ErrInvalid, "Revoke(\"\")")
				t.wantErr(s.RevokeUserBefore(ctx(t), "", now(), until), store.ErrInvalid, "RevokeUserBefore(\"\")")
				// An empty reset-token id must never count as a first use.
				first, err := s.UseOnce(ctx(t), "", until)
				t.wantErr(err, store.ErrInvalid, "UseOnce(\"\")")
				if first {
					t.Errorf("UseOnce(\"\") returned first = true")
				}
			},
		},
		{
			name: "Context/Cancelled/Revoker",
			text: "every Revoker method honours a cancelled context: it returns an error (the context's or ErrUnavailable) and stores nothing; IsRevoked with its error reports revoked",
			run: func(t *ct, s store.Revoker) {
				cx := cancelled()
				until := now().Add(long)
				errs := map[string]error{
					"Revoke":           s.Revoke(cx, "jti", until),
					"RevokeUserBefore": s.RevokeUserBefore(cx, "u0", now().Add(time.Hour), until),
				}
				_, errs["UseOnce"] = s.UseOnce(cx, "once", until)
				revoked, errRevoked := s.IsRevoked(cx, store.Check{TokenID: "jti"})
				errs["IsRevoked"] = errRevoked
				t.wantCancelled(errs)
				if errRevoked != nil && !revoked {
					t.Errorf("IsRevoked with a cancelled context returned false with its error; with an error it must report revoked (fail closed)")
				}
				// Nothing changed.
				if isRevoked(t, s, store.Check{TokenID: "jti", UserID: "u0", IssuedAt: now()}) {
					t.Errorf("a cancelled Revoke or RevokeUserBefore was stored")
				}
				if first, err := s.UseOnce(ctx(t), "once", until); err != nil || !first {
					t.Errorf("UseOnce after a cancelled UseOnce = %v, %v; want a first use", first, err)
				}
			},
		},
		{
			name: "Isolation/SeparatorLikeKeys/Revoker",
			text: "Revoker: ids, usernames and keys such as a:b, *, \\x00 and {tag} stay isolated: each names only itself",
			run: func(t *ct, s store.Revoker) {
				trickyRevocationsSetup(t, s)
				trickyRevocationsCheck(t, s)
			},
		},
	}
}
