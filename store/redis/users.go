package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// maxPage caps one ListUsers page; the contract allows fewer than limit.
const maxPage = 10000

// CreateUser implements [store.UserStore].
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	const op = "create user"
	if u == nil || u.ID == "" {
		return invalid(op, "empty user ID")
	}
	name, err := store.CanonicalUsername(u.Username)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	// Everything read from u is read here: a call abandoned at its timeout
	// must not touch the caller's struct later (see bounded).
	roles, err := json.Marshal(u.Roles)
	if err != nil {
		return invalid(op, "roles cannot be encoded")
	}
	id, email, hash := u.ID, u.Email, u.PasswordHash
	nk := s.k.username(name)
	created, err := bounded(s, ctx, op, func(ctx context.Context) (time.Time, error) {
		now := s.now()
		ts := encTime(now)
		res, err := s.run(ctx, createUserScript, []string{s.k.user(id), nk, s.k.userIDs}, enc(id),
			"id", id, "un", name, "em", email, "ph", hash, "ro", string(roles),
			"ca", ts, "ua", ts, "nk", nk)
		if err != nil {
			return time.Time{}, unavailable(op, err)
		}
		switch res {
		case int64(0):
			return decTime(ts)
		case int64(1):
			return time.Time{}, conflict(op, "user ID taken")
		case int64(2):
			return time.Time{}, conflict(op, "username taken")
		}
		return time.Time{}, unavailable(op, errBadReply)
	})
	if err != nil {
		return err
	}
	u.Username, u.CreatedAt, u.UpdatedAt = name, created, created
	return nil
}

// User implements [store.UserStore].
func (s *Store) User(ctx context.Context, id string) (*store.User, error) {
	const op = "user"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		if id == "" {
			return nil, notFound(op)
		}
		h, err := s.c.HGetAll(ctx, s.k.user(id)).Result()
		if err != nil {
			return nil, unavailable(op, err)
		}
		if len(h) == 0 {
			return nil, notFound(op)
		}
		return decodeUser(op, h)
	})
}

// UserByUsername implements [store.UserStore].
func (s *Store) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	const op = "user by username"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		name, err := store.CanonicalUsername(username)
		if err != nil {
			return nil, notFound(op)
		}
		res, err := s.run(ctx, userByNameScript, []string{s.k.username(name)}, s.k.userKeyPrefix())
		if err != nil {
			return nil, unavailable(op, err)
		}
		if res == nil {
			return nil, notFound(op)
		}
		return decodeUserReply(op, res)
	})
}

// UpdateUser implements [store.UserStore].
func (s *Store) UpdateUser(ctx context.Context, id string, upd store.UserUpdate) (*store.User, error) {
	const op = "update user"
	if id == "" {
		return nil, notFound(op)
	}
	var set []any
	if upd.PasswordHash != nil {
		set = append(set, "ph", *upd.PasswordHash)
	}
	if upd.Email != nil {
		set = append(set, "em", *upd.Email)
	}
	if upd.Roles != nil {
		roles, err := json.Marshal(upd.Roles)
		if err != nil {
			return nil, invalid(op, "roles cannot be encoded")
		}
		set = append(set, "ro", string(roles))
	}
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		args := append([]any{"ua", encTime(s.now())}, set...)
		res, err := s.run(ctx, updateUserScript, []string{s.k.user(id)}, args...)
		if err != nil {
			return nil, unavailable(op, err)
		}
		if res == nil {
			return nil, notFound(op)
		}
		return decodeUserReply(op, res)
	})
}

// SetPasswordHash implements [store.UserStore]: one script compares and
// swaps, so Redis runs it atomically.
func (s *Store) SetPasswordHash(ctx context.Context, id, expected, next string) (*store.User, error) {
	const op = "set password hash"
	if next == "" {
		return nil, invalid(op, "empty password hash")
	}
	return bounded(s, ctx, op, func(ctx context.Context) (*store.User, error) {
		if id == "" {
			return nil, notFound(op)
		}
		res, err := s.run(ctx, setPasswordHashScript, []string{s.k.user(id)}, expected, next, encTime(s.now()))
		if err != nil {
			return nil, unavailable(op, err)
		}
		won, h, err := casReply(op, res)
		if err != nil {
			return nil, err
		}
		u, err := decodeUser(op, h)
		if err != nil {
			return nil, err
		}
		if !won {
			return u, conflict(op, "the stored hash changed")
		}
		return u, nil
	})
}

// ListUsers implements [store.UserStore]. The cursor is
// [store.EncodeCursor] of the page's last ID; pages above 10000 users are
// cut there.
func (s *Store) ListUsers(ctx context.Context, cursor string, limit int) ([]*store.User, string, error) {
	const op = "list users"
	if limit < 1 {
		return nil, "", invalid(op, "limit below 1")
	}
	limit = min(limit, maxPage)
	from := "-"
	if cursor != "" {
		id, err := store.DecodeCursor(cursor)
		if err != nil {
			return nil, "", invalid(op, "malformed cursor")
		}
		from = "(" + enc(id)
	}
	type page struct {
		users []*store.User
		next  string
	}
	p, err := bounded(s, ctx, op, func(ctx context.Context) (page, error) {
		res, err := s.run(ctx, listUsersScript, []string{s.k.userIDs}, from, limit+1, s.k.userKeyPrefix())
		if err != nil {
			return page{}, unavailable(op, err)
		}
		rows, ok := res.([]any)
		if !ok && res != nil {
			return page{}, unavailable(op, errBadReply)
		}
		users := make([]*store.User, 0, min(len(rows), limit))
		for _, r := range rows {
			if len(users) == limit {
				break
			}
			u, err := decodeUserReply(op, r)
			if err != nil {
				return page{}, err
			}
			users = append(users, u)
		}
		next := ""
		if len(rows) > limit {
			next = store.EncodeCursor(users[len(users)-1].ID)
		}
		return page{users, next}, nil
	})
	return p.users, p.next, err
}

// DeleteUser implements [store.UserStore]. The user's sessions and
// revocations stay; callers end them first.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "delete user"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if id == "" {
			return notFound(op)
		}
		res, err := s.run(ctx, deleteUserScript, []string{s.k.user(id), s.k.userIDs, s.k.totp(id)}, enc(id))
		if err != nil {
			return unavailable(op, err)
		}
		if res != int64(1) {
			return notFound(op)
		}
		return nil
	})
}

// casReply reads the reply of a compare-and-swap script: {0} when the
// record is missing (ErrNotFound), else {1, hash} when the swap was lost
// and {2, hash} when it was made, hash being the record as it now is.
func casReply(op string, res any) (won bool, h map[string]string, err error) {
	arr, ok := res.([]any)
	if !ok || len(arr) == 0 {
		return false, nil, unavailable(op, errBadReply)
	}
	if arr[0] == int64(0) {
		return false, nil, notFound(op)
	}
	if len(arr) != 2 || arr[0] != int64(1) && arr[0] != int64(2) {
		return false, nil, unavailable(op, errBadReply)
	}
	if h, err = hashReply(arr[1]); err != nil {
		return false, nil, unavailable(op, err)
	}
	return arr[0] == int64(2), h, nil
}

// decodeUserReply decodes an HGETALL reply ([]any of field, value).
func decodeUserReply(op string, res any) (*store.User, error) {
	h, err := hashReply(res)
	if err != nil {
		return nil, unavailable(op, err)
	}
	if len(h) == 0 {
		// A username index without its user: treat as missing.
		return nil, notFound(op)
	}
	return decodeUser(op, h)
}

func hashReply(res any) (map[string]string, error) {
	arr, ok := res.([]any)
	if !ok || len(arr)%2 != 0 {
		return nil, errBadReply
	}
	h := make(map[string]string, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		k, ok1 := arr[i].(string)
		v, ok2 := arr[i+1].(string)
		if !ok1 || !ok2 {
			return nil, errBadReply
		}
		h[k] = v
	}
	return h, nil
}

func decodeUser(op string, h map[string]string) (*store.User, error) {
	u := &store.User{ID: h["id"], Username: h["un"], Email: h["em"], PasswordHash: h["ph"]}
	var err error
	if err = json.Unmarshal([]byte(h["ro"]), &u.Roles); err != nil {
		return nil, unavailable(op, errBadReply)
	}
	if u.CreatedAt, err = decTime(h["ca"]); err != nil {
		return nil, unavailable(op, errBadReply)
	}
	if u.UpdatedAt, err = decTime(h["ua"]); err != nil {
		return nil, unavailable(op, errBadReply)
	}
	return u, nil
}
