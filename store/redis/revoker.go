package redis

import (
	"context"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// Revocations share one hash tag, {P:r}, with their channel: each write
// and its announcement are one script on one node, and on a Cluster one
// shard channel gives every subscriber one order. Revocations are few and
// small; the check that is on every request is answered locally (see
// view.go).

// Revoke implements [store.Revoker]. An until already past stores nothing:
// the entry would be gone at once.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	const op = "revoke"
	if id == "" {
		return invalid(op, "empty id")
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if !until.After(s.now()) {
			return nil
		}
		res, err := s.run(ctx, revokeScript, []string{s.k.revokedID(id), s.k.channel},
			encTime(until), s.pubCmd, enc(id))
		if err != nil {
			return unavailable(op, err)
		}
		// Read-your-writes: this instance knows before its message comes back.
		if u, ok := res.(string); ok && s.view != nil {
			if t, err := decTime(u); err == nil {
				s.view.addID(id, t.UnixNano())
			}
		}
		return nil
	})
}

// RevokeUserBefore implements [store.Revoker].
func (s *Store) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	const op = "revoke user before"
	if userID == "" {
		return invalid(op, "empty user ID")
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if !until.After(s.now()) {
			return nil
		}
		res, err := s.run(ctx, revokeUserScript, []string{s.k.userMark(userID), s.k.channel},
			encTime(before), encTime(until), s.pubCmd, enc(userID))
		if err != nil {
			return unavailable(op, err)
		}
		if v, ok := res.(string); ok && s.view != nil {
			if m, err := decMark(v); err == nil {
				s.view.addMark(userID, m)
			}
		}
		return nil
	})
}

// IsRevoked implements [store.Revoker]. While the local view is provably
// caught up it answers without a round trip; otherwise it asks Redis, and
// a Redis that cannot answer gives ErrUnavailable, never "not revoked".
func (s *Store) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if s.closed.Load() {
		return true, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return true, unavailable("is revoked", err)
	}
	if s.view != nil {
		if revoked, ok := s.view.check(c); ok {
			return revoked, nil
		}
	}
	s.fallbacks.Add(1)
	revoked, err := s.isRevokedRedis(ctx, c)
	if err != nil {
		return true, err // fail closed, as the contract asks
	}
	return revoked, nil
}

func (s *Store) isRevokedRedis(ctx context.Context, c store.Check) (bool, error) {
	const op = "is revoked"
	return bounded(s, ctx, op, func(ctx context.Context) (bool, error) {
		ks := make([]string, 0, 3)
		ks = append(ks, s.k.userMark(c.UserID))
		if c.TokenID != "" {
			ks = append(ks, s.k.revokedID(c.TokenID))
		}
		if c.SessionID != "" {
			ks = append(ks, s.k.revokedID(c.SessionID))
		}
		vals, err := s.c.MGet(ctx, ks...).Result()
		if err != nil {
			return false, unavailable(op, err)
		}
		if len(vals) != len(ks) {
			return false, unavailable(op, errBadReply)
		}
		now := s.now().UnixNano()
		if v, ok := vals[0].(string); ok {
			m, err := decMark(v)
			if err != nil {
				return false, unavailable(op, errBadReply)
			}
			if m.revokes(c.IssuedAt, now) {
				return true, nil
			}
		}
		for _, v := range vals[1:] {
			str, ok := v.(string)
			if !ok {
				continue
			}
			t, err := decTime(str)
			if err != nil {
				return false, unavailable(op, errBadReply)
			}
			if now < t.UnixNano() {
				return true, nil
			}
		}
		return false, nil
	})
}

// UseOnce implements [store.Revoker]. An until already past is moved to
// now plus a minute: the id must be stored for concurrent uses to see one
// winner (a millisecond was too short for 20 concurrent calls), and a
// one-time token past its until is refused by its own expiry anyway.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	const op = "use once"
	if id == "" {
		return false, invalid(op, "empty id")
	}
	return bounded(s, ctx, op, func(ctx context.Context) (bool, error) {
		if now := s.now(); !until.After(now) {
			until = now.Add(time.Minute)
		}
		err := s.c.Do(ctx, "SET", s.k.once(id), "1", "NX", "PXAT", until.UnixMilli()+1).Err()
		if isNil(err) {
			return false, nil
		}
		if err != nil {
			return false, unavailable(op, err)
		}
		return true, nil
	})
}

// mark is a user's valid-after time: tokens issued before before are
// revoked while now < until. Both are unix nanoseconds.
type mark struct{ before, until int64 }

func (m mark) revokes(issuedAt time.Time, now int64) bool {
	return now < m.until && issuedAt.Before(time.Unix(0, m.before))
}

func decMark(v string) (mark, error) {
	if len(v) != 2*timeDigits {
		return mark{}, errBadReply
	}
	b, err := decTime(v[:timeDigits])
	if err != nil {
		return mark{}, err
	}
	u, err := decTime(v[timeDigits:])
	if err != nil {
		return mark{}, err
	}
	return mark{before: b.UnixNano(), until: u.UnixNano()}, nil
}
