package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatekeep/gatekeep/store"
)

// RunTOTPStore runs the clauses of the [store.TOTPStore] contract against
// the stores newStore returns, one subtest per clause on a fresh store, as
// [Run] does. [Run] runs them too, for a store that has the ability.
// Clauses that also need a [store.UserStore] skip when the store is not
// one.
func RunTOTPStore(t *testing.T, newStore func(t *testing.T) store.TOTPStore) {
	t.Helper()
	run(t, totpClauses(), newStore)
}

// optionalTOTPClauses are the TOTPStore clauses as Run runs them: skipped
// for a store without the ability.
func optionalTOTPClauses() []clause {
	var out []clause
	for _, c := range totpClauses() {
		out = append(out, clause{name: c.name, text: c.text, parallel: c.parallel, run: func(t *ct, s store.Store) {
			ts, ok := s.(store.TOTPStore)
			if !ok {
				t.Skip("the store is not a store.TOTPStore")
			}
			c.run(t, ts)
		}})
	}
	return out
}

func beginTOTP(t *ct, s store.TOTPStore, userID string, secret []byte) {
	t.T.Helper()
	t.must(s.BeginTOTP(ctx(t), &store.TOTP{UserID: userID, Secret: secret}), fmt.Sprintf("BeginTOTP(%q)", userID))
}

func getTOTP(t *ct, s store.TOTPStore, userID string) *store.TOTP {
	t.T.Helper()
	e, err := s.TOTP(ctx(t), userID)
	t.must(err, fmt.Sprintf("TOTP(%q)", userID))
	if e == nil {
		t.Fatalf("TOTP(%q) returned nil with no error", userID)
	}
	return e
}

// confirmedTOTP enrols userID with secret and recovery-code hashes codes.
func confirmedTOTP(t *ct, s store.TOTPStore, userID string, secret []byte, codes ...string) {
	t.T.Helper()
	beginTOTP(t, s, userID, secret)
	_, err := s.ConfirmTOTP(ctx(t), userID, secret, codes)
	t.must(err, "ConfirmTOTP")
}

func totpClauses() []clauseOf[store.TOTPStore] {
	return []clauseOf[store.TOTPStore]{
		{
			name: "TOTP/Missing",
			text: "TOTP of a user with no enrolment returns ErrNotFound",
			run: func(t *ct, s store.TOTPStore) {
				_, err := s.TOTP(ctx(t), "nobody")
				t.wantErr(err, store.ErrNotFound, "TOTP(nobody)")
			},
		},
		{
			name: "TOTP/BeginPending",
			text: "BeginTOTP stores a pending enrolment (Confirmed false, no recovery codes, times set) with the secret byte for byte; a second BeginTOTP replaces a pending one",
			run: func(t *ct, s store.TOTPStore) {
				start := now()
				if err := s.BeginTOTP(ctx(t), &store.TOTP{UserID: "u1", Secret: []byte{0, 1, 2, 0xff}, Confirmed: true, RecoveryCodes: []string{"x"}}); err != nil {
					t.Fatalf("BeginTOTP: %v", err)
				}
				e := getTOTP(t, s, "u1")
				if e.UserID != "u1" || !bytes.Equal(e.Secret, []byte{0, 1, 2, 0xff}) || e.Confirmed || len(e.RecoveryCodes) != 0 {
					t.Errorf("after BeginTOTP: user %q secret %x confirmed %v codes %d, want u1, 000102ff, pending, none", e.UserID, e.Secret, e.Confirmed, len(e.RecoveryCodes))
				}
				if !near(e.CreatedAt, start, long) || e.UpdatedAt.IsZero() {
					t.Errorf("CreatedAt %v / UpdatedAt %v not set", e.CreatedAt, e.UpdatedAt)
				}
				beginTOTP(t, s, "u1", []byte("second"))
				if e := getTOTP(t, s, "u1"); string(e.Secret) != "second" || e.Confirmed {
					t.Errorf("a second BeginTOTP left secret %q confirmed %v, want second, pending", e.Secret, e.Confirmed)
				}
			},
		},
		{
			name: "TOTP/BeginInvalid",
			text: "BeginTOTP with an empty UserID or Secret returns ErrInvalid and stores nothing",
			run: func(t *ct, s store.TOTPStore) {
				t.wantErr(s.BeginTOTP(ctx(t), &store.TOTP{Secret: []byte("s")}), store.ErrInvalid, "BeginTOTP(empty UserID)")
				t.wantErr(s.BeginTOTP(ctx(t), &store.TOTP{UserID: "u1"}), store.ErrInvalid, "BeginTOTP(empty Secret)")
				t.wantErr(s.BeginTOTP(ctx(t), nil), store.ErrInvalid, "BeginTOTP(nil)")
				_, err := s.TOTP(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "TOTP after refused BeginTOTP")
			},
		},
		{
			name: "TOTP/ConfirmCAS",
			text: "ConfirmTOTP confirms only a pending enrolment with exactly that secret (ErrConflict otherwise, ErrNotFound without one); a confirmed enrolment refuses BeginTOTP with ErrConflict and keeps its secret",
			run: func(t *ct, s store.TOTPStore) {
				_, err := s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), nil)
				t.wantErr(err, store.ErrNotFound, "ConfirmTOTP without an enrolment")
				beginTOTP(t, s, "u1", []byte("s1"))
				_, err = s.ConfirmTOTP(ctx(t), "u1", []byte("s0"), []string{"h"})
				t.wantErr(err, store.ErrConflict, "ConfirmTOTP with another secret")
				if e := getTOTP(t, s, "u1"); e.Confirmed {
					t.Errorf("a lost ConfirmTOTP confirmed the enrolment")
				}
				e, err := s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), []string{"h1", "h2"})
				t.must(err, "ConfirmTOTP")
				if !e.Confirmed || !slices.Equal(e.RecoveryCodes, []string{"h1", "h2"}) {
					t.Errorf("ConfirmTOTP returned confirmed %v codes %v, want true [h1 h2]", e.Confirmed, e.RecoveryCodes)
				}
				if e := getTOTP(t, s, "u1"); !e.Confirmed || !slices.Equal(e.RecoveryCodes, []string{"h1", "h2"}) {
					t.Errorf("stored: confirmed %v codes %v, want true [h1 h2]", e.Confirmed, e.RecoveryCodes)
				}
				_, err = s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), []string{"h3"})
				t.wantErr(err, store.ErrConflict, "ConfirmTOTP of a confirmed enrolment")
				t.wantErr(s.BeginTOTP(ctx(t), &store.TOTP{UserID: "u1", Secret: []byte("s2")}), store.ErrConflict, "BeginTOTP over a confirmed enrolment")
				if e := getTOTP(t, s, "u1"); string(e.Secret) != "s1" || !e.Confirmed || !slices.Equal(e.RecoveryCodes, []string{"h1", "h2"}) {
					t.Errorf("refused writes changed the enrolment: secret %q confirmed %v codes %v", e.Secret, e.Confirmed, e.RecoveryCodes)
				}
			},
		},
		{
			name: "TOTP/ConfirmConcurrent",
			text: "of 20 concurrent ConfirmTOTP calls on one pending enrolment exactly one wins, the others get ErrConflict",
			run: func(t *ct, s store.TOTPStore) {
				beginTOTP(t, s, "u1", []byte("s1"))
				errs := make([]error, 20)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() {
						_, errs[i] = s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), []string{fmt.Sprint("h", i)})
					})
				}
				wg.Wait()
				if ok, lost := count(errs, store.ErrConflict); ok != 1 || lost != len(errs)-1 {
					t.Errorf("%d won and %d got ErrConflict, want 1 and %d (other error: %v)", ok, lost, len(errs)-1, firstOther(errs, store.ErrConflict))
				}
				if e := getTOTP(t, s, "u1"); len(e.RecoveryCodes) != 1 {
					t.Errorf("stored codes %v, want the winner's one", e.RecoveryCodes)
				}
			},
		},
		{
			name: "TOTP/DeleteCAS",
			text: "DeleteTOTP removes the enrolment when its secret equals expected or expected is nil; ErrConflict (and nothing changes) when it differs; ErrNotFound when there is none",
			run: func(t *ct, s store.TOTPStore) {
				t.wantErr(s.DeleteTOTP(ctx(t), "u1", nil), store.ErrNotFound, "DeleteTOTP without an enrolment")
				confirmedTOTP(t, s, "u1", []byte("s1"), "h1")
				t.wantErr(s.DeleteTOTP(ctx(t), "u1", []byte("s0")), store.ErrConflict, "DeleteTOTP with another secret")
				getTOTP(t, s, "u1")
				t.must(s.DeleteTOTP(ctx(t), "u1", []byte("s1")), "DeleteTOTP")
				_, err := s.TOTP(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "TOTP after DeleteTOTP")
				confirmedTOTP(t, s, "u1", []byte("s2"))
				t.must(s.DeleteTOTP(ctx(t), "u1", nil), "DeleteTOTP(nil)")
				_, err = s.TOTP(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "TOTP after DeleteTOTP(nil)")
				beginTOTP(t, s, "u1", []byte("s3")) // a fresh enrolment after the delete
			},
		},
		{
			name: "TOTP/RecoveryOnce",
			text: "UseRecoveryCode removes one hash and returns the rest; a used, unknown or pending code gives ErrNotFound",
			run: func(t *ct, s store.TOTPStore) {
				beginTOTP(t, s, "u1", []byte("s1"))
				_, err := s.UseRecoveryCode(ctx(t), "u1", "h1")
				t.wantErr(err, store.ErrNotFound, "UseRecoveryCode on a pending enrolment")
				_, err = s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), []string{"h1", "h2", "h3"})
				t.must(err, "ConfirmTOTP")
				e, err := s.UseRecoveryCode(ctx(t), "u1", "h2")
				t.must(err, "UseRecoveryCode(h2)")
				if !slices.Equal(e.RecoveryCodes, []string{"h1", "h3"}) {
					t.Errorf("after using h2 the codes are %v, want [h1 h3]", e.RecoveryCodes)
				}
				_, err = s.UseRecoveryCode(ctx(t), "u1", "h2")
				t.wantErr(err, store.ErrNotFound, "UseRecoveryCode(h2) again")
				_, err = s.UseRecoveryCode(ctx(t), "u1", "nope")
				t.wantErr(err, store.ErrNotFound, "UseRecoveryCode(unknown)")
				_, err = s.UseRecoveryCode(ctx(t), "u2", "h1")
				t.wantErr(err, store.ErrNotFound, "UseRecoveryCode of another user")
				if e := getTOTP(t, s, "u1"); !slices.Equal(e.RecoveryCodes, []string{"h1", "h3"}) {
					t.Errorf("stored codes %v, want [h1 h3]", e.RecoveryCodes)
				}
			},
		},
		{
			name: "TOTP/RecoveryConcurrent",
			text: "of 20 concurrent uses of one recovery code exactly one succeeds, the others get ErrNotFound",
			run: func(t *ct, s store.TOTPStore) {
				confirmedTOTP(t, s, "u1", []byte("s1"), "h1", "h2")
				errs := make([]error, 20)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() { _, errs[i] = s.UseRecoveryCode(ctx(t), "u1", "h1") })
				}
				wg.Wait()
				if ok, lost := count(errs, store.ErrNotFound); ok != 1 || lost != len(errs)-1 {
					t.Errorf("%d succeeded and %d got ErrNotFound, want 1 and %d (other error: %v)", ok, lost, len(errs)-1, firstOther(errs, store.ErrNotFound))
				}
				if e := getTOTP(t, s, "u1"); !slices.Equal(e.RecoveryCodes, []string{"h2"}) {
					t.Errorf("stored codes %v, want [h2]", e.RecoveryCodes)
				}
			},
		},
		{
			name: "TOTP/Copies",
			text: "changing a returned or passed-in enrolment never changes what is stored",
			run: func(t *ct, s store.TOTPStore) {
				in := &store.TOTP{UserID: "u1", Secret: []byte("s1")}
				t.must(s.BeginTOTP(ctx(t), in), "BeginTOTP")
				in.Secret[0] = 'X'
				codes := []string{"h1", "h2"}
				e, err := s.ConfirmTOTP(ctx(t), "u1", []byte("s1"), codes)
				t.must(err, "ConfirmTOTP (changing the passed-in secret changed the stored one?)")
				codes[0] = "changed"
				e.Secret[0] = 'Y'
				e.RecoveryCodes[1] = "changed"
				got := getTOTP(t, s, "u1")
				if string(got.Secret) != "s1" || !slices.Equal(got.RecoveryCodes, []string{"h1", "h2"}) {
					t.Errorf("stored secret %q codes %v, want s1 [h1 h2]", got.Secret, got.RecoveryCodes)
				}
			},
		},
		{
			name: "TOTP/Isolation",
			text: "one user's enrolment is never read or changed through another's, ids that look like separators included",
			run: func(t *ct, s store.TOTPStore) {
				for i, id := range trickyIDs {
					confirmedTOTP(t, s, id, []byte(id), fmt.Sprint("h", i))
				}
				t.must(s.DeleteTOTP(ctx(t), "a", nil), "DeleteTOTP(a)")
				for i, id := range trickyIDs {
					if id == "a" {
						continue
					}
					e := getTOTP(t, s, id)
					if string(e.Secret) != id || !slices.Equal(e.RecoveryCodes, []string{fmt.Sprint("h", i)}) {
						t.Errorf("TOTP(%q) = secret %q codes %v", id, e.Secret, e.RecoveryCodes)
					}
				}
			},
		},
		{
			name: "TOTP/DeleteUser",
			text: "deleting the user deletes the enrolment",
			run: func(t *ct, s store.TOTPStore) {
				us, ok := s.(store.UserStore)
				if !ok {
					t.Skip("the store is not a store.UserStore")
				}
				createUser(t, us, "u1", "alice")
				confirmedTOTP(t, s, "u1", []byte("s1"), "h1")
				t.must(us.DeleteUser(ctx(t), "u1"), "DeleteUser")
				_, err := s.TOTP(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "TOTP after DeleteUser")
			},
		},
		{
			name: "TOTP/Cancelled",
			text: "a cancelled context fails every call and changes nothing",
			run: func(t *ct, s store.TOTPStore) {
				beginTOTP(t, s, "u1", []byte("s1"))
				c := cancelled()
				_, errGet := s.TOTP(c, "u1")
				_, errConfirm := s.ConfirmTOTP(c, "u1", []byte("s1"), nil)
				_, errUse := s.UseRecoveryCode(c, "u1", "h")
				t.wantCancelled(map[string]error{
					"TOTP":            errGet,
					"BeginTOTP":       s.BeginTOTP(c, &store.TOTP{UserID: "u2", Secret: []byte("s")}),
					"ConfirmTOTP":     errConfirm,
					"DeleteTOTP":      s.DeleteTOTP(c, "u1", nil),
					"UseRecoveryCode": errUse,
				})
				if e := getTOTP(t, s, "u1"); e.Confirmed {
					t.Errorf("a cancelled ConfirmTOTP confirmed the enrolment")
				}
				_, err := s.TOTP(context.Background(), "u2")
				t.wantErr(err, store.ErrNotFound, "TOTP(u2) after a cancelled BeginTOTP")
			},
		},
	}
}
