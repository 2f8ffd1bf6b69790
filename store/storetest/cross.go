package storetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// trickyIDs look like key separators, glob patterns, hash tags or
// terminators in some backend; each must name only itself.
var trickyIDs = []string{"a", "a:b", "a:b:c", "b", ":", "*", "a*", "?", "[a]", "\x00", "a\x00b", "{tag}", "{a}:b", "a/b", "a%b", " a", "ü"}

// trickyUsernames are usernames PRECIS accepts that look like separators.
var trickyUsernames = []string{"a:b", "a", "b", "*", "a*", "{tag}", "{a}:b", "a/b", "a%b", "[a]", "?"}

func crossClauses() []clause {
	return []clause{
		{
			name: "Isolation/Users",
			text: "one user's data is never visible or changed through another's: users, sessions, valid-after marks",
			run: func(t *ct, s store.Store) {
				createUser(t, s, "alice-id", "alice")
				createUser(t, s, "bob-id", "bob")
				createSession(t, s, newSession("as", "alice-id", now()))
				createSession(t, s, newSession("bs", "bob-id", now()))
				roles := []string{"admin"}
				_, err := s.UpdateUser(ctx(t), "alice-id", store.UserUpdate{Roles: roles})
				t.must(err, "UpdateUser(alice)")
				if b := getUser(t, s, "bob-id"); !slices.Equal(b.Roles, []string{"user"}) {
					t.Errorf("updating alice changed bob's roles to %v", b.Roles)
				}
				list, err := s.UserSessions(ctx(t), "bob-id")
				t.must(err, "UserSessions(bob)")
				if ids := sessionIDs(list); len(ids) != 1 || ids[0] != "bs" {
					t.Errorf("bob's sessions = %v, want [bs]", ids)
				}
				t.must(s.RevokeUserBefore(ctx(t), "alice-id", now().Add(time.Hour), now().Add(long)), "RevokeUserBefore(alice)")
				if isRevoked(t, s, store.Check{TokenID: "t", SessionID: "bs", UserID: "bob-id", IssuedAt: now()}) {
					t.Errorf("revoking alice's tokens revoked bob's")
				}
				t.must(s.DeleteUserSessions(ctx(t), "alice-id"), "DeleteUserSessions(alice)")
				getSession(t, s, "bs")
				t.must(s.DeleteUser(ctx(t), "alice-id"), "DeleteUser(alice)")
				getUser(t, s, "bob-id")
			},
		},
		{
			name: "Isolation/SeparatorLikeKeys",
			text: "ids, usernames and keys such as a:b, *, \\x00 and {tag} stay isolated: each names only itself, also across users, sessions, revocations and counters",
			run: func(t *ct, s store.Store) {
				// Everything is written before anything is checked, so a
				// backend whose interfaces share keys is caught too.
				trickyUsersSetup(t, s)
				trickySessionsSetup(t, s)
				trickyRevocationsSetup(t, s)
				trickyCountersSetup(t, s)
				trickyUsersCheck(t, s)
				trickySessionsCheck(t, s)
				trickyRevocationsCheck(t, s)
				trickyCountersCheck(t, s)
			},
		},
		{
			name: "Pinger/Ping",
			text: "a store that implements store.Pinger answers Ping while it is up",
			run: func(t *ct, s store.Store) {
				p, ok := s.(store.Pinger)
				if !ok {
					t.Skipf("%T does not implement store.Pinger", s)
				}
				t.must(p.Ping(ctx(t)), "Ping")
				if err := p.Ping(cancelled()); !ctxErr(err) {
					t.Errorf("Ping with a cancelled context returned %v, want context.Canceled or ErrUnavailable", err)
				}
			},
		},
		{
			name: "WriteChecker/CheckWrite",
			text: "a store that implements store.WriteChecker accepts its write probe while it is up, again and again, and the probe leaves no user, session or revocation behind",
			run: func(t *ct, s store.Store) {
				w, ok := s.(store.WriteChecker)
				if !ok {
					t.Skipf("%T does not implement store.WriteChecker", s)
				}
				for range 3 {
					t.must(w.CheckWrite(ctx(t)), "CheckWrite")
				}
				if err := w.CheckWrite(cancelled()); !ctxErr(err) {
					t.Errorf("CheckWrite with a cancelled context returned %v, want context.Canceled or ErrUnavailable", err)
				}
				users, _, err := s.ListUsers(ctx(t), "", 10)
				t.must(err, "ListUsers")
				if len(users) != 0 {
					t.Errorf("ListUsers after CheckWrite = %d users, want 0", len(users))
				}
			},
		},
	}
}

// The separator-like-key clauses, one pair of set-up and check per
// interface: each interface's clause runs its own pair, and
// Isolation/SeparatorLikeKeys runs all four set-ups on one store before
// all four checks.

func trickyUsersSetup(t *ct, s store.UserStore) {
	t.T.Helper()
	for i, name := range trickyUsernames {
		createUser(t, s, fmt.Sprintf("uid%02d", i), name)
	}
}

func trickyUsersCheck(t *ct, s store.UserStore) {
	t.T.Helper()
	for i, name := range trickyUsernames {
		u, err := s.UserByUsername(ctx(t), name)
		if err != nil || u.ID != fmt.Sprintf("uid%02d", i) {
			t.Errorf("UserByUsername(%q) = %v, %v; want uid%02d", name, u, err, i)
		}
	}
	for _, id := range trickyIDs {
		_, err := s.User(ctx(t), id)
		t.wantErr(err, store.ErrNotFound, fmt.Sprintf("User(%q) with no such user", id))
	}
}

func trickySessionsSetup(t *ct, s store.SessionStore) {
	t.T.Helper()
	base := now()
	for i, id := range trickyIDs {
		createSession(t, s, newSession("s-"+id, id, base.Add(time.Duration(i)*time.Millisecond)))
	}
}

func trickySessionsCheck(t *ct, s store.SessionStore) {
	t.T.Helper()
	for _, id := range trickyIDs {
		list, err := s.UserSessions(ctx(t), id)
		t.must(err, fmt.Sprintf("UserSessions(%q)", id))
		// A pattern-matching backend would list a*'s sessions for "a*" or "*".
		if ids := sessionIDs(list); len(ids) != 1 || ids[0] != "s-"+id {
			t.Errorf("UserSessions(%q) = %q, want only [s-%s]", id, ids, id)
		}
	}
	t.must(s.DeleteUserSessions(ctx(t), "a"), "DeleteUserSessions(a)")
	t.must(s.DeleteUserSessions(ctx(t), "*"), "DeleteUserSessions(*)")
	for _, id := range trickyIDs {
		_, err := s.Session(ctx(t), "s-"+id)
		if gone := err != nil; gone != (id == "a" || id == "*") {
			t.Errorf("after deleting the sessions of a and *, Session(s-%s) error = %v", id, err)
		}
	}
}

func trickyRevocationsSetup(t *ct, s store.Revoker) {
	t.T.Helper()
	until := now().Add(long)
	t.must(s.Revoke(ctx(t), "a:b", until), "Revoke(a:b)")
	t.must(s.Revoke(ctx(t), "*", until), "Revoke(*)")
	t.must(s.RevokeUserBefore(ctx(t), "{tag}", now().Add(time.Hour), until), "RevokeUserBefore({tag})")
	first, err := s.UseOnce(ctx(t), "a\x00b", until)
	t.must(err, "UseOnce(a\\x00b)")
	if !first {
		t.Errorf("UseOnce(a\\x00b) first use reported as a reuse")
	}
}

func trickyRevocationsCheck(t *ct, s store.Revoker) {
	t.T.Helper()
	until := now().Add(long)
	for _, id := range trickyIDs {
		revoked := isRevoked(t, s, store.Check{TokenID: id, SessionID: id, UserID: id, IssuedAt: now()})
		if want := id == "a:b" || id == "*" || id == "{tag}"; revoked != want {
			t.Errorf("IsRevoked(%q) = %v, want %v", id, revoked, want)
		}
	}
	for _, id := range trickyIDs {
		if id == "a\x00b" {
			continue
		}
		first, err := s.UseOnce(ctx(t), id, until)
		t.must(err, fmt.Sprintf("UseOnce(%q)", id))
		if !first {
			t.Errorf("UseOnce(%q) reported a reuse after only a\\x00b was used", id)
		}
	}
}

func trickyCountersSetup(t *ct, s store.Counter) {
	t.T.Helper()
	_, _, err := s.Incr(ctx(t), "a:b", time.Minute)
	t.must(err, "Incr(a:b)")
}

func trickyCountersCheck(t *ct, s store.Counter) {
	t.T.Helper()
	for _, id := range trickyIDs {
		n, _, err := s.Count(ctx(t), id)
		t.must(err, fmt.Sprintf("Count(%q)", id))
		want := int64(0)
		if id == "a:b" {
			want = 1
		}
		if n != want {
			t.Errorf("Count(%q) = %d, want %d", id, n, want)
		}
	}
}
