package redis

import (
	"context"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

// Sessions live under their own hash tag, so rotation (the refresh path)
// spreads over a Cluster. A user's index of session ids is a second key: it
// is written first, read as a hint (every listed session is checked for its
// owner and expiry) and pruned by absolute expiry, so a crash between the
// two steps leaves at worst a dangling hint, never an unlisted session.

// CreateSession implements [store.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	const op = "create session"
	if sess == nil || sess.ID == "" || sess.UserID == "" {
		return invalid(op, "empty session ID or user ID")
	}
	if sess.ExpiresAt.IsZero() {
		return invalid(op, "zero ExpiresAt")
	}
	in := *sess // a call abandoned at its timeout must not read the caller's struct
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		sess := &in
		if sess.IdleExpiresAt.IsZero() || sess.IdleExpiresAt.After(sess.ExpiresAt) {
			sess.IdleExpiresAt = sess.ExpiresAt // as the contract says
		}
		now := s.now()
		e := enc(sess.ID)
		_, err := s.run(ctx, indexSessionScript, []string{s.k.userSessions(sess.UserID)},
			sess.ExpiresAt.UnixMilli(), e, now.UnixMilli())
		if err != nil {
			return unavailable(op, err)
		}
		end := sess.IdleExpiresAt
		if sess.ExpiresAt.Before(end) {
			end = sess.ExpiresAt
		}
		res, err := s.run(ctx, createSessionScript, []string{s.k.session(sess.ID)}, encTime(end),
			"id", sess.ID, "uid", sess.UserID,
			"ca", encOptTime(sess.CreatedAt), "lu", encOptTime(sess.LastUsedAt),
			"ie", encTime(sess.IdleExpiresAt), "ea", encTime(sess.ExpiresAt), "end", encTime(end),
			"ag", sess.UserAgent, "ip", sess.IP,
			"rid", sess.RefreshID, "prid", sess.PreviousRefreshID, "ra", encOptTime(sess.RotatedAt))
		if err != nil {
			return unavailable(op, err)
		}
		if res != int64(1) {
			return conflict(op, "session ID taken")
		}
		return nil
	})
}

// Session implements [store.SessionStore].
func (s *Store) Session(ctx context.Context, id string) (*store.Session, error) {
	const op = "session"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Session, error) {
		if id == "" {
			return nil, notFound(op)
		}
		h, err := s.c.HGetAll(ctx, s.k.session(id)).Result()
		if err != nil {
			return nil, unavailable(op, err)
		}
		return s.liveSession(op, h)
	})
}

// liveSession decodes h, or returns ErrNotFound when it is empty or ended.
func (s *Store) liveSession(op string, h map[string]string) (*store.Session, error) {
	if len(h) == 0 || h["end"] <= encTime(s.now()) {
		return nil, notFound(op)
	}
	return decodeSession(op, h)
}

// RotateSession implements [store.SessionStore].
func (s *Store) RotateSession(ctx context.Context, id string, r store.Rotation) (*store.Session, error) {
	const op = "rotate session"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Session, error) {
		if id == "" {
			return nil, notFound(op)
		}
		res, err := s.run(ctx, rotateSessionScript, []string{s.k.session(id)},
			r.Expected, r.Next, encTime(r.At), encTime(r.IdleExpiresAt), encTime(s.now()))
		if err != nil {
			return nil, unavailable(op, err)
		}
		won, h, err := casReply(op, res)
		if err != nil {
			return nil, err
		}
		sess, err := decodeSession(op, h)
		if err != nil {
			return nil, err
		}
		if !won {
			return sess, conflict(op, "refresh id already rotated")
		}
		return sess, nil
	})
}

// DeleteSession implements [store.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	const op = "delete session"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if id == "" {
			return notFound(op)
		}
		res, err := s.run(ctx, deleteSessionScript, []string{s.k.session(id)}, encTime(s.now()))
		if err != nil {
			return unavailable(op, err)
		}
		if res != int64(1) {
			return notFound(op)
		}
		return nil
	})
}

// DeleteUserSessions implements [store.SessionStore].
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	const op = "delete user sessions"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		if userID == "" {
			return nil
		}
		ids, err := s.c.ZRange(ctx, s.k.userSessions(userID), 0, -1).Result()
		if err != nil {
			return unavailable(op, err)
		}
		if len(ids) == 0 {
			return nil
		}
		// Each session is checked for its owner in its own script; a pipeline
		// sends them together (split by node on a Cluster). EVAL, not EVALSHA,
		// so a pipeline never meets NOSCRIPT.
		cmds, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, e := range ids {
				deleteOwnedSessionScript.Eval(ctx, p, []string{s.sessionKeyEnc(e)}, userID)
			}
			return nil
		})
		if err == nil {
			for _, c := range cmds {
				if err = c.Err(); err != nil && !isNil(err) {
					break
				}
				err = nil
			}
		}
		if err != nil && !isNil(err) {
			return unavailable(op, err)
		}
		return nil
	})
}

func (s *Store) sessionKeyEnc(e string) string { return "{" + s.k.prefix + ":s:" + e + "}" }

// UserSessions implements [store.SessionStore].
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*store.Session, error) {
	const op = "user sessions"
	return bounded(s, ctx, op, func(ctx context.Context) ([]*store.Session, error) {
		if userID == "" {
			return nil, nil
		}
		ids, err := s.c.ZRange(ctx, s.k.userSessions(userID), 0, -1).Result()
		if err != nil {
			return nil, unavailable(op, err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		cmds := make([]*goredis.MapStringStringCmd, len(ids))
		_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, e := range ids {
				cmds[i] = p.HGetAll(ctx, s.sessionKeyEnc(e))
			}
			return nil
		})
		if err != nil {
			return nil, unavailable(op, err)
		}
		var out []*store.Session
		for _, c := range cmds {
			sess, err := s.liveSession(op, c.Val())
			if err != nil || sess.UserID != userID {
				continue // ended, deleted, or a stale hint
			}
			out = append(out, sess)
		}
		slices.SortFunc(out, func(a, b *store.Session) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		return out, nil
	})
}

func decodeSession(op string, h map[string]string) (*store.Session, error) {
	s := &store.Session{
		ID: h["id"], UserID: h["uid"], UserAgent: h["ag"], IP: h["ip"],
		RefreshID: h["rid"], PreviousRefreshID: h["prid"],
	}
	for _, f := range []struct {
		dst *time.Time
		key string
	}{
		{&s.CreatedAt, "ca"}, {&s.LastUsedAt, "lu"}, {&s.IdleExpiresAt, "ie"},
		{&s.ExpiresAt, "ea"}, {&s.RotatedAt, "ra"},
	} {
		t, err := decTime(h[f.key])
		if err != nil {
			return nil, unavailable(op, errBadReply)
		}
		*f.dst = t
	}
	return s, nil
}
