package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
)

// Store is a [store.Store] on Redis. It is safe for concurrent use. Create
// it with [New] or [Open]; [Store.Close] stops its goroutines.
type Store struct {
	c       goredis.UniversalClient
	own     bool // Open made c, so Close closes it
	cfg     config
	k       keys
	sharded bool   // Cluster: SPUBLISH/SSUBSCRIBE
	pubCmd  string // "PUBLISH" or "SPUBLISH"
	view    *view  // nil WithoutLocalView
	// ctxAware: the client applies context deadlines itself (see bounded).
	ctxAware bool

	closed    atomic.Bool
	closeOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	fallbacks atomic.Int64 // IsRevoked answers that asked Redis (tests, metrics)
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Pinger       = (*Store)(nil)
	_ store.WriteChecker = (*Store)(nil)
)

// New returns a Store on client, which may be a *goredis.Client, a
// Sentinel-backed failover client or a *goredis.ClusterClient. The caller
// keeps owning client: [Store.Close] does not close it. New does not
// contact Redis; call [Store.Ping] to check that it answers.
//
// Every call is bounded by [WithTimeout] whatever the client. Set
// ContextTimeoutEnabled in the client's options (Open does) so that bound
// is applied on the socket itself; otherwise a call past it returns
// ErrUnavailable while its goroutine waits out the client's own timeouts.
func New(client goredis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, invalid("new", "nil client")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{c: client, cfg: cfg, k: newKeys(cfg.prefix), pubCmd: "PUBLISH", ctxAware: honoursContext(client)}
	if _, ok := client.(*goredis.ClusterClient); ok {
		s.sharded, s.pubCmd = true, "SPUBLISH"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if cfg.localView {
		s.view = newView(s)
		s.wg.Add(2)
		go func() { defer s.wg.Done(); s.view.subscribeLoop(ctx) }()
		go func() { defer s.wg.Done(); s.view.pingLoop(ctx) }()
	}
	return s, nil
}

// Open connects to the Redis that rawURL names and returns a Store on it;
// [Store.Close] closes that connection too.
//
//	redis://[user:password@]host:port[/db]   one node
//	rediss://...                             the same over TLS
//	host:port                                one node, no TLS
//	host1:port,host2:port,...                a Cluster (a redis:// or
//	                                         rediss:// scheme and credentials
//	                                         may lead the list)
//	redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db]
//	                                         the master the Sentinels at
//	                                         host:port... know by the name
//	                                         master; ?sentinel_password=pw
//	                                         when they need one
//	rediss+sentinel://...                    the same over TLS, to the
//	                                         Sentinels and Redis alike
//
// In the Sentinel form the credentials before @ are the Redis master's,
// as in redis://; sentinel_password is for Sentinels that have
// requirepass. User, passwords and master name are percent-encoded, as in
// any URL. The client asks the Sentinels for the master and follows them
// through a failover.
//
// Errors never repeat the URL, which may hold a password.
func Open(rawURL string, opts ...Option) (*Store, error) {
	client, err := openClient(rawURL)
	if err != nil {
		return nil, err
	}
	s, err := New(client, opts...)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

func openClient(rawURL string) (goredis.UniversalClient, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, invalid("open", "empty Redis URL")
	}
	scheme := ""
	if i := strings.Index(rawURL, "://"); i >= 0 {
		scheme = rawURL[:i]
		switch scheme {
		case "redis", "rediss":
		case "redis+sentinel", "rediss+sentinel":
			opt, err := parseSentinelURL(scheme, rawURL[i+3:])
			if err != nil {
				return nil, err
			}
			return goredis.NewFailoverClient(opt), nil
		default:
			return nil, invalid("open", "Redis URL scheme must be redis://, rediss://, redis+sentinel:// or rediss+sentinel://")
		}
	}
	if strings.Contains(rawURL, ",") {
		parts := strings.Split(rawURL, ",")
		opt := &goredis.ClusterOptions{}
		first := parts[0]
		if scheme != "" {
			u, err := url.Parse(first)
			if err != nil || u.Host == "" {
				return nil, invalid("open", "cannot parse the first address of the Redis cluster URL")
			}
			first = u.Host
			if u.User != nil {
				opt.Username = u.User.Username()
				opt.Password, _ = u.User.Password()
			}
			if scheme == "rediss" {
				opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
			}
		}
		if scheme == "" && !bareAddr(first) {
			return nil, invalid("open", "a Redis cluster URL is a comma-separated list of host:port")
		}
		opt.Addrs = append(opt.Addrs, first)
		for _, p := range parts[1:] {
			p = strings.TrimSpace(p)
			if p == "" || strings.ContainsAny(p, "/@?") {
				return nil, invalid("open", "a Redis cluster URL is a comma-separated list of host:port")
			}
			opt.Addrs = append(opt.Addrs, p)
		}
		opt.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(opt), nil
	}
	if scheme == "" && !bareAddr(rawURL) {
		// user:password@host:port without a scheme would reach go-redis's
		// dial errors, password included.
		return nil, invalid("open", "a Redis address without a scheme is host:port; use redis:// for credentials")
	}
	opt := &goredis.Options{Addr: rawURL}
	if scheme != "" {
		var err error
		if opt, err = goredis.ParseURL(rawURL); err != nil {
			// go-redis and net/url errors may quote the URL, password included.
			return nil, invalid("open", "cannot parse the Redis URL")
		}
	}
	opt.ContextTimeoutEnabled = true
	return goredis.NewClient(opt), nil
}

// parseSentinelURL parses what follows "redis+sentinel://" or
// "rediss+sentinel://":
//
//	[[user]:password@]host:port[,host:port...]/master[/db][?sentinel_password=pw]
//
// go-redis's own ParseFailoverURL is not used: its form shares redis://
// with a single node (the master name is a query parameter), and it
// reads the userinfo as the Sentinels' credentials, where every other
// Redis URL gives the Redis server's. Errors never quote the input.
func parseSentinelURL(scheme, rest string) (*goredis.FailoverOptions, error) {
	const form = "a Sentinel URL is redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db][?sentinel_password=...]"
	bad := func(why string) error { return invalid("open", why+"; "+form) }
	opt := &goredis.FailoverOptions{ContextTimeoutEnabled: true}
	if strings.Contains(rest, "#") {
		return nil, bad("a Sentinel URL has no fragment (#); percent-encode a # in a password as %23")
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, bad("cannot parse the query")
		}
		for k, v := range q {
			if k != "sentinel_password" || len(v) != 1 {
				return nil, bad("the one query parameter is sentinel_password, given once")
			}
			opt.SentinelPassword = v[0]
		}
	}
	authority, path, hasPath := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, pass, _ := strings.Cut(authority[:i], ":")
		var err1, err2 error
		opt.Username, err1 = url.PathUnescape(user)
		opt.Password, err2 = url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, bad("cannot decode the user or password")
		}
		authority = authority[i+1:]
	}
	for _, a := range strings.Split(authority, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, bad("each Sentinel address must be host:port")
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, a)
	}
	segs := strings.Split(path, "/")
	if !hasPath || segs[0] == "" {
		return nil, bad("the master name is missing")
	}
	if len(segs) > 2 {
		return nil, bad("too many path segments")
	}
	name, err := url.PathUnescape(segs[0])
	if err != nil || name == "" {
		return nil, bad("cannot decode the master name")
	}
	opt.MasterName = name
	if len(segs) == 2 {
		db, err := strconv.Atoi(segs[1])
		if err != nil || db < 0 {
			return nil, bad("the database must be a number of 0 or more")
		}
		opt.DB = db
	}
	if scheme == "rediss+sentinel" {
		// No ServerName: each connection verifies the host it dials, a
		// Sentinel or the master the Sentinels name, not the first one.
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}

// Close stops the local view's goroutines and, for a Store from [Open],
// closes its client. On a hung Redis and a client that does not honour
// context deadlines, it waits for the client's own timeouts. Operations after Close return [ErrClosed]. Calling it
// again does nothing.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.cancel()
		if s.view != nil {
			s.view.stop()
		}
		s.wg.Wait()
		if s.own {
			err = s.c.Close()
		}
	})
	return err
}

// Ping reports whether Redis answers, within the store's timeout.
func (s *Store) Ping(ctx context.Context) error {
	return boundedErr(s, ctx, "ping", func(ctx context.Context) error {
		if err := s.c.Ping(ctx).Err(); err != nil {
			return unavailable("ping", err)
		}
		return nil
	})
}

// CheckWrite reports whether Redis accepts a write: it sets a key of its
// own that expires after ten seconds. A Redis that answers reads but
// refuses writes (maxmemory reached under noeviction, a read-only replica)
// fails it.
func (s *Store) CheckWrite(ctx context.Context) error {
	return boundedErr(s, ctx, "write check", func(ctx context.Context) error {
		if err := s.c.Set(ctx, "{"+s.k.prefix+":health}", "1", 10*time.Second).Err(); err != nil {
			return unavailable("write check", err)
		}
		return nil
	})
}

// bounded runs one operation: it refuses on a closed store or a done
// context and bounds f by the store's timeout. A client that honours
// context deadlines (ContextTimeoutEnabled, which Open sets) runs f
// directly; any other client would wait for its own read timeouts, so f
// runs in a goroutine that is abandoned (to finish by those timeouts) when
// the bound passes.
func bounded[T any](s *Store, ctx context.Context, op string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if s.closed.Load() {
		return zero, ErrClosed
	}
	if err := ctxDone(ctx, op); err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	if s.ctxAware {
		return f(ctx)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // finished just in time
			return r.v, r.err
		default:
			return zero, unavailable(op, ctx.Err())
		}
	}
}

func boundedErr(s *Store, ctx context.Context, op string, f func(context.Context) error) error {
	_, err := bounded(s, ctx, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// honoursContext reports whether client applies context deadlines to its
// socket reads and writes.
func honoursContext(client goredis.UniversalClient) bool {
	switch c := client.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

func (s *Store) now() time.Time { return s.cfg.clock() }

// run runs a script, mapping a nil reply to (nil, nil).
func (s *Store) run(ctx context.Context, sc *goredis.Script, keys []string, args ...any) (any, error) {
	v, err := sc.Run(ctx, s.c, keys, args...).Result()
	if isNil(err) {
		return nil, nil
	}
	return v, err
}

var errBadReply = errors.New("unexpected reply from Redis")

// bareAddr reports whether s can be a plain host:port: no credentials,
// path or query that would travel on to a dial error.
func bareAddr(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && !strings.ContainsAny(s, "/@?")
}
