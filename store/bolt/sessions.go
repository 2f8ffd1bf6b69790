package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// sessionEnd is when se is gone: the earlier of its idle and absolute
// expiry.
func sessionEnd(se *store.Session) time.Time {
	if se.IdleExpiresAt.Before(se.ExpiresAt) {
		return se.IdleExpiresAt
	}
	return se.ExpiresAt
}

func encodeSession(se *store.Session) ([]byte, error) {
	j, err := json.Marshal(se)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 8, 8+len(j))
	putInt(v, unixNano(sessionEnd(se)))
	return append(v, j...), nil
}

func decodeSession(v []byte) (*store.Session, error) {
	var se store.Session
	if len(v) < 8 || json.Unmarshal(v[8:], &se) != nil {
		return nil, fmt.Errorf("%w (session): %w", ErrCorrupt, store.ErrUnavailable)
	}
	return &se, nil
}

// liveSession returns the session with this id if it has not expired at
// now, else ErrNotFound.
func liveSession(tx *bbolt.Tx, id string, now int64) (*store.Session, error) {
	v := tx.Bucket(bSessions).Get([]byte(id))
	if v == nil || expired(v, now) {
		return nil, store.ErrNotFound
	}
	return decodeSession(v)
}

func putSession(tx *bbolt.Tx, se *store.Session) error {
	v, err := encodeSession(se)
	if err != nil {
		return err
	}
	return tx.Bucket(bSessions).Put([]byte(se.ID), v)
}

// deleteSession removes the session record stored under id, live or not,
// with its index entry. It reports whether there was one.
func deleteSession(tx *bbolt.Tx, id string) (bool, error) {
	b := tx.Bucket(bSessions)
	v := b.Get([]byte(id))
	if v == nil {
		return false, nil
	}
	if se, err := decodeSession(v); err == nil {
		if err := tx.Bucket(bUserSessions).Delete(indexKey(se.UserID, se.ID)); err != nil {
			return false, err
		}
	}
	return true, b.Delete([]byte(id))
}

// CreateSession implements [store.SessionStore]. The record and its
// user index entry are written in one transaction. A zero IdleExpiresAt,
// or one after ExpiresAt, is stored as ExpiresAt.
func (s *Store) CreateSession(ctx context.Context, se *store.Session) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if se == nil || se.ID == "" || se.UserID == "" || se.ExpiresAt.IsZero() {
		return fmt.Errorf("bolt: create session: empty ID, UserID or ExpiresAt: %w", store.ErrInvalid)
	}
	c := *se
	if c.IdleExpiresAt.IsZero() || c.IdleExpiresAt.After(c.ExpiresAt) {
		c.IdleExpiresAt = c.ExpiresAt
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := unixNano(s.now())
		if v := tx.Bucket(bSessions).Get([]byte(c.ID)); v != nil {
			if !expired(v, now) {
				return fmt.Errorf("ID taken: %w", store.ErrConflict)
			}
			if _, err := deleteSession(tx, c.ID); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bUserSessions).Put(indexKey(c.UserID, c.ID), nil); err != nil {
			return err
		}
		return putSession(tx, &c)
	})
	if err != nil {
		return fmt.Errorf("bolt: create session: %w", err)
	}
	return nil
}

// Session implements [store.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*store.Session, error) {
	var se *store.Session
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		se, err = liveSession(tx, id, unixNano(s.now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: session: %w", err)
	}
	return se, nil
}

// RotateSession implements [store.SessionStore]. The compare and the swap
// happen in one write transaction, and bbolt runs one at a time.
func (s *Store) RotateSession(ctx context.Context, id string, r store.Rotation) (*store.Session, error) {
	var se *store.Session
	var stale bool
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if se, err = liveSession(tx, id, unixNano(s.now())); err != nil {
			return err
		}
		if se.RefreshID != r.Expected {
			stale = true
			return nil
		}
		se.PreviousRefreshID = se.RefreshID
		se.RefreshID = r.Next
		se.LastUsedAt = r.At
		se.RotatedAt = r.At
		se.IdleExpiresAt = r.IdleExpiresAt
		if se.IdleExpiresAt.After(se.ExpiresAt) {
			se.IdleExpiresAt = se.ExpiresAt
		}
		return putSession(tx, se)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: rotate session: %w", err)
	}
	if stale {
		return se, fmt.Errorf("bolt: rotate session: refresh id already rotated: %w", store.ErrConflict)
	}
	return se, nil
}

// DeleteSession implements [store.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bSessions).Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		wasLive := !expired(v, unixNano(s.now()))
		if _, err := deleteSession(tx, id); err != nil {
			return err
		}
		if !wasLive {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements [store.SessionStore].
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		prefix := userKey(userID)
		idx := tx.Bucket(bUserSessions)
		var keys [][]byte
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		sessions := tx.Bucket(bSessions)
		for _, k := range keys {
			if err := sessions.Delete(k[len(prefix):]); err != nil {
				return err
			}
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: delete user sessions: %w", err)
	}
	return nil
}

// UserSessions implements [store.SessionStore].
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*store.Session, error) {
	list := []*store.Session{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		now := unixNano(s.now())
		prefix := userKey(userID)
		c := tx.Bucket(bUserSessions).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			se, err := liveSession(tx, string(k[len(prefix):]), now)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			list = append(list, se)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: user sessions: %w", err)
	}
	slices.SortFunc(list, func(a, b *store.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.ID), []byte(b.ID))
	})
	return list, nil
}
