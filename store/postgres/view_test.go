package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

// viewStore returns a Store on schema. The lag is long so a loaded
// machine does not make the view untrusted mid-test.
func viewStore(t *testing.T, pool *pgxpool.Pool, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.New(pool, postgres.WithSchema(schema), postgres.WithViewMaxLag(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitTrusted(t *testing.T, s *postgres.Store) {
	t.Helper()
	eventually(t, 3*time.Second, s.ViewTrusted, "the local view never became trusted")
}

func TestViewSeesOtherInstanceWithin100ms(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	a, b := viewStore(t, pool, schema), viewStore(t, pool, schema)
	waitTrusted(t, b)

	rows := []struct {
		name   string
		revoke func(context.Context) error
		check  store.Check
	}{
		{"token id", func(ctx context.Context) error { return a.Revoke(ctx, "jti-x", time.Now().Add(time.Hour)) },
			store.Check{TokenID: "jti-x", UserID: "u1", IssuedAt: time.Now()}},
		{"session id", func(ctx context.Context) error { return a.Revoke(ctx, "sid-x\x00", time.Now().Add(time.Hour)) },
			store.Check{TokenID: "other", SessionID: "sid-x\x00", UserID: "u1", IssuedAt: time.Now()}},
		{"user valid-after", func(ctx context.Context) error {
			return a.RevokeUserBefore(ctx, "u2", time.Now().Add(time.Minute), time.Now().Add(time.Hour))
		}, store.Check{TokenID: "t", UserID: "u2", IssuedAt: time.Now()}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			ctx := t.Context()
			before := b.Fallbacks()
			if isRevoked(t, b, r.check) {
				t.Fatal("revoked before the revocation")
			}
			start := time.Now()
			must(t, r.revoke(ctx))
			revoked := false
			for !revoked && time.Since(start) < time.Second {
				if revoked = isRevoked(t, b, r.check); !revoked {
					time.Sleep(time.Millisecond)
				}
			}
			took := time.Since(start)
			if !revoked {
				t.Fatal("never enforced by the other instance")
			}
			if took >= 100*time.Millisecond {
				t.Errorf("the other instance enforced it after %v, want under 100ms", took)
			}
			if n := b.Fallbacks(); n != before {
				t.Errorf("%d answers came from the database, want all from the view", n-before)
			}
		})
	}
}

func TestViewRebuildsFromTables(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	a := viewStore(t, pool, schema)
	ctx := t.Context()
	// Written before the second instance exists: only the rebuild can know.
	must(t, a.Revoke(ctx, "early", time.Now().Add(time.Hour)))
	must(t, a.RevokeUserBefore(ctx, "u1", time.Now(), time.Now().Add(time.Hour)))

	b := viewStore(t, pool, schema)
	waitTrusted(t, b)
	before := b.Fallbacks()
	for _, c := range []store.Check{
		{TokenID: "early"},
		{TokenID: "t", UserID: "u1", IssuedAt: time.Now().Add(-time.Minute)},
	} {
		if !isRevoked(t, b, c) {
			t.Errorf("%+v: not revoked", c)
		}
	}
	if b.Fallbacks() != before {
		t.Errorf("answered by the database, not by the rebuilt view")
	}
}

// TestViewListenerTerminated: pg_terminate_backend of the listening
// connection is detected, requests ask the database meanwhile (and see
// what was revoked while the view was blind), and the view is rebuilt.
func TestViewListenerTerminated(t *testing.T) {
	pool := needPool(t)
	schema := pgtest.Schema(t, pool)
	a, b := viewStore(t, pool, schema), viewStore(t, pool, schema)
	waitTrusted(t, b)
	ctx := t.Context()
	syncs := b.ViewSyncs()
	pid := b.ListenerPID()
	var ok bool
	must(t, pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ok))
	if !ok {
		t.Fatal("pg_terminate_backend found no listener")
	}
	// The listener reconnects after a 50ms backoff and trusts the view only
	// once a ping comes back, so the blind window is easily seen.
	eventually(t, 2*time.Second, func() bool { return !b.ViewTrusted() }, "the terminated listener was never noticed")
	// Whether the view is blind or already rebuilt, a revocation made now is enforced.
	must(t, a.Revoke(ctx, "during", time.Now().Add(time.Hour)))
	if !b.ViewTrusted() {
		before := b.Fallbacks()
		if !isRevoked(t, b, store.Check{TokenID: "during"}) {
			t.Error("a revocation made while the listener was down passed")
		}
		if b.Fallbacks() == before {
			t.Error("the untrusted view answered instead of the database")
		}
	}
	eventually(t, 5*time.Second, func() bool { return b.ViewSyncs() > syncs && b.ViewTrusted() },
		"the view was never rebuilt after the listener was terminated")
	if b.ListenerPID() == pid {
		t.Error("the listener kept its terminated backend")
	}
	before := b.Fallbacks()
	if !isRevoked(t, b, store.Check{TokenID: "during"}) {
		t.Error("the rebuilt view lost a revocation")
	}
	if b.Fallbacks() != before {
		t.Error("the rebuilt view still asks the database")
	}
}

// TestViewUntrustedWithoutListener: once the pings stop (Close), the view
// stops answering within the lag bound, and a closed store never passes.
func TestViewUntrustedWithoutListener(t *testing.T) {
	pool := needPool(t)
	s := newStore(t, pool, postgres.WithViewMaxLag(500*time.Millisecond), postgres.WithViewPingInterval(50*time.Millisecond))
	waitTrusted(t, s)
	must(t, s.Close())
	if s.ViewTrusted() {
		// Close stops the pings; the bound then runs out.
		eventually(t, 2*time.Second, func() bool { return !s.ViewTrusted() }, "view trusted past its lag bound")
	}
	if _, err := s.IsRevoked(t.Context(), store.Check{TokenID: "x"}); err == nil {
		t.Error("IsRevoked after Close passed")
	}
}
