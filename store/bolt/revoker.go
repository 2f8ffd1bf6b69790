package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// Revoke implements [store.Revoker]. It returns ErrInvalid for an empty id.
// A later until extends the entry; an earlier one does not shorten it.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	if id == "" {
		return fmt.Errorf("bolt: revoke: empty id: %w", store.ErrInvalid)
	}
	u := unixNano(until)
	wrote := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bRevoked)
		if old := b.Get([]byte(id)); len(old) >= 8 && getInt(old) >= u {
			return nil
		}
		v := make([]byte, 8)
		putInt(v, u)
		wrote = true
		return b.Put([]byte(id), v)
	}, func() {
		if wrote {
			s.idx.setRevoked(id, u)
		}
	})
	if err != nil {
		return fmt.Errorf("bolt: revoke: %w", err)
	}
	return nil
}

// RevokeUserBefore implements [store.Revoker]. It returns ErrInvalid for an
// empty userID. The mark is kept until the later of the stored and the new
// until.
func (s *Store) RevokeUserBefore(ctx context.Context, userID string, before, until time.Time) error {
	if userID == "" {
		return fmt.Errorf("bolt: revoke user before: empty user id: %w", store.ErrInvalid)
	}
	bn, un := unixNano(before), unixNano(until)
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bMarks)
		if old := b.Get([]byte(userID)); len(old) == 16 && !expired(old, unixNano(s.now())) {
			un = max(un, getInt(old))
			bn = max(bn, getInt(old[8:]))
		}
		v := make([]byte, 16)
		putInt(v, un)
		putInt(v[8:], bn)
		return b.Put([]byte(userID), v)
	}, func() { s.idx.setMark(userID, mark{until: un, before: bn}) })
	if err != nil {
		return fmt.Errorf("bolt: revoke user before: %w", err)
	}
	return nil
}

// IsRevoked implements [store.Revoker]: up to three lookups in the
// store's in-memory index of the revoked and marks buckets (see [New]),
// without a read transaction. With a cancelled context, a closed store or
// a damaged file it reports revoked together with the error.
func (s *Store) IsRevoked(ctx context.Context, c store.Check) (bool, error) {
	if s.disk {
		return s.isRevokedDisk(ctx, c)
	}
	if err := s.check(ctx); err != nil {
		return true, fmt.Errorf("bolt: is revoked: %w", err)
	}
	revoked, err := s.idx.isRevoked(c, unixNano(s.now()))
	if err != nil {
		return true, fmt.Errorf("bolt: is revoked: %w", err)
	}
	return revoked, nil
}

// isRevokedDisk is IsRevoked in one read transaction, the path before the
// index (benchmarks compare the two).
func (s *Store) isRevokedDisk(ctx context.Context, c store.Check) (bool, error) {
	revoked := false
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		now := unixNano(s.now())
		b := tx.Bucket(bRevoked)
		// A record too short to hold its expiry is corrupt: an error (and
		// so "revoked"), never "not revoked".
		for _, id := range [2]string{c.TokenID, c.SessionID} {
			if id == "" {
				continue
			}
			v := b.Get([]byte(id))
			if v != nil && len(v) < 8 {
				return fmt.Errorf("%w (revocation, %d bytes): %w", ErrCorrupt, len(v), store.ErrUnavailable)
			}
			if v != nil && !expired(v, now) {
				revoked = true
				return nil
			}
		}
		if c.UserID != "" {
			v := tx.Bucket(bMarks).Get([]byte(c.UserID))
			if v != nil && len(v) != 16 {
				return fmt.Errorf("%w (valid-after mark, %d bytes): %w", ErrCorrupt, len(v), store.ErrUnavailable)
			}
			if v != nil && !expired(v, now) {
				revoked = c.IssuedAt.Before(time.Unix(0, getInt(v[8:])))
			}
		}
		return nil
	})
	if err != nil {
		return true, fmt.Errorf("bolt: is revoked: %w", err)
	}
	return revoked, nil
}

// UseOnce implements [store.Revoker]. It returns ErrInvalid for an empty id.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	if id == "" {
		return false, fmt.Errorf("bolt: use once: empty id: %w", store.ErrInvalid)
	}
	first := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOnce)
		now := unixNano(s.now())
		if v := b.Get([]byte(id)); v != nil && !expired(v, now) {
			return nil
		}
		v := make([]byte, 8)
		// An until already past is remembered for a minute, as every store
		// does, so that of concurrent calls one still wins alone.
		u := unixNano(until)
		if u <= now {
			u = now + int64(time.Minute)
		}
		putInt(v, u)
		first = true
		return b.Put([]byte(id), v)
	})
	if err != nil {
		return false, fmt.Errorf("bolt: use once: %w", err)
	}
	return first, nil
}
