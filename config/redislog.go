package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/internal/redact"
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
	// starting holds the start-up pings in flight; while any is, a
	// go-redis line without a ping's context is printed nowhere.
	starting sync.Map // *dialTrace → struct{}
)

// dialTrace keeps the last thing go-redis said, with the context of one
// start-up ping, about that ping.
type dialTrace struct {
	mu   sync.Mutex
	last string
}

// keep records s, unless it only says that a context ended (a Sentinel
// query cancelled because another failed) and a cause is already known.
func (t *dialTrace) keep(s string, ctxErr bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ctxErr && t.last != "" {
		return
	}
	t.last = s
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
	// A line without a ping's context during a start may be about another
	// client (a failed start's, finishing a dial): it is not that start's
	// cause, and is printed nowhere.
	kept := false
	starting.Range(func(_, _ any) bool {
		kept = true
		return false
	})
	if l := redisLogger.Load(); l != nil && !kept {
		l.Warn(oneLine("config: go-redis: " + fmt.Sprintf(format, v...)))
	}
}

// redisStarted makes log the logger of go-redis's lines after a start.
func redisStarted(log *slog.Logger) { redisLogger.Store(log) }

// traceRedisStart routes go-redis's lines as the comment above says and
// returns ctx carrying a trace for the start-up ping, and a function that
// ends it. A failed start's client may still finish a dial after it (and
// say so): that line goes to the logger of the last start, as any line
// after a start does.
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

// withDialCause returns err with the reason the Redis of rawURL did not
// answer, when err says only that the ping ran out of time: what go-redis
// said during the ping, or else what dialling its addresses says
// ("connect: connection refused", "no such host"); any password of rawURL
// is taken out.
func withDialCause(ctx context.Context, err error, t *dialTrace, rawURL string) error {
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	c := t.cause()
	if c == "" {
		c = probeRedis(ctx, rawURL)
	}
	if c == "" || strings.Contains(err.Error(), c) {
		return err
	}
	for _, pw := range urlPasswords(rawURL) {
		c = strings.ReplaceAll(c, pw, redact.Redacted)
	}
	return &startErr{cause: c, err: err}
}

// probeTimeout bounds each dial of probeRedis.
const probeTimeout = time.Second

// probeRedis dials the first addresses of rawURL (three at most) and
// returns the first dial error, or "" if each answers (the cause is then
// past the TCP connection: TLS, AUTH, a slow server).
func probeRedis(ctx context.Context, rawURL string) string {
	addrs := redisAddrs(rawURL)
	if len(addrs) > 3 {
		addrs = addrs[:3]
	}
	d := net.Dialer{Timeout: probeTimeout}
	for _, a := range addrs {
		c, err := d.DialContext(ctx, "tcp", a)
		if err != nil {
			return err.Error()
		}
		_ = c.Close()
	}
	return ""
}

// redisAddrs returns the host:port addresses a Redis URL names (the
// server, a Cluster's nodes or the Sentinels), port 6379 (26379 for
// Sentinels) when none is given.
func redisAddrs(rawURL string) []string {
	port := "6379"
	if strings.Contains(rawURL, "+sentinel://") {
		port = "26379"
	}
	var out []string
	for part := range strings.SplitSeq(strings.TrimSpace(rawURL), ",") {
		part = strings.TrimSpace(part)
		if _, rest, ok := strings.Cut(part, "://"); ok {
			part = rest
		}
		if at := strings.LastIndex(part, "@"); at >= 0 {
			part = part[at+1:]
		}
		if i := strings.IndexAny(part, "/?"); i >= 0 {
			part = part[:i]
		}
		if part == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(part); err != nil {
			part = net.JoinHostPort(strings.Trim(part, "[]"), port)
		}
		out = append(out, part)
	}
	return out
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
