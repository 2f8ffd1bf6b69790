package redis

import (
	"context"
	"errors"
	"fmt"

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
	return fmt.Errorf("redis: %s: %w: %w", op, store.ErrUnavailable, err)
}

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
