package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.TOTPStore = (*Store)(nil)

// An enrolment is one JSON string beside its user (same hash tag, so
// DeleteUser removes both in one script). Every write is a compare-and-swap
// of the whole value (totpCASScript): the method reads the value, decides,
// and swaps only if the value is still the one it read; a lost swap reads
// again and decides again, so the outcome is as if the calls ran one after
// another.

// KEYS: totp. ARGV: expected value ("" for none), next value ("" to
// delete). Returns 1 swapped, 0 lost.
var totpCASScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
`)

// totpRetries bounds the re-reads of one call; each lost swap means
// another call made progress.
const totpRetries = 100

func (s *Store) readTOTP(ctx context.Context, op, userID string) (raw string, e *store.TOTP, err error) {
	raw, err = s.c.Get(ctx, s.k.totp(userID)).Result()
	if isNil(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, unavailable(op, err)
	}
	e = new(store.TOTP)
	if err := json.Unmarshal([]byte(raw), e); err != nil {
		return "", nil, unavailable(op, errBadReply)
	}
	return raw, e, nil
}

// casTOTP runs decide on the stored enrolment (nil when none) until its
// result is swapped in: decide returns the next value (nil to delete), or
// an error that ends the call with nothing changed.
func (s *Store) casTOTP(ctx context.Context, op, userID string, decide func(e *store.TOTP) (*store.TOTP, error)) (*store.TOTP, error) {
	return bounded(s, ctx, op, func(ctx context.Context) (*store.TOTP, error) {
		for range totpRetries {
			raw, e, err := s.readTOTP(ctx, op, userID)
			if err != nil {
				return nil, err
			}
			next, err := decide(e)
			if err != nil {
				return nil, err
			}
			val := ""
			if next != nil {
				b, err := json.Marshal(next)
				if err != nil {
					return nil, unavailable(op, err)
				}
				val = string(b)
			}
			res, err := s.run(ctx, totpCASScript, []string{s.k.totp(userID)}, raw, val)
			if err != nil {
				return nil, unavailable(op, err)
			}
			if res == int64(1) {
				return next, nil
			}
		}
		return nil, unavailable(op, errBadReply)
	})
}

// TOTP implements [store.TOTPStore].
func (s *Store) TOTP(ctx context.Context, userID string) (*store.TOTP, error) {
	const op = "totp"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.TOTP, error) {
		_, e, err := s.readTOTP(ctx, op, userID)
		if err == nil && e == nil {
			err = notFound(op)
		}
		return e, err
	})
}

// BeginTOTP implements [store.TOTPStore].
func (s *Store) BeginTOTP(ctx context.Context, in *store.TOTP) error {
	const op = "begin totp"
	if in == nil || in.UserID == "" || len(in.Secret) == 0 {
		return invalid(op, "empty user ID or secret")
	}
	_, err := s.casTOTP(ctx, op, in.UserID, func(e *store.TOTP) (*store.TOTP, error) {
		if e != nil && e.Confirmed {
			return nil, conflict(op, "already confirmed")
		}
		now := s.now()
		return &store.TOTP{UserID: in.UserID, Secret: bytes.Clone(in.Secret), CreatedAt: now, UpdatedAt: now}, nil
	})
	return err
}

// ConfirmTOTP implements [store.TOTPStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, codes []string) (*store.TOTP, error) {
	const op = "confirm totp"
	return s.casTOTP(ctx, op, userID, func(e *store.TOTP) (*store.TOTP, error) {
		switch {
		case e == nil:
			return nil, notFound(op)
		case e.Confirmed || !bytes.Equal(e.Secret, secret):
			return nil, conflict(op, "not the pending secret")
		}
		e.Confirmed = true
		e.RecoveryCodes = slices.Clone(codes)
		e.UpdatedAt = s.now()
		return e, nil
	})
}

// DeleteTOTP implements [store.TOTPStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string, expected []byte) error {
	const op = "delete totp"
	_, err := s.casTOTP(ctx, op, userID, func(e *store.TOTP) (*store.TOTP, error) {
		switch {
		case e == nil:
			return nil, notFound(op)
		case expected != nil && !bytes.Equal(e.Secret, expected):
			return nil, conflict(op, "another secret")
		}
		return nil, nil
	})
	return err
}

// UseRecoveryCode implements [store.TOTPStore].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (*store.TOTP, error) {
	const op = "use recovery code"
	return s.casTOTP(ctx, op, userID, func(e *store.TOTP) (*store.TOTP, error) {
		if e == nil || !e.Confirmed {
			return nil, notFound(op)
		}
		i := slices.Index(e.RecoveryCodes, hash)
		if i < 0 {
			return nil, notFound(op)
		}
		e.RecoveryCodes = slices.Delete(e.RecoveryCodes, i, i+1)
		e.UpdatedAt = s.now()
		return e, nil
	})
}
