package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

func newSession(id, userID string, created time.Time) *store.Session {
	return &store.Session{
		ID:            id,
		UserID:        userID,
		CreatedAt:     created,
		LastUsedAt:    created,
		IdleExpiresAt: created.Add(long),
		ExpiresAt:     created.Add(2 * long),
		UserAgent:     "Mozilla/5.0",
		IP:            "192.0.2.1",
		RefreshID:     "r0-" + id,
	}
}

func createSession(t *ct, s store.SessionStore, se *store.Session) {
	t.T.Helper()
	t.must(s.CreateSession(ctx(t), se), fmt.Sprintf("CreateSession(%q)", se.ID))
}

func getSession(t *ct, s store.SessionStore, id string) *store.Session {
	t.T.Helper()
	se, err := s.Session(ctx(t), id)
	t.must(err, fmt.Sprintf("Session(%q)", id))
	if se == nil {
		t.Fatalf("Session(%q) returned nil with no error", id)
	}
	return se
}

func sameSession(a, b *store.Session) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.UserAgent == b.UserAgent && a.IP == b.IP &&
		a.RefreshID == b.RefreshID && a.PreviousRefreshID == b.PreviousRefreshID &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.LastUsedAt, b.LastUsedAt) &&
		sameTime(a.IdleExpiresAt, b.IdleExpiresAt) && sameTime(a.ExpiresAt, b.ExpiresAt) &&
		sameTime(a.RotatedAt, b.RotatedAt)
}

func sessionIDs(ss []*store.Session) []string {
	ids := make([]string, len(ss))
	for i, se := range ss {
		ids[i] = se.ID
	}
	return ids
}

// concurrentRotations runs n rotations of one session with one Expected
// value and checks that exactly one wins.
func concurrentRotations(t *ct, s store.SessionStore, n int) {
	t.T.Helper()
	created := now()
	se := newSession("s1", "u1", created)
	createSession(t, s, se)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.RotateSession(ctx(t), "s1", store.Rotation{
				Expected:      se.RefreshID,
				Next:          fmt.Sprintf("r1-%d", i),
				At:            created.Add(time.Second),
				IdleExpiresAt: created.Add(long + time.Second),
			})
		})
	}
	close(start)
	wg.Wait()
	won, lost := count(errs, store.ErrConflict)
	if won != 1 || lost != n-1 {
		// Two winners means one refresh token was spent twice: the
		// replay that reuse detection exists to catch.
		t.Fatalf("%d rotations won, %d got ErrConflict; want 1 and %d (other error: %v)", won, lost, n-1, firstOther(errs, store.ErrConflict))
	}
	winner := -1
	for i, err := range errs {
		if err == nil {
			winner = i
		}
	}
	got := getSession(t, s, "s1")
	if want := fmt.Sprintf("r1-%d", winner); got.RefreshID != want || got.PreviousRefreshID != se.RefreshID {
		t.Errorf("after the race RefreshID %q, PreviousRefreshID %q; want the winner's %q and %q", got.RefreshID, got.PreviousRefreshID, want, se.RefreshID)
	}
}

func sessionClauses() []clauseOf[store.SessionStore] {
	return []clauseOf[store.SessionStore]{
		{
			name: "CreateSession/RoundTrip",
			text: "CreateSession stores the session; Session returns every field",
			run: func(t *ct, s store.SessionStore) {
				in := newSession("s1", "u1", now())
				createSession(t, s, in)
				if got := getSession(t, s, "s1"); !sameSession(got, in) {
					t.Errorf("Session returned %+v, want %+v", got, in)
				}
			},
		},
		{
			name: "CreateSession/DuplicateID",
			text: "CreateSession returns ErrConflict when the ID is taken, and changes nothing",
			run: func(t *ct, s store.SessionStore) {
				in := newSession("s1", "u1", now())
				createSession(t, s, in)
				// Planting a session under another user's session ID.
				err := s.CreateSession(ctx(t), newSession("s1", "attacker", now()))
				t.wantErr(err, store.ErrConflict, "CreateSession with a taken ID")
				if got := getSession(t, s, "s1"); !sameSession(got, in) {
					t.Errorf("a refused duplicate changed the session: %+v", got)
				}
				list, err := s.UserSessions(ctx(t), "attacker")
				t.must(err, "UserSessions")
				if len(list) != 0 {
					t.Errorf("a refused duplicate is listed under its user: %v", sessionIDs(list))
				}
			},
		},
		{
			name: "CreateSession/Invalid",
			text: "CreateSession returns ErrInvalid for an empty ID or UserID, or a zero ExpiresAt",
			run: func(t *ct, s store.SessionStore) {
				noID := newSession("", "u1", now())
				noUser := newSession("s1", "", now())
				noExpiry := newSession("s2", "u1", now())
				noExpiry.ExpiresAt = time.Time{} // a session that never ends
				for name, se := range map[string]*store.Session{"empty ID": noID, "empty UserID": noUser, "zero ExpiresAt": noExpiry} {
					t.wantErr(s.CreateSession(ctx(t), se), store.ErrInvalid, name)
				}
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				if len(list) != 0 {
					t.Errorf("invalid sessions were stored: %v", sessionIDs(list))
				}
			},
		},
		{
			name: "CreateSession/IdleDefaultsToAbsolute",
			text: "A zero IdleExpiresAt, or one after ExpiresAt, is stored as ExpiresAt",
			run: func(t *ct, s store.SessionStore) {
				zero := newSession("s1", "u1", now())
				zero.IdleExpiresAt = time.Time{}
				late := newSession("s2", "u1", now())
				late.IdleExpiresAt = late.ExpiresAt.Add(time.Hour)
				for _, in := range []*store.Session{zero, late} {
					createSession(t, s, in)
					got := getSession(t, s, in.ID)
					if !sameTime(got.IdleExpiresAt, in.ExpiresAt) {
						t.Errorf("Session(%q).IdleExpiresAt = %v, want ExpiresAt %v", in.ID, got.IdleExpiresAt, in.ExpiresAt)
					}
				}
			},
		},
		{
			name: "Session/NotFound",
			text: "Session, RotateSession and DeleteSession return ErrNotFound for a missing session",
			run: func(t *ct, s store.SessionStore) {
				createSession(t, s, newSession("s1", "u1", now()))
				_, err := s.Session(ctx(t), "s2")
				t.wantErr(err, store.ErrNotFound, "Session(missing)")
				_, err = s.Session(ctx(t), "")
				t.wantErr(err, store.ErrNotFound, "Session(\"\")")
				_, err = s.RotateSession(ctx(t), "s2", store.Rotation{Expected: "r0-s2", Next: "x", At: now(), IdleExpiresAt: now().Add(long)})
				t.wantErr(err, store.ErrNotFound, "RotateSession(missing)")
				t.wantErr(s.DeleteSession(ctx(t), "s2"), store.ErrNotFound, "DeleteSession(missing)")
				_, err = s.Session(ctx(t), "s2")
				t.wantErr(err, store.ErrNotFound, "Session after RotateSession(missing)")
			},
		},
		{
			name: "Session/ReturnsCopies",
			text: "the store keeps its own copy of a session: changing the input or a returned value changes nothing stored",
			run: func(t *ct, s store.SessionStore) {
				in := newSession("s1", "u1", now())
				want := *in
				createSession(t, s, in)
				in.RefreshID = "forged" // rotation without a CAS
				in.UserID = "u2"
				got := getSession(t, s, "s1")
				got.RefreshID = "forged"
				got.ExpiresAt = got.ExpiresAt.Add(long)
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				for _, se := range list {
					se.RefreshID = "forged"
				}
				if got := getSession(t, s, "s1"); !sameSession(got, &want) {
					t.Errorf("stored session changed through a shared value: %+v", got)
				}
			},
		},
		{
			name: "RotateSession/Swaps",
			text: "RotateSession with the current refresh id sets RefreshID to Next, PreviousRefreshID to Expected, LastUsedAt and RotatedAt to At, and IdleExpiresAt",
			run: func(t *ct, s store.SessionStore) {
				created := now()
				in := newSession("s1", "u1", created)
				createSession(t, s, in)
				r := store.Rotation{Expected: in.RefreshID, Next: "r1", At: created.Add(time.Minute), IdleExpiresAt: created.Add(long + time.Minute)}
				got, err := s.RotateSession(ctx(t), "s1", r)
				t.must(err, "RotateSession")
				want := *in
				want.RefreshID, want.PreviousRefreshID = "r1", in.RefreshID
				want.LastUsedAt, want.RotatedAt, want.IdleExpiresAt = r.At, r.At, r.IdleExpiresAt
				if got == nil || !sameSession(got, &want) {
					t.Errorf("RotateSession returned %+v, want %+v", got, want)
				}
				if stored := getSession(t, s, "s1"); !sameSession(stored, &want) {
					t.Errorf("stored after rotation %+v, want %+v", stored, want)
				}
				r2 := store.Rotation{Expected: "r1", Next: "r2", At: created.Add(2 * time.Minute), IdleExpiresAt: created.Add(long + 2*time.Minute)}
				got, err = s.RotateSession(ctx(t), "s1", r2)
				t.must(err, "second RotateSession")
				if got.RefreshID != "r2" || got.PreviousRefreshID != "r1" {
					t.Errorf("second rotation: RefreshID %q PreviousRefreshID %q, want r2 and r1 (one generation kept)", got.RefreshID, got.PreviousRefreshID)
				}
			},
		},
		{
			name: "RotateSession/Stale",
			text: "RotateSession with a refresh id that is not the current one returns the session unchanged with ErrConflict",
			run: func(t *ct, s store.SessionStore) {
				created := now()
				in := newSession("s1", "u1", created)
				createSession(t, s, in)
				r := store.Rotation{Expected: in.RefreshID, Next: "r1", At: created.Add(time.Second), IdleExpiresAt: created.Add(long)}
				_, err := s.RotateSession(ctx(t), "s1", r)
				t.must(err, "RotateSession")
				before := getSession(t, s, "s1")
				// Replaying the spent refresh token: the reuse signal.
				replay := store.Rotation{Expected: in.RefreshID, Next: "r-replay", At: created.Add(2 * time.Second), IdleExpiresAt: created.Add(long + time.Hour)}
				got, err := s.RotateSession(ctx(t), "s1", replay)
				t.wantErr(err, store.ErrConflict, "RotateSession with the spent refresh id")
				if got == nil || !sameSession(got, before) {
					t.Errorf("the losing rotation returned %+v, want the session unchanged %+v", got, before)
				}
				if after := getSession(t, s, "s1"); !sameSession(after, before) {
					t.Errorf("a losing rotation changed the session: %+v", after)
				}
				_, err = s.RotateSession(ctx(t), "s1", store.Rotation{Expected: "never-issued", Next: "x", At: created, IdleExpiresAt: created.Add(long)})
				t.wantErr(err, store.ErrConflict, "RotateSession with a never-issued refresh id")
			},
		},
		{
			name: "RotateSession/ConcurrentTwo",
			text: "of two concurrent rotations with one Expected value exactly one wins, the other gets ErrConflict",
			run:  func(t *ct, s store.SessionStore) { concurrentRotations(t, s, 2) },
		},
		{
			name: "RotateSession/ConcurrentTwenty",
			text: "of 20 concurrent rotations with one Expected value exactly one wins, the others get ErrConflict",
			run:  func(t *ct, s store.SessionStore) { concurrentRotations(t, s, 20) },
		},
		{
			name: "RotateSession/IdleNeverPastAbsolute",
			text: "rotation never moves IdleExpiresAt past ExpiresAt",
			run: func(t *ct, s store.SessionStore) {
				created := now()
				in := newSession("s1", "u1", created)
				createSession(t, s, in)
				// A client refreshing forever must not outlive the login.
				got, err := s.RotateSession(ctx(t), "s1", store.Rotation{Expected: in.RefreshID, Next: "r1", At: created, IdleExpiresAt: in.ExpiresAt.Add(24 * time.Hour)})
				t.must(err, "RotateSession")
				if got.IdleExpiresAt.After(in.ExpiresAt) || !sameTime(got.ExpiresAt, in.ExpiresAt) {
					t.Errorf("returned IdleExpiresAt %v, ExpiresAt %v; want IdleExpiresAt at most the unchanged ExpiresAt %v", got.IdleExpiresAt, got.ExpiresAt, in.ExpiresAt)
				}
				stored := getSession(t, s, "s1")
				if stored.IdleExpiresAt.After(in.ExpiresAt) || !sameTime(stored.ExpiresAt, in.ExpiresAt) {
					t.Errorf("stored IdleExpiresAt %v, ExpiresAt %v; want IdleExpiresAt at most the unchanged ExpiresAt %v", stored.IdleExpiresAt, stored.ExpiresAt, in.ExpiresAt)
				}
			},
		},
		{
			name:     "Session/IdleExpiry",
			text:     "a session past its IdleExpiresAt is gone: Session and RotateSession return ErrNotFound, UserSessions omits it",
			parallel: true,
			run: func(t *ct, s store.SessionStore) {
				created := now()
				idle := newSession("idle", "u1", created)
				idle.IdleExpiresAt = created.Add(shortTTL)
				createSession(t, s, idle)
				createSession(t, s, newSession("live", "u1", created))
				getSession(t, s, "idle")
				time.Sleep(expiryWait)
				_, err := s.Session(ctx(t), "idle")
				t.wantErr(err, store.ErrNotFound, "Session past IdleExpiresAt")
				_, err = s.RotateSession(ctx(t), "idle", store.Rotation{Expected: idle.RefreshID, Next: "r1", At: now(), IdleExpiresAt: now().Add(long)})
				t.wantErr(err, store.ErrNotFound, "RotateSession past IdleExpiresAt (it must not revive the session)")
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				if ids := sessionIDs(list); len(ids) != 1 || ids[0] != "live" {
					t.Errorf("UserSessions = %v, want only [live]", ids)
				}
			},
		},
		{
			name:     "Session/AbsoluteExpiry",
			text:     "a session past its ExpiresAt is gone, however recently it was rotated",
			parallel: true,
			run: func(t *ct, s store.SessionStore) {
				created := now()
				se := newSession("s1", "u1", created)
				se.IdleExpiresAt = created.Add(shortTTL)
				se.ExpiresAt = created.Add(shortTTL + 50*time.Millisecond)
				createSession(t, s, se)
				// Rotating asks for a far idle expiry; the absolute end holds.
				_, err := s.RotateSession(ctx(t), "s1", store.Rotation{Expected: se.RefreshID, Next: "r1", At: now(), IdleExpiresAt: now().Add(long)})
				t.must(err, "RotateSession")
				time.Sleep(expiryWait + 50*time.Millisecond)
				_, err = s.Session(ctx(t), "s1")
				t.wantErr(err, store.ErrNotFound, "Session past ExpiresAt")
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				if len(list) != 0 {
					t.Errorf("UserSessions lists expired sessions %v", sessionIDs(list))
				}
			},
		},
		{
			name: "DeleteSession/Removes",
			text: "DeleteSession removes the session from Session and UserSessions; deleting again returns ErrNotFound",
			run: func(t *ct, s store.SessionStore) {
				createSession(t, s, newSession("s1", "u1", now()))
				createSession(t, s, newSession("s2", "u1", now().Add(time.Millisecond)))
				t.must(s.DeleteSession(ctx(t), "s1"), "DeleteSession")
				_, err := s.Session(ctx(t), "s1")
				t.wantErr(err, store.ErrNotFound, "Session after DeleteSession")
				t.wantErr(s.DeleteSession(ctx(t), "s1"), store.ErrNotFound, "DeleteSession again")
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				if ids := sessionIDs(list); len(ids) != 1 || ids[0] != "s2" {
					t.Errorf("UserSessions after delete = %v, want [s2]", ids)
				}
				// The ID is free again.
				createSession(t, s, newSession("s1", "u1", now()))
			},
		},
		{
			name: "DeleteUserSessions/All",
			text: "DeleteUserSessions removes every session of the user and no other; none is not an error",
			run: func(t *ct, s store.SessionStore) {
				base := now()
				for i := range 3 {
					createSession(t, s, newSession(fmt.Sprintf("a%d", i), "alice", base.Add(time.Duration(i)*time.Millisecond)))
				}
				createSession(t, s, newSession("b0", "bob", base))
				t.must(s.DeleteUserSessions(ctx(t), "alice"), "DeleteUserSessions")
				for i := range 3 {
					_, err := s.Session(ctx(t), fmt.Sprintf("a%d", i))
					t.wantErr(err, store.ErrNotFound, "Session after DeleteUserSessions")
				}
				list, err := s.UserSessions(ctx(t), "alice")
				t.must(err, "UserSessions")
				if len(list) != 0 {
					t.Errorf("UserSessions after DeleteUserSessions = %v", sessionIDs(list))
				}
				getSession(t, s, "b0")
				t.must(s.DeleteUserSessions(ctx(t), "alice"), "DeleteUserSessions with none left")
				t.must(s.DeleteUserSessions(ctx(t), "nobody"), "DeleteUserSessions of an unknown user")
			},
		},
		{
			name: "UserSessions/OldestFirst",
			text: "UserSessions lists the user's live sessions, oldest first, and nothing for an unknown user",
			run: func(t *ct, s store.SessionStore) {
				base := now()
				// Created out of order, and with IDs out of order.
				for _, r := range []struct {
					id  string
					age time.Duration
				}{{"s-b", 2 * time.Second}, {"s-c", 3 * time.Second}, {"s-a", 1 * time.Second}} {
					createSession(t, s, newSession(r.id, "u1", base.Add(-r.age)))
				}
				list, err := s.UserSessions(ctx(t), "u1")
				t.must(err, "UserSessions")
				if ids := sessionIDs(list); fmt.Sprint(ids) != "[s-c s-b s-a]" {
					t.Errorf("UserSessions = %v, want [s-c s-b s-a]", ids)
				}
				list, err = s.UserSessions(ctx(t), "nobody")
				t.must(err, "UserSessions(unknown user)")
				if len(list) != 0 {
					t.Errorf("UserSessions(unknown user) = %v", sessionIDs(list))
				}
			},
		},
		{
			name: "Context/Cancelled/SessionStore",
			text: "every SessionStore method honours a cancelled context: it returns an error (the context's or ErrUnavailable) and stores nothing",
			run: func(t *ct, s store.SessionStore) {
				cx := cancelled()
				until := now().Add(long)
				createSession(t, s, newSession("s0", "u0", now()))
				errs := map[string]error{
					"CreateSession":      s.CreateSession(cx, newSession("s1", "u1", now())),
					"DeleteSession":      s.DeleteSession(cx, "s0"),
					"DeleteUserSessions": s.DeleteUserSessions(cx, "u0"),
				}
				_, errs["RotateSession"] = s.RotateSession(cx, "s0", store.Rotation{Expected: "r0-s0", Next: "x", At: now(), IdleExpiresAt: until})
				_, errs["Session"] = s.Session(cx, "s0")
				_, errs["UserSessions"] = s.UserSessions(cx, "u0")
				t.wantCancelled(errs)
				// Nothing changed.
				_, err := s.Session(ctx(t), "s1")
				t.wantErr(err, store.ErrNotFound, "Session(s1) after a cancelled CreateSession")
				if se := getSession(t, s, "s0"); se.RefreshID != "r0-s0" {
					t.Errorf("a cancelled RotateSession changed RefreshID to %q", se.RefreshID)
				}
			},
		},
		{
			name: "Isolation/SeparatorLikeKeys/SessionStore",
			text: "SessionStore: ids, usernames and keys such as a:b, *, \\x00 and {tag} stay isolated: each names only itself",
			run: func(t *ct, s store.SessionStore) {
				trickySessionsSetup(t, s)
				trickySessionsCheck(t, s)
			},
		},
	}
}
