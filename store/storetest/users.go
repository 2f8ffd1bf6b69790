package storetest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

func newUser(id, username string) *store.User {
	return &store.User{
		ID:           id,
		Username:     username,
		Email:        username + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Roles:        []string{"user"},
	}
}

func createUser(t *ct, s store.UserStore, id, username string) *store.User {
	t.T.Helper()
	u := newUser(id, username)
	t.must(s.CreateUser(ctx(t), u), fmt.Sprintf("CreateUser(%q, %q)", id, username))
	return u
}

func getUser(t *ct, s store.UserStore, id string) *store.User {
	t.T.Helper()
	u, err := s.User(ctx(t), id)
	t.must(err, fmt.Sprintf("User(%q)", id))
	if u == nil {
		t.Fatalf("User(%q) returned nil with no error", id)
	}
	return u
}

// concurrentSwaps runs rounds of n concurrent SetPasswordHash calls from
// one expected hash and checks that exactly one of each round wins and
// that the winner's hash is the one stored.
func concurrentSwaps(t *ct, s store.UserStore, n, rounds int) {
	t.T.Helper()
	createUser(t, s, "u1", "alice")
	expected := getUser(t, s, "u1").PasswordHash
	for round := range rounds {
		errs := make([]error, n)
		got := make([]*store.User, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = s.SetPasswordHash(ctx(t), "u1", expected, fmt.Sprintf("$2a$12$round%03d-%02d", round, i))
			})
		}
		close(start)
		wg.Wait()
		won, lost := count(errs, store.ErrConflict)
		if won != 1 || lost != n-1 {
			// Two winners: a password change undid a concurrent reset,
			// and the attacker's password works after the owner's reset.
			t.Fatalf("round %d: %d swaps won, %d got ErrConflict; want 1 and %d (other error: %v)", round, won, lost, n-1, firstOther(errs, store.ErrConflict))
		}
		winner := ""
		for i, err := range errs {
			if err == nil {
				winner = fmt.Sprintf("$2a$12$round%03d-%02d", round, i)
				if got[i] == nil || got[i].PasswordHash != winner {
					t.Fatalf("round %d: the winning swap returned %+v, want hash %q", round, got[i], winner)
				}
			}
		}
		if stored := getUser(t, s, "u1").PasswordHash; stored != winner {
			t.Fatalf("round %d: stored hash %q, want the winner's %q", round, stored, winner)
		}
		expected = winner
	}
}

func userClauses() []clauseOf[store.UserStore] {
	return []clauseOf[store.UserStore]{
		{
			name: "CreateUser/RoundTrip",
			text: "CreateUser stores the user; User returns it with CreatedAt and UpdatedAt set",
			run: func(t *ct, s store.UserStore) {
				before := time.Now().Add(-time.Second)
				in := createUser(t, s, "u1", "alice")
				got := getUser(t, s, "u1")
				if got.ID != in.ID || got.Username != "alice" || got.Email != in.Email ||
					got.PasswordHash != in.PasswordHash || !slices.Equal(got.Roles, in.Roles) {
					t.Errorf("User returned %+v, want the fields of %+v", got, in)
				}
				if got.CreatedAt.Before(before) || got.UpdatedAt.Before(before) {
					t.Errorf("CreatedAt %v / UpdatedAt %v not set to the creation time", got.CreatedAt, got.UpdatedAt)
				}
			},
		},
		{
			name: "CreateUser/CanonicalisesUsername",
			text: "CreateUser stores the canonical username; UserByUsername canonicalises its argument",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "Alice")
				if got := getUser(t, s, "u1"); got.Username != "alice" {
					t.Errorf("stored username %q, want canonical %q", got.Username, "alice")
				}
				for _, name := range []string{"alice", "ALICE", "Alice", "ａｌｉｃｅ"} {
					u, err := s.UserByUsername(ctx(t), name)
					if err != nil || u == nil || u.ID != "u1" {
						t.Errorf("UserByUsername(%q) = %v, %v; want user u1", name, u, err)
					}
				}
			},
		},
		{
			name: "CreateUser/CanonicalFormIdempotent",
			text: "the canonical form of a canonical username is itself",
			run: func(t *ct, s store.UserStore) {
				for _, name := range []string{"Admin", "ａｄｍｉｎ", "ÅNGSTRÖM", "user.name-1_x"} {
					c1, err := store.CanonicalUsername(name)
					t.must(err, fmt.Sprintf("CanonicalUsername(%q)", name))
					c2, err := store.CanonicalUsername(c1)
					t.must(err, fmt.Sprintf("CanonicalUsername(%q)", c1))
					if c1 != c2 {
						t.Errorf("CanonicalUsername(%q) = %q but CanonicalUsername(%q) = %q", name, c1, c1, c2)
					}
				}
				createUser(t, s, "u1", "ÅNGSTRÖM")
				stored := getUser(t, s, "u1").Username
				u, err := s.UserByUsername(ctx(t), stored)
				if err != nil || u.ID != "u1" {
					t.Errorf("UserByUsername(stored form %q) = %v, %v; want u1", stored, u, err)
				}
			},
		},
		{
			name: "CreateUser/UsernameCollision",
			text: "usernames are unique after PRECIS UsernameCaseMapped: Admin, ADMIN and fullwidth ａｄｍｉｎ collide with admin",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "first", "admin")
				// An attacker registering a look-alike of an existing
				// account must be refused, not given a second "admin".
				for i, name := range []string{"Admin", "ADMIN", "ａｄｍｉｎ", "ＡＤＭＩＮ", "admin"} {
					err := s.CreateUser(ctx(t), newUser(fmt.Sprintf("other%d", i), name))
					t.wantErr(err, store.ErrConflict, fmt.Sprintf("CreateUser(%q)", name))
					if _, err := s.User(ctx(t), fmt.Sprintf("other%d", i)); err == nil {
						t.Errorf("CreateUser(%q) failed but stored the user anyway", name)
					}
				}
				if u := getUser(t, s, "first"); u.Username != "admin" || u.Email != "admin@example.com" {
					t.Errorf("a refused duplicate changed the original user: %+v", u)
				}
			},
		},
		{
			name: "CreateUser/DuplicateID",
			text: "CreateUser returns ErrConflict when the ID is taken, and changes nothing",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				err := s.CreateUser(ctx(t), newUser("u1", "bob"))
				t.wantErr(err, store.ErrConflict, "CreateUser with a taken ID")
				if u := getUser(t, s, "u1"); u.Username != "alice" {
					t.Errorf("a refused duplicate ID overwrote the user: username %q", u.Username)
				}
				if _, err := s.UserByUsername(ctx(t), "bob"); err == nil {
					t.Errorf("a refused duplicate ID left its username %q reserved", "bob")
				}
			},
		},
		{
			name: "CreateUser/Invalid",
			text: "CreateUser returns ErrInvalid for an empty ID or a username PRECIS rejects",
			run: func(t *ct, s store.UserStore) {
				rows := []struct{ name, id, username string }{
					{"empty ID", "", "alice"},
					{"empty username", "u1", ""},
					{"space in username", "u2", "al ice"},
					{"control character", "u3", "al\x00ice"}, // NUL smuggled into a username
					{"bidi override", "u4", "\u202eadmin"},   // display spoofing
				}
				for _, r := range rows {
					err := s.CreateUser(ctx(t), newUser(r.id, r.username))
					t.wantErr(err, store.ErrInvalid, r.name)
				}
				if users, _, err := s.ListUsers(ctx(t), "", 10); err != nil || len(users) != 0 {
					t.Errorf("invalid users were stored: %d users, err %v", len(users), err)
				}
			},
		},
		{
			name: "CreateUser/ConcurrentSameUsername",
			text: "of 100 concurrent creations of one username exactly one wins, the others get ErrConflict",
			run: func(t *ct, s store.UserStore) {
				const n = 100
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						// Mixed case: the race must be on the canonical form.
						name := "racer"
						if i%2 == 1 {
							name = "Racer"
						}
						errs[i] = s.CreateUser(ctx(t), newUser(fmt.Sprintf("id%03d", i), name))
					})
				}
				close(start)
				wg.Wait()
				won, lost := count(errs, store.ErrConflict)
				if won != 1 || lost != n-1 {
					t.Errorf("%d won, %d got ErrConflict, want 1 and %d (other error: %v)", won, lost, n-1, firstOther(errs, store.ErrConflict))
				}
				users, _, err := s.ListUsers(ctx(t), "", 1000)
				t.must(err, "ListUsers")
				if len(users) != 1 {
					t.Errorf("%d users stored, want 1", len(users))
				}
			},
		},
		{
			name: "CreateUser/CopiesInput",
			text: "the store keeps its own copy: changing the User passed to CreateUser changes nothing stored",
			run: func(t *ct, s store.UserStore) {
				u := createUser(t, s, "u1", "alice")
				u.Roles[0] = "admin" // privilege escalation through a shared slice
				u.Email = "evil@example.com"
				got := getUser(t, s, "u1")
				if !slices.Equal(got.Roles, []string{"user"}) || got.Email != "alice@example.com" {
					t.Errorf("stored user changed with the caller's struct: %+v", got)
				}
			},
		},
		{
			name: "User/ReturnsCopies",
			text: "User, UserByUsername, UpdateUser, SetPasswordHash and ListUsers return copies: mutating one changes nothing stored",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				mutate := func(u *store.User) {
					u.Roles[0] = "admin" // privilege escalation through a shared slice
					u.Username = "mallory"
					u.PasswordHash = "x"
				}
				mutate(getUser(t, s, "u1"))
				u, err := s.UserByUsername(ctx(t), "alice")
				t.must(err, "UserByUsername")
				mutate(u)
				u, err = s.UpdateUser(ctx(t), "u1", store.UserUpdate{})
				t.must(err, "UpdateUser")
				mutate(u)
				u, err = s.SetPasswordHash(ctx(t), "u1", newUser("u1", "alice").PasswordHash, "$2a$12$swapped")
				t.must(err, "SetPasswordHash")
				mutate(u)
				u, err = s.SetPasswordHash(ctx(t), "u1", "stale", "$2a$12$lost")
				t.wantErr(err, store.ErrConflict, "SetPasswordHash(stale)")
				if u != nil {
					mutate(u)
				}
				users, _, err := s.ListUsers(ctx(t), "", 10)
				t.must(err, "ListUsers")
				for _, u := range users {
					mutate(u)
				}
				got := getUser(t, s, "u1")
				if !slices.Equal(got.Roles, []string{"user"}) || got.Username != "alice" || got.PasswordHash != "$2a$12$swapped" {
					t.Errorf("stored user changed through a returned value: %+v", got)
				}
				if _, err := s.UserByUsername(ctx(t), "alice"); err != nil {
					t.Errorf("UserByUsername(alice) after mutating copies: %v", err)
				}
			},
		},
		{
			name: "User/NotFound",
			text: "User and UserByUsername return ErrNotFound for a missing user, also for a username that cannot be canonicalised",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				_, err := s.User(ctx(t), "u2")
				t.wantErr(err, store.ErrNotFound, "User(missing)")
				_, err = s.User(ctx(t), "")
				t.wantErr(err, store.ErrNotFound, "User(\"\")")
				_, err = s.UserByUsername(ctx(t), "bob")
				t.wantErr(err, store.ErrNotFound, "UserByUsername(missing)")
				_, err = s.UserByUsername(ctx(t), "al ice")
				t.wantErr(err, store.ErrNotFound, "UserByUsername(not canonicalisable)")
				_, err = s.UserByUsername(ctx(t), "")
				t.wantErr(err, store.ErrNotFound, "UserByUsername(\"\")")
			},
		},
		{
			name: "UpdateUser/Fields",
			text: "UpdateUser changes the non-nil fields only, sets UpdatedAt and returns the updated user",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				orig := getUser(t, s, "u1")
				time.Sleep(2 * time.Millisecond)
				hash, email := "$2a$12$newhash", "new@example.com"
				got, err := s.UpdateUser(ctx(t), "u1", store.UserUpdate{PasswordHash: &hash})
				t.must(err, "UpdateUser(PasswordHash)")
				if got.PasswordHash != hash || got.Email != orig.Email || !slices.Equal(got.Roles, orig.Roles) {
					t.Errorf("after updating the hash only: %+v", got)
				}
				if !got.UpdatedAt.After(orig.UpdatedAt) || !sameTime(got.CreatedAt, orig.CreatedAt) {
					t.Errorf("UpdatedAt %v (was %v), CreatedAt %v (was %v): want UpdatedAt later, CreatedAt unchanged",
						got.UpdatedAt, orig.UpdatedAt, got.CreatedAt, orig.CreatedAt)
				}
				_, err = s.UpdateUser(ctx(t), "u1", store.UserUpdate{Roles: []string{"admin", "user"}, Email: &email})
				t.must(err, "UpdateUser(Roles, Email)")
				got = getUser(t, s, "u1")
				if got.PasswordHash != hash || got.Email != email || !slices.Equal(got.Roles, []string{"admin", "user"}) {
					t.Errorf("stored after updating roles and email: %+v", got)
				}
				_, err = s.UpdateUser(ctx(t), "u1", store.UserUpdate{Roles: []string{}})
				t.must(err, "UpdateUser(Roles: empty)")
				if got = getUser(t, s, "u1"); len(got.Roles) != 0 {
					t.Errorf("a non-nil empty Roles left roles %v", got.Roles)
				}
				if got.Username != "alice" {
					t.Errorf("UpdateUser changed the username to %q", got.Username)
				}
			},
		},
		{
			name: "UpdateUser/NotFound",
			text: "UpdateUser returns ErrNotFound for a missing user and creates nothing",
			run: func(t *ct, s store.UserStore) {
				hash := "h"
				_, err := s.UpdateUser(ctx(t), "ghost", store.UserUpdate{PasswordHash: &hash})
				t.wantErr(err, store.ErrNotFound, "UpdateUser(missing)")
				_, err = s.User(ctx(t), "ghost")
				t.wantErr(err, store.ErrNotFound, "User after UpdateUser(missing)")
			},
		},
		{
			name: "ListUsers/Paging",
			text: "ListUsers returns up to limit users ordered by ID after the cursor, and next is \"\" when no more remain",
			run: func(t *ct, s store.UserStore) {
				var ids []string
				for i := range 7 {
					id := fmt.Sprintf("id-%c", 'g'-i) // created out of order
					ids = append(ids, id)
					createUser(t, s, id, fmt.Sprintf("user%d", i))
				}
				sort.Strings(ids)
				for _, limit := range []int{1, 3, 7, 100} {
					var got []string
					cursor, pages := "", 0
					for {
						users, next, err := s.ListUsers(ctx(t), cursor, limit)
						t.must(err, fmt.Sprintf("ListUsers(%q, %d)", cursor, limit))
						if len(users) > limit {
							t.Fatalf("ListUsers(limit %d) returned %d users", limit, len(users))
						}
						for _, u := range users {
							got = append(got, u.ID)
						}
						pages++
						if next == "" {
							break
						}
						if pages > 10 {
							t.Fatalf("ListUsers(limit %d) did not end after %d pages", limit, pages)
						}
						cursor = next
					}
					if !slices.Equal(got, ids) {
						t.Errorf("limit %d: paged through %v, want %v", limit, got, ids)
					}
					if want := (len(ids) + limit - 1) / limit; pages != want {
						t.Errorf("limit %d: %d pages, want %d (a full last page must have next \"\")", limit, pages, want)
					}
				}
			},
		},
		{
			name: "ListUsers/Empty",
			text: "ListUsers on an empty store returns no users and next \"\"",
			run: func(t *ct, s store.UserStore) {
				users, next, err := s.ListUsers(ctx(t), "", 10)
				t.must(err, "ListUsers")
				if len(users) != 0 || next != "" {
					t.Errorf("got %d users, next %q; want none and \"\"", len(users), next)
				}
			},
		},
		{
			name: "ListUsers/InvalidLimit",
			text: "ListUsers returns ErrInvalid for a limit below 1",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				for _, limit := range []int{0, -1} {
					_, _, err := s.ListUsers(ctx(t), "", limit)
					t.wantErr(err, store.ErrInvalid, fmt.Sprintf("ListUsers(limit %d)", limit))
				}
			},
		},
		{
			name: "ListUsers/InvalidCursor",
			text: "ListUsers returns ErrInvalid for a cursor the store did not issue, and accepts one of store.EncodeCursor",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				createUser(t, s, "u2", "bob")
				for _, c := range []string{"bogus", "dTE", "!!", "u1", store.EncodeCursor("u1") + "x"} {
					_, _, err := s.ListUsers(ctx(t), c, 10)
					t.wantErr(err, store.ErrInvalid, fmt.Sprintf("ListUsers(cursor %q)", c))
				}
				users, next, err := s.ListUsers(ctx(t), store.EncodeCursor("u1"), 10)
				t.must(err, "ListUsers(EncodeCursor(u1))")
				if len(users) != 1 || users[0].ID != "u2" || next != "" {
					t.Errorf("ListUsers after u1 = %d users, next %q; want [u2] and \"\"", len(users), next)
				}
			},
		},
		{
			name: "DeleteUser/FreesUsername",
			text: "DeleteUser removes the user and frees its username; deleting again returns ErrNotFound",
			run: func(t *ct, s store.UserStore) {
				createUser(t, s, "u1", "alice")
				createUser(t, s, "u2", "bob")
				t.must(s.DeleteUser(ctx(t), "u1"), "DeleteUser")
				_, err := s.User(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "User after DeleteUser")
				_, err = s.UserByUsername(ctx(t), "alice")
				t.wantErr(err, store.ErrNotFound, "UserByUsername after DeleteUser")
				t.wantErr(s.DeleteUser(ctx(t), "u1"), store.ErrNotFound, "DeleteUser again")
				t.wantErr(s.DeleteUser(ctx(t), "ghost"), store.ErrNotFound, "DeleteUser(missing)")
				createUser(t, s, "u3", "Alice")
				if u := getUser(t, s, "u2"); u.Username != "bob" {
					t.Errorf("deleting u1 changed u2: %+v", u)
				}
				users, _, err := s.ListUsers(ctx(t), "", 10)
				t.must(err, "ListUsers")
				if len(users) != 2 {
					t.Errorf("ListUsers after delete: %d users, want 2", len(users))
				}
			},
		},
		{
			name: "Context/Cancelled/UserStore",
			text: "every UserStore method honours a cancelled context: it returns an error (the context's or ErrUnavailable) and stores nothing",
			run: func(t *ct, s store.UserStore) {
				cx := cancelled()
				createUser(t, s, "u0", "existing")
				errs := map[string]error{
					"CreateUser": s.CreateUser(cx, newUser("u1", "alice")),
					"DeleteUser": s.DeleteUser(cx, "u0"),
				}
				_, errs["UpdateUser"] = s.UpdateUser(cx, "u0", store.UserUpdate{Roles: []string{"admin"}})
				_, errs["SetPasswordHash"] = s.SetPasswordHash(cx, "u0", newUser("u0", "existing").PasswordHash, "$2a$12$cancelled")
				_, errs["User"] = s.User(cx, "u0")
				_, errs["UserByUsername"] = s.UserByUsername(cx, "existing")
				_, _, errs["ListUsers"] = s.ListUsers(cx, "", 10)
				t.wantCancelled(errs)
				// Nothing changed.
				_, err := s.User(ctx(t), "u1")
				t.wantErr(err, store.ErrNotFound, "User(u1) after a cancelled CreateUser")
				if u := getUser(t, s, "u0"); !slices.Equal(u.Roles, []string{"user"}) {
					t.Errorf("a cancelled UpdateUser changed roles to %v", u.Roles)
				} else if u.PasswordHash != newUser("u0", "existing").PasswordHash {
					t.Errorf("a cancelled SetPasswordHash changed the hash to %q", u.PasswordHash)
				}
			},
		},
		{
			name: "SetPasswordHash/Swaps",
			text: "SetPasswordHash with the stored hash as expected sets the hash to next, sets UpdatedAt, changes nothing else and returns the updated user",
			run: func(t *ct, s store.UserStore) {
				in := createUser(t, s, "u1", "alice")
				createUser(t, s, "u2", "bob")
				orig := getUser(t, s, "u1")
				time.Sleep(2 * time.Millisecond)
				next := "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA"
				got, err := s.SetPasswordHash(ctx(t), "u1", in.PasswordHash, next)
				t.must(err, "SetPasswordHash(stored hash)")
				if got == nil || got.ID != "u1" || got.PasswordHash != next || got.Username != "alice" ||
					got.Email != orig.Email || !slices.Equal(got.Roles, orig.Roles) {
					t.Fatalf("SetPasswordHash returned %+v, want u1 with only the hash changed to %q", got, next)
				}
				if !got.UpdatedAt.After(orig.UpdatedAt) || !sameTime(got.CreatedAt, orig.CreatedAt) {
					t.Errorf("UpdatedAt %v (was %v), CreatedAt %v (was %v): want UpdatedAt later, CreatedAt unchanged",
						got.UpdatedAt, orig.UpdatedAt, got.CreatedAt, orig.CreatedAt)
				}
				if stored := getUser(t, s, "u1"); stored.PasswordHash != next {
					t.Errorf("stored hash %q after the swap, want %q", stored.PasswordHash, next)
				}
				// The hash that won is the one the next swap is checked against.
				got, err = s.SetPasswordHash(ctx(t), "u1", next, "$2a$12$third")
				t.must(err, "SetPasswordHash(from the swapped hash)")
				if got.PasswordHash != "$2a$12$third" {
					t.Errorf("second swap returned hash %q, want %q", got.PasswordHash, "$2a$12$third")
				}
				if b := getUser(t, s, "u2"); b.PasswordHash != in.PasswordHash {
					t.Errorf("swapping u1's hash changed u2's to %q", b.PasswordHash)
				}
				// A user created without a hash (signed up through a provider) swaps from "".
				none := newUser("u3", "carol")
				none.PasswordHash = ""
				t.must(s.CreateUser(ctx(t), none), "CreateUser(no hash)")
				got, err = s.SetPasswordHash(ctx(t), "u3", "", next)
				t.must(err, "SetPasswordHash(u3, from \"\")")
				if got.PasswordHash != next {
					t.Errorf("swap from \"\" returned hash %q, want %q", got.PasswordHash, next)
				}
			},
		},
		{
			name: "SetPasswordHash/Stale",
			text: "SetPasswordHash with an expected hash that is not the stored one changes nothing and returns the user as stored with ErrConflict",
			run: func(t *ct, s store.UserStore) {
				in := createUser(t, s, "u1", "alice")
				// A reset lands between the change's check and its write.
				reset := "$argon2id$v=19$m=19456,t=2,p=1$cmVzZXQ$cmVzZXRoYXNo"
				_, err := s.SetPasswordHash(ctx(t), "u1", in.PasswordHash, reset)
				t.must(err, "SetPasswordHash(reset)")
				before := getUser(t, s, "u1")
				for _, stale := range []string{
					in.PasswordHash, // the hash the slower change was checked against
					"",
					reset[:len(reset)-1], // a prefix: the compare is exact
					strings.ToUpper(reset),
					reset + " ",
					reset + "\x00", // a NUL-terminated compare would match
					"\xff",
				} {
					got, err := s.SetPasswordHash(ctx(t), "u1", stale, "$2a$12$attacker")
					t.wantErr(err, store.ErrConflict, fmt.Sprintf("SetPasswordHash(expected %q)", stale))
					if got == nil || got.ID != "u1" || got.PasswordHash != reset {
						t.Errorf("the losing swap (expected %q) returned %+v, want the user as stored, hash %q", stale, got, reset)
					}
				}
				after := getUser(t, s, "u1")
				if after.PasswordHash != reset || !sameTime(after.UpdatedAt, before.UpdatedAt) {
					t.Errorf("a losing swap changed the user: hash %q (want %q), UpdatedAt %v (was %v)", after.PasswordHash, reset, after.UpdatedAt, before.UpdatedAt)
				}
				// An unconditional write also makes an older expected hash stale.
				admin := "$2a$12$admin"
				_, err = s.UpdateUser(ctx(t), "u1", store.UserUpdate{PasswordHash: &admin})
				t.must(err, "UpdateUser(PasswordHash)")
				_, err = s.SetPasswordHash(ctx(t), "u1", reset, "$2a$12$attacker")
				t.wantErr(err, store.ErrConflict, "SetPasswordHash(expected the hash UpdateUser replaced)")
				if h := getUser(t, s, "u1").PasswordHash; h != admin {
					t.Errorf("stored hash %q, want %q", h, admin)
				}
			},
		},
		{
			name: "SetPasswordHash/ConcurrentTwo",
			text: "of two concurrent swaps from one expected hash exactly one wins and the other gets ErrConflict, round after round (100 rounds)",
			run:  func(t *ct, s store.UserStore) { concurrentSwaps(t, s, 2, 100) },
		},
		{
			name: "SetPasswordHash/ConcurrentTwenty",
			text: "of 20 concurrent swaps from one expected hash exactly one wins and the others get ErrConflict (10 rounds)",
			run:  func(t *ct, s store.UserStore) { concurrentSwaps(t, s, 20, 10) },
		},
		{
			name: "SetPasswordHash/NotFound",
			text: "SetPasswordHash returns ErrNotFound for a missing user and creates nothing",
			run: func(t *ct, s store.UserStore) {
				in := createUser(t, s, "u1", "alice")
				for _, id := range []string{"ghost", "", "U1", "u1 "} {
					_, err := s.SetPasswordHash(ctx(t), id, in.PasswordHash, "$2a$12$x")
					t.wantErr(err, store.ErrNotFound, fmt.Sprintf("SetPasswordHash(%q)", id))
				}
				_, err := s.User(ctx(t), "ghost")
				t.wantErr(err, store.ErrNotFound, "User after SetPasswordHash(missing)")
				if h := getUser(t, s, "u1").PasswordHash; h != in.PasswordHash {
					t.Errorf("swaps of other ids changed u1's hash to %q", h)
				}
			},
		},
		{
			name: "SetPasswordHash/Invalid",
			text: "SetPasswordHash returns ErrInvalid for an empty next hash and changes nothing",
			run: func(t *ct, s store.UserStore) {
				in := createUser(t, s, "u1", "alice")
				// Clearing the hash through a swap would leave an account
				// no password opens, or one a weak verifier lets anyone in.
				_, err := s.SetPasswordHash(ctx(t), "u1", in.PasswordHash, "")
				t.wantErr(err, store.ErrInvalid, "SetPasswordHash(next \"\")")
				if h := getUser(t, s, "u1").PasswordHash; h != in.PasswordHash {
					t.Errorf("a refused swap changed the hash to %q", h)
				}
			},
		},
		{
			name: "Isolation/SeparatorLikeKeys/UserStore",
			text: "UserStore: ids, usernames and keys such as a:b, *, \\x00 and {tag} stay isolated: each names only itself",
			run: func(t *ct, s store.UserStore) {
				trickyUsersSetup(t, s)
				trickyUsersCheck(t, s)
			},
		},
	}
}
