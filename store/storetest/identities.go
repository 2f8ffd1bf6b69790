package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gatekeep/gatekeep/store"
)

// RunIdentityStore runs the clauses of the [store.IdentityStore] contract
// against the stores newStore returns, one subtest per clause on a fresh
// store, as [Run] does. IdentityStore is an optional ability, so Run does
// not call it: a store that implements it calls this beside Run.
func RunIdentityStore(t *testing.T, newStore func(t *testing.T) store.IdentityStore) {
	t.Helper()
	run(t, identityClauses(), newStore)
}

func ident(id, iss, sub, user string) *store.Identity {
	return &store.Identity{ID: id, Provider: "p", Issuer: iss, Subject: sub, UserID: user, Email: sub + "@example.com"}
}

// usersOf returns the user half of s: UnlinkIdentity reads the user's
// password hash in the same store.
func usersOf(t *ct, s store.IdentityStore) store.UserStore {
	t.T.Helper()
	us, ok := s.(store.UserStore)
	if !ok {
		t.Fatalf("the store does not implement store.UserStore, which UnlinkIdentity needs")
	}
	return us
}

func identityClauses() []clauseOf[store.IdentityStore] {
	return []clauseOf[store.IdentityStore]{
		{
			name: "Identity/CreateLookup",
			text: "a created identity is returned by IdentityBySubject with every field and CreatedAt set; changing the returned copy or the one passed in changes nothing stored",
			run: func(t *ct, s store.IdentityStore) {
				in := ident("i1", "https://issuer.example", "sub-1", "u1")
				before := now()
				t.must(s.CreateIdentity(ctx(t), in), "CreateIdentity")
				in.UserID = "changed"
				got, err := s.IdentityBySubject(ctx(t), "https://issuer.example", "sub-1")
				t.must(err, "IdentityBySubject")
				if got.ID != "i1" || got.Provider != "p" || got.Issuer != "https://issuer.example" ||
					got.Subject != "sub-1" || got.UserID != "u1" || got.Email != "sub-1@example.com" {
					t.Errorf("IdentityBySubject = %+v, want the identity as created", got)
				}
				if got.CreatedAt.Before(before.Add(-windowTol)) {
					t.Errorf("CreatedAt = %v, want about %v", got.CreatedAt, before)
				}
				got.UserID = "changed again"
				again, err := s.IdentityBySubject(ctx(t), "https://issuer.example", "sub-1")
				t.must(err, "IdentityBySubject again")
				if again.UserID != "u1" {
					t.Errorf("a returned copy changed the stored identity: user %q", again.UserID)
				}
			},
		},
		{
			name: "Identity/Unknown",
			text: "IdentityBySubject of an unlinked pair gives ErrNotFound; the pair is compared exactly (same subject at another issuer, or another case, is another account)",
			run: func(t *ct, s store.IdentityStore) {
				_, err := s.IdentityBySubject(ctx(t), "https://issuer.example", "nobody")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject(unknown)")
				t.must(s.CreateIdentity(ctx(t), ident("i1", "https://a.example", "sub", "u1")), "CreateIdentity")
				// An attack: a second provider that reuses another's subject ids must not sign in as its users.
				_, err = s.IdentityBySubject(ctx(t), "https://b.example", "sub")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject(other issuer)")
				_, err = s.IdentityBySubject(ctx(t), "https://a.example", "SUB")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject(other case)")
				t.must(s.CreateIdentity(ctx(t), ident("i2", "https://b.example", "sub", "u2")), "CreateIdentity(other issuer, same subject)")
				got, err := s.IdentityBySubject(ctx(t), "https://b.example", "sub")
				t.must(err, "IdentityBySubject(b)")
				if got.UserID != "u2" {
					t.Errorf("(b, sub) signs in as %q, want u2", got.UserID)
				}
			},
		},
		{
			name: "Identity/Conflict",
			text: "creating an identity whose (issuer, subject) is linked already (to any user) or whose ID is taken gives ErrConflict and changes nothing",
			run: func(t *ct, s store.IdentityStore) {
				t.must(s.CreateIdentity(ctx(t), ident("i1", "iss", "sub", "u1")), "CreateIdentity")
				// An attack: relinking an external account to another user takes over the first.
				err := s.CreateIdentity(ctx(t), ident("i2", "iss", "sub", "u2"))
				t.wantErr(err, store.ErrConflict, "CreateIdentity(same pair, other user)")
				err = s.CreateIdentity(ctx(t), ident("i1", "iss", "other", "u2"))
				t.wantErr(err, store.ErrConflict, "CreateIdentity(same ID)")
				got, err := s.IdentityBySubject(ctx(t), "iss", "sub")
				t.must(err, "IdentityBySubject")
				if got.ID != "i1" || got.UserID != "u1" {
					t.Errorf("after the conflicts the pair is %+v, want i1 of u1", got)
				}
				_, err = s.IdentityBySubject(ctx(t), "iss", "other")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject(pair of the refused create)")
				list, err := s.UserIdentities(ctx(t), "u2")
				t.must(err, "UserIdentities(u2)")
				if len(list) != 0 {
					t.Errorf("u2 has %d identities after refused creates, want 0", len(list))
				}
			},
		},
		{
			name: "Identity/CreateRace",
			text: "of concurrent creations of one (issuer, subject) exactly one wins; the others get ErrConflict",
			run: func(t *ct, s store.IdentityStore) {
				const n = 8
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						errs[i] = s.CreateIdentity(ctx(t), ident(fmt.Sprintf("i%d", i), "iss", "sub", fmt.Sprintf("u%d", i)))
					})
				}
				wg.Wait()
				if other := firstOther(errs, store.ErrConflict); other != nil {
					t.Fatalf("a concurrent CreateIdentity failed with %v", other)
				}
				if won, lost := count(errs, store.ErrConflict); won != 1 || lost != n-1 {
					t.Errorf("%d creations won and %d lost, want 1 and %d", won, lost, n-1)
				}
				got, err := s.IdentityBySubject(ctx(t), "iss", "sub")
				t.must(err, "IdentityBySubject")
				for i, err := range errs {
					if err == nil && got.ID != fmt.Sprintf("i%d", i) {
						t.Errorf("creation i%d won but the pair is linked by %s", i, got.ID)
					}
				}
			},
		},
		{
			name: "Identity/Invalid",
			text: "an empty ID, issuer, subject or user gives ErrInvalid and stores nothing",
			run: func(t *ct, s store.IdentityStore) {
				for name, id := range map[string]*store.Identity{
					"ID":      ident("", "iss", "sub", "u1"),
					"issuer":  ident("i1", "", "sub", "u1"),
					"subject": ident("i1", "iss", "", "u1"),
					"user":    ident("i1", "iss", "sub", ""),
				} {
					t.wantErr(s.CreateIdentity(ctx(t), id), store.ErrInvalid, "CreateIdentity(empty "+name+")")
				}
				_, err := s.IdentityBySubject(ctx(t), "iss", "sub")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject after invalid creates")
			},
		},
		{
			name: "Identity/UserIdentities",
			text: "UserIdentities lists the user's identities only, oldest first; a user with none gets an empty list, not an error",
			run: func(t *ct, s store.IdentityStore) {
				t.must(s.CreateIdentity(ctx(t), ident("z-first", "iss", "a", "u1")), "CreateIdentity(a)")
				t.must(s.CreateIdentity(ctx(t), ident("other", "iss", "b", "u2")), "CreateIdentity(b)")
				t.must(s.CreateIdentity(ctx(t), ident("a-second", "iss2", "a", "u1")), "CreateIdentity(c)")
				list, err := s.UserIdentities(ctx(t), "u1")
				t.must(err, "UserIdentities(u1)")
				var ids []string
				for _, id := range list {
					ids = append(ids, id.ID)
				}
				if fmt.Sprint(ids) != "[z-first a-second]" {
					t.Errorf("UserIdentities(u1) = %v, want [z-first a-second]", ids)
				}
				none, err := s.UserIdentities(ctx(t), "nobody")
				t.must(err, "UserIdentities(nobody)")
				if len(none) != 0 {
					t.Errorf("UserIdentities(nobody) = %d identities, want 0", len(none))
				}
			},
		},
		{
			name: "Identity/Delete",
			text: "DeleteIdentity removes the link and frees its pair for a new link; deleting an unknown ID gives ErrNotFound",
			run: func(t *ct, s store.IdentityStore) {
				t.must(s.CreateIdentity(ctx(t), ident("i1", "iss", "sub", "u1")), "CreateIdentity")
				t.must(s.CreateIdentity(ctx(t), ident("i2", "iss", "sub2", "u1")), "CreateIdentity(second)")
				t.must(s.DeleteIdentity(ctx(t), "i1"), "DeleteIdentity")
				_, err := s.IdentityBySubject(ctx(t), "iss", "sub")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject after delete")
				t.wantErr(s.DeleteIdentity(ctx(t), "i1"), store.ErrNotFound, "DeleteIdentity again")
				t.wantErr(s.DeleteIdentity(ctx(t), "never"), store.ErrNotFound, "DeleteIdentity(unknown)")
				if _, err := s.IdentityBySubject(ctx(t), "iss", "sub2"); err != nil {
					t.Errorf("deleting i1 removed i2: %v", err)
				}
				t.must(s.CreateIdentity(ctx(t), ident("i3", "iss", "sub", "u2")), "CreateIdentity(freed pair)")
				list, err := s.UserIdentities(ctx(t), "u1")
				t.must(err, "UserIdentities")
				if len(list) != 1 || list[0].ID != "i2" {
					t.Errorf("UserIdentities(u1) after delete = %d identities, want only i2", len(list))
				}
			},
		},
		{
			name: "Identity/Unlink",
			text: "UnlinkIdentity removes a user's identity while the user keeps another identity or a password; the last identity of a password-less user is refused with ErrConflict and kept; another user's identity or an unknown ID gives ErrNotFound",
			run: func(t *ct, s store.IdentityStore) {
				us := usersOf(t, s)
				createUser(t, us, "pw", "alice")
				none := newUser("np", "bob")
				none.PasswordHash = ""
				t.must(us.CreateUser(ctx(t), none), "CreateUser(no password)")
				t.must(s.CreateIdentity(ctx(t), ident("p1", "iss", "a", "pw")), "CreateIdentity(p1)")
				t.must(s.CreateIdentity(ctx(t), ident("n1", "iss", "b", "np")), "CreateIdentity(n1)")
				t.must(s.CreateIdentity(ctx(t), ident("n2", "iss", "c", "np")), "CreateIdentity(n2)")
				// An attack: a user removing another user's link by its ID.
				t.wantErr(s.UnlinkIdentity(ctx(t), "np", "p1"), store.ErrNotFound, "UnlinkIdentity(another user's)")
				t.wantErr(s.UnlinkIdentity(ctx(t), "np", "never"), store.ErrNotFound, "UnlinkIdentity(unknown)")
				t.must(s.UnlinkIdentity(ctx(t), "pw", "p1"), "UnlinkIdentity(the last link of a user with a password)")
				t.must(s.UnlinkIdentity(ctx(t), "np", "n1"), "UnlinkIdentity(one of two links)")
				t.wantErr(s.UnlinkIdentity(ctx(t), "np", "n2"), store.ErrConflict, "UnlinkIdentity(the last way to sign in)")
				list, err := s.UserIdentities(ctx(t), "np")
				t.must(err, "UserIdentities(np)")
				if len(list) != 1 || list[0].ID != "n2" {
					t.Errorf("after the refused unlink np has %d identities, want n2 only", len(list))
				}
				if _, err := s.IdentityBySubject(ctx(t), "iss", "a"); err == nil {
					t.Errorf("the unlinked p1 still signs in")
				}
				// A password set afterwards frees the last link.
				_, err = us.SetPasswordHash(ctx(t), "np", "", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3")
				t.must(err, "SetPasswordHash(np)")
				t.must(s.UnlinkIdentity(ctx(t), "np", "n2"), "UnlinkIdentity(last link, password set)")
			},
		},
		{
			name: "Identity/UnlinkRace",
			text: "of concurrent unlinks of every identity of a password-less user exactly one is refused with ErrConflict: the user always keeps one identity",
			run: func(t *ct, s store.IdentityStore) {
				us := usersOf(t, s)
				const n = 6
				for round := range 3 {
					uid := fmt.Sprintf("np%d", round)
					none := newUser(uid, fmt.Sprintf("bob%d", round))
					none.PasswordHash = ""
					t.must(us.CreateUser(ctx(t), none), "CreateUser(no password)")
					for i := range n {
						t.must(s.CreateIdentity(ctx(t), ident(fmt.Sprintf("%s-i%d", uid, i), "iss", fmt.Sprintf("%s-%d", uid, i), uid)), "CreateIdentity")
					}
					errs := make([]error, n)
					var wg sync.WaitGroup
					for i := range n {
						wg.Go(func() { errs[i] = s.UnlinkIdentity(ctx(t), uid, fmt.Sprintf("%s-i%d", uid, i)) })
					}
					wg.Wait()
					if other := firstOther(errs, store.ErrConflict); other != nil {
						t.Fatalf("a concurrent UnlinkIdentity failed with %v", other)
					}
					if won, lost := count(errs, store.ErrConflict); won != n-1 || lost != 1 {
						t.Errorf("%d unlinks won and %d were refused, want %d and 1", won, lost, n-1)
					}
					list, err := s.UserIdentities(ctx(t), uid)
					t.must(err, "UserIdentities")
					if len(list) != 1 {
						t.Fatalf("after concurrent unlinks the user has %d identities, want 1", len(list))
					}
					for i, err := range errs {
						if err != nil && list[0].ID != fmt.Sprintf("%s-i%d", uid, i) {
							t.Errorf("unlink of %s-i%d was refused but %s is the one kept", uid, i, list[0].ID)
						}
					}
				}
			},
		},
		{
			name: "Identity/Cancelled",
			text: "every method with a cancelled context fails and changes nothing",
			run: func(t *ct, s store.IdentityStore) {
				c := cancelled()
				_, errLookup := s.IdentityBySubject(c, "iss", "sub")
				_, errList := s.UserIdentities(c, "u1")
				t.wantCancelled(map[string]error{
					"CreateIdentity":    s.CreateIdentity(c, ident("i1", "iss", "sub", "u1")),
					"IdentityBySubject": errLookup,
					"UserIdentities":    errList,
					"DeleteIdentity":    s.DeleteIdentity(c, "i1"),
					"UnlinkIdentity":    s.UnlinkIdentity(c, "u1", "i1"),
				})
				_, err := s.IdentityBySubject(ctx(t), "iss", "sub")
				t.wantErr(err, store.ErrNotFound, "IdentityBySubject after a cancelled create")
			},
		},
	}
}
