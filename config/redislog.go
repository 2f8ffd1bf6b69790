package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// go-redis prints its own lines to stderr ("redis: 2026/01/02 pool.go:762:
// redis: connection pool: failed to dial after 5 attempts: ..."), several
// per failed start, beside gatekeep's one line. Build replaces go-redis's
// package logger (goredis.SetLogger) with redisLog the first time it opens
// a Redis: during a start-up ping, go-redis's lines are kept as the cause
// of the error Build returns, and printed nowhere; after a start, they go
// to the logger of the last Build whose Redis answered, at Warn, one line
// each (an operation's own error says only "context deadline exceeded"
// when dials fail). An application that calls goredis.SetLogger after
// Build keeps its own logger.

var (
	redisLogOnce sync.Once
	// redisLogger is where go-redis's lines go outside start-up pings.
	redisLogger atomic.Pointer[slog.Logger]
	// starting holds the start-up pings in flight; while any is, every
	// go-redis line is kept by them (a local view's dial from the same
	// start carries no trace) and printed nowhere.
	starting sync.Map // *dialTrace → struct{}
)

// dialTrace keeps the last thing go-redis said during one start-up ping.
type dialTrace struct {
	mu   sync.Mutex
	last string
}

// keep records s, unless it only says that a context ended (a Sentinel
// query cancelled because another failed) and a cause is already known.
func (t *dialTrace) keep(s string, ctxErr bool) {
	t.mu.Lock()
	if !ctxErr || t.last == "" {
		t.last = s
	}
	t.mu.Unlock()
}

func (t *dialTrace) cause() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

type traceKey struct{}

type redisLog struct{}

// Printf implements go-redis's logging interface.
func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	// The cause is the error go-redis reports (a dial error: "dial tcp
	// 127.0.0.1:6379: connect: connection refused"), else its whole line.
	msg, ctxErr := "", false
	for i := len(v) - 1; i >= 0 && msg == ""; i-- {
		if err, ok := v[i].(error); ok {
			msg = err.Error()
			ctxErr = errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
		}
	}
	if msg == "" {
		msg = fmt.Sprintf(format, v...)
	}
	if ctx != nil {
		if t, ok := ctx.Value(traceKey{}).(*dialTrace); ok {
			t.keep(msg, ctxErr)
			return
		}
	}
	kept := false
	starting.Range(func(k, _ any) bool {
		k.(*dialTrace).keep(msg, ctxErr)
		kept = true
		return true
	})
	if l := redisLogger.Load(); l != nil && !kept {
		l.Warn(oneLine("config: go-redis: " + fmt.Sprintf(format, v...)))
	}
}

// redisStarted makes log the logger of go-redis's lines after a start.
func redisStarted(log *slog.Logger) { redisLogger.Store(log) }

// traceRedisStart routes go-redis's lines as the comment above says and
// returns ctx carrying a trace for the start-up ping, and a function that
// ends it.
func traceRedisStart(ctx context.Context) (context.Context, *dialTrace, func()) {
	redisLogOnce.Do(func() { goredis.SetLogger(redisLog{}) })
	t := &dialTrace{}
	starting.Store(t, struct{}{})
	return context.WithValue(ctx, traceKey{}, t), t, func() { starting.Delete(t) }
}

// startErr is a failed start-up ping with what go-redis said meanwhile
// (the cause, such as "connect: connection refused" or "no such host"),
// put first; it unwraps to the ping's error.
type startErr struct {
	cause string
	err   error
}

func (e *startErr) Error() string { return e.cause + " (" + e.err.Error() + ")" }
func (e *startErr) Unwrap() error { return e.err }

// withDialCause returns err with t's cause, if go-redis gave one that err
// does not already hold, with any password of rawURL taken out.
func withDialCause(err error, t *dialTrace, rawURL string) error {
	c := t.cause()
	if c == "" || strings.Contains(err.Error(), c) {
		return err
	}
	for _, pw := range urlPasswords(rawURL) {
		c = strings.ReplaceAll(c, pw, redacted)
	}
	return &startErr{cause: c, err: err}
}

// urlPasswords returns the passwords a Redis URL holds (userinfo and
// sentinel_password), raw and decoded.
func urlPasswords(rawURL string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if d, err := url.PathUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
		}
	}
	for part := range strings.SplitSeq(rawURL, ",") {
		if _, rest, ok := strings.Cut(part, "://"); ok {
			part = rest
		}
		if at := strings.LastIndex(part, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(part[:at], ":"); ok {
				add(pw)
			}
		}
		if _, q, ok := strings.Cut(part, "?"); ok {
			if vals, err := url.ParseQuery(q); err == nil {
				add(vals.Get("sentinel_password"))
			}
		}
	}
	return out
}
