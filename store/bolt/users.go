package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

func decodeUser(v []byte) (*store.User, error) {
	var u store.User
	if err := json.Unmarshal(v, &u); err != nil {
		return nil, fmt.Errorf("%w (user): %w", ErrCorrupt, store.ErrUnavailable)
	}
	return &u, nil
}

func getUser(tx *bbolt.Tx, id string) (*store.User, error) {
	v := tx.Bucket(bUsers).Get([]byte(id))
	if v == nil {
		return nil, store.ErrNotFound
	}
	return decodeUser(v)
}

func putUser(tx *bbolt.Tx, u *store.User) error {
	v, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return tx.Bucket(bUsers).Put([]byte(u.ID), v)
}

// CreateUser implements [store.UserStore]. The record and its username
// index entry are written in one transaction.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if u == nil || u.ID == "" {
		return fmt.Errorf("bolt: create user: empty ID: %w", store.ErrInvalid)
	}
	name, err := store.CanonicalUsername(u.Username)
	if err != nil {
		return fmt.Errorf("bolt: create user: %w", err)
	}
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Username = name
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bUsers).Get([]byte(c.ID)) != nil {
			return fmt.Errorf("ID taken: %w", store.ErrConflict)
		}
		names := tx.Bucket(bUsernames)
		if names.Get([]byte(name)) != nil {
			return fmt.Errorf("username taken: %w", store.ErrConflict)
		}
		if err := names.Put([]byte(name), []byte(c.ID)); err != nil {
			return err
		}
		return putUser(tx, &c)
	})
	if err != nil {
		return fmt.Errorf("bolt: create user: %w", err)
	}
	return nil
}

// User implements [store.UserStore].
func (s *Store) User(ctx context.Context, id string) (*store.User, error) {
	var u *store.User
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		u, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: user: %w", err)
	}
	return u, nil
}

// UserByUsername implements [store.UserStore].
func (s *Store) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	name, err := store.CanonicalUsername(username)
	if err != nil {
		return nil, fmt.Errorf("bolt: user by username: %w", store.ErrNotFound)
	}
	var u *store.User
	err = s.view(ctx, func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bUsernames).Get([]byte(name))
		if id == nil {
			return store.ErrNotFound
		}
		u, err = getUser(tx, string(id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: user by username: %w", err)
	}
	return u, nil
}

// UpdateUser implements [store.UserStore].
func (s *Store) UpdateUser(ctx context.Context, id string, upd store.UserUpdate) (*store.User, error) {
	var u *store.User
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if u, err = getUser(tx, id); err != nil {
			return err
		}
		if upd.PasswordHash != nil {
			u.PasswordHash = *upd.PasswordHash
		}
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.Roles != nil {
			u.Roles = slices.Clone(upd.Roles)
		}
		u.UpdatedAt = s.now()
		return putUser(tx, u)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: update user: %w", err)
	}
	return u, nil
}

// SetPasswordHash implements [store.UserStore]. The compare and the swap
// happen in one write transaction, and bbolt runs one at a time.
func (s *Store) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	if next == "" {
		return nil, fmt.Errorf("bolt: set password hash: empty hash: %w", store.ErrInvalid)
	}
	var u *store.User
	var stale bool
	err := s.update(ctx, func(tx *bbolt.Tx) (err error) {
		if u, err = getUser(tx, id); err != nil {
			return err
		}
		if u.PasswordHash != expected {
			stale = true
			return nil
		}
		u.PasswordHash = next
		u.UpdatedAt = s.now()
		return putUser(tx, u)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: set password hash: %w", err)
	}
	if stale {
		return u, fmt.Errorf("bolt: set password hash: the stored hash changed: %w", store.ErrConflict)
	}
	return u, nil
}

// ListUsers implements [store.UserStore]. The cursor is the last ID of the
// previous page, base64url-encoded so that it is safe in a URL.
func (s *Store) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	if err := s.check(ctx); err != nil {
		return nil, "", err
	}
	if limit < 1 {
		return nil, "", fmt.Errorf("bolt: list users: limit %d below 1: %w", limit, store.ErrInvalid)
	}
	var after []byte
	if cursor != "" {
		id, err := store.DecodeCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("bolt: list users: %w", err)
		}
		after = []byte(id)
	}
	var users []*store.User
	var next string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bUsers).Cursor()
		k, v := c.First()
		if cursor != "" {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(users) == limit {
				next = store.EncodeCursor(users[limit-1].ID)
				return nil
			}
			u, err := decodeUser(v)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("bolt: list users: %w", err)
	}
	return users, next, nil
}

// DeleteUser implements [store.UserStore]. The user's sessions are left
// alone: delete them with DeleteUserSessions.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		u, err := getUser(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bUsernames).Delete([]byte(u.Username)); err != nil {
			return err
		}
		if err := tx.Bucket(bTOTP).Delete([]byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bUsers).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("bolt: delete user: %w", err)
	}
	return nil
}
