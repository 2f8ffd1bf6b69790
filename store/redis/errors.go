package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

// ErrClosed is returned (wrapping [store.ErrUnavailable]) by every operation
// on a Store after [Store.Close].
var ErrClosed = fmt.Errorf("redis: store closed: %w", store.ErrUnavailable)

// unavailable wraps a fault of Redis or of the connection to it. The text
// of go-redis errors names addresses and commands, never values, so it is
// kept for operators; the values we send (hashes, ids) are never put in an
// error.
func unavailable(op string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("redis: %s: %w: %w", op, store.ErrUnavailable, scrub(err))
}

// scrub keeps a Redis error's cause and drops what follows it in a
// script's error ("script: <sha>, on @user_script:..."), which says
// nothing to an operator and varies between deployments.
func scrub(err error) error {
	msg := err.Error()
	i := strings.Index(msg, " script: ")
	if i < 0 {
		return err
	}
	return &scrubbed{msg: strings.TrimRight(msg[:i], ". ,"), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// isNil reports whether err is go-redis's "no such key".
func isNil(err error) bool { return errors.Is(err, goredis.Nil) }

// ctxDone returns an ErrUnavailable-wrapping error when ctx is already done,
// so a cancelled call fails closed even when it could answer locally.
func ctxDone(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

func invalid(op, why string) error {
	return fmt.Errorf("redis: %s: %w: %s", op, store.ErrInvalid, why)
}

func notFound(op string) error { return fmt.Errorf("redis: %s: %w", op, store.ErrNotFound) }

func conflict(op, why string) error {
	return fmt.Errorf("redis: %s: %w: %s", op, store.ErrConflict, why)
}
