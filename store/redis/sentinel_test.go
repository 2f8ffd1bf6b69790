package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/store/storetest"
)

// The passwords of the Sentinel tests hold characters a URL must
// percent-encode, so the tests prove the decoding too.
const (
	masterPW   = "m@ster:pw/1"
	sentinelPW = "s+pw&2"
)

// sentinelSetup is a master with one replica, watched as "mymaster" by two
// Sentinels, all with passwords.
type sentinelSetup struct {
	master, replica *redisServer
	sentinels       []*redisServer
}

// url is the redis+sentinel URL of the setup, with db appended when not "".
func (s *sentinelSetup) url(db string) string {
	u := "redis+sentinel://:" + url.PathEscape(masterPW) + "@" + s.addrs() + "/mymaster"
	if db != "" {
		u += "/" + db
	}
	return u + "?sentinel_password=" + url.QueryEscape(sentinelPW)
}

// addrs is the Sentinels' comma-separated list.
func (s *sentinelSetup) addrs() string {
	var addrs []string
	for _, x := range s.sentinels {
		addrs = append(addrs, x.addr())
	}
	return strings.Join(addrs, ",")
}

// startSentinels starts the setup and waits until the replica is in sync
// and every Sentinel has reached the master and knows the replica. Every
// process is killed by pid at cleanup.
func startSentinels(t *testing.T) *sentinelSetup {
	t.Helper()
	auth := []string{"--requirepass", masterPW, "--masterauth", masterPW}
	// Without the delay (5s by default) the replica syncs at once.
	st := &sentinelSetup{master: startServer(t, "", append(auth, "--repl-diskless-sync-delay", "0")...)}
	st.replica = startServer(t, "", append(auth, "--replicaof", "127.0.0.1", strconv.Itoa(st.master.port))...)
	waitFor(t, "the replica's link to the master", func(ctx context.Context) error {
		c := goredis.NewClient(&goredis.Options{Addr: st.replica.addr(), Password: masterPW})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && !containsLine(info, "master_link_status:up") {
			err = errors.New("master_link_status is not up")
		}
		return err
	})
	for range 2 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		// Sentinel rewrites its config file, so each has its own, writable.
		body := fmt.Sprintf("requirepass %q\nsentinel resolve-hostnames no\n"+
			"sentinel monitor mymaster 127.0.0.1 %d 1\nsentinel auth-pass mymaster %q\n"+
			"sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n",
			sentinelPW, st.master.port, masterPW)
		must(t, os.WriteFile(conf, []byte(body), 0o600))
		s := &redisServer{t: t, bin: needServer(t), dir: dir, port: freePort(t), conf: conf, pass: sentinelPW, args: []string{"--sentinel"}}
		s.start()
		t.Cleanup(s.kill)
		st.sentinels = append(st.sentinels, s)
	}
	for _, s := range st.sentinels {
		waitFor(t, "Sentinel "+s.addr()+" to reach the master and its replica", func(ctx context.Context) error {
			sc := goredis.NewSentinelClient(&goredis.Options{Addr: s.addr(), Password: sentinelPW})
			defer sc.Close()
			m, err := sc.Master(ctx, "mymaster").Result()
			if err != nil {
				return err
			}
			if m["flags"] != "master" || m["num-slaves"] != "1" {
				return fmt.Errorf("flags %q, %s replicas", m["flags"], m["num-slaves"])
			}
			return nil
		})
	}
	return st
}

// waitFor retries f until it returns nil, or fails the test after 10s.
func waitFor(t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSentinel runs the conformance suite through Open on a redis+sentinel
// URL, against real Sentinels, then fails the master over.
func TestSentinel(t *testing.T) {
	st := startSentinels(t)
	direct := func(s *redisServer, db int) *goredis.Client {
		c := goredis.NewClient(&goredis.Options{Addr: s.addr(), Password: masterPW, DB: db})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	onMaster := direct(st.master, 0)
	open := func(t *testing.T, rawURL, prefix string, opts ...redisstore.Option) *redisstore.Store {
		t.Helper()
		s, err := redisstore.Open(rawURL, append(opts, redisstore.WithPrefix(prefix))...)
		must(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t, st.url(""), newPrefix(t, onMaster)) })
	})

	t.Run("Database", func(t *testing.T) {
		db3 := direct(st.master, 3)
		prefix := newPrefix(t, db3)
		s := open(t, st.url("3"), prefix)
		must(t, s.Revoke(t.Context(), "jti-db", time.Now().Add(time.Hour)))
		n, err := db3.Keys(t.Context(), "{"+prefix+":*").Result()
		must(t, err)
		if len(n) == 0 {
			t.Errorf("no key of the store in database 3")
		}
	})

	t.Run("WrongPasswords", func(t *testing.T) {
		// Each password goes where the URL puts it: a wrong one, for the
		// master or for the Sentinels, fails closed without quoting either.
		sentinels := st.addrs()
		for name, u := range map[string]string{
			"master":    "redis+sentinel://:wrong-Zq9s3@" + sentinels + "/mymaster?sentinel_password=" + url.QueryEscape(sentinelPW),
			"sentinels": "redis+sentinel://:" + url.PathEscape(masterPW) + "@" + sentinels + "/mymaster?sentinel_password=wrong-Zq9s3",
			"no master": "redis+sentinel://:" + url.PathEscape(masterPW) + "@" + sentinels + "/nosuchmaster?sentinel_password=" + url.QueryEscape(sentinelPW),
		} {
			s := open(t, u, "gktest-wrong", redisstore.WithoutLocalView())
			err := s.Ping(t.Context())
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s: Ping: got %v, want ErrUnavailable", name, err)
			}
			for _, pw := range []string{"Zq9s3", masterPW, sentinelPW, url.PathEscape(masterPW), url.QueryEscape(sentinelPW)} {
				if err != nil && strings.Contains(err.Error(), pw) {
					t.Errorf("%s: the error quotes a password: %v", name, err)
				}
			}
		}
	})

	t.Run("Failover", func(t *testing.T) {
		const prefix = "gktest-failover" // these servers are the test's own
		s := open(t, st.url(""), prefix)
		ctx := t.Context()
		must(t, s.Revoke(ctx, "jti-before", time.Now().Add(time.Hour)))
		sc := goredis.NewSentinelClient(&goredis.Options{Addr: st.sentinels[0].addr(), Password: sentinelPW})
		t.Cleanup(func() { _ = sc.Close() })
		onReplica := direct(st.replica, 0)
		waitFor(t, "the replica to hold the store's keys", func(ctx context.Context) error {
			m, err := onMaster.Keys(ctx, "{"+prefix+":*").Result()
			if err != nil {
				return err
			}
			r, err := onReplica.Keys(ctx, "{"+prefix+":*").Result()
			if err == nil && (len(r) == 0 || len(r) != len(m)) {
				err = fmt.Errorf("%d of %d keys replicated", len(r), len(m))
			}
			return err
		})
		must(t, sc.Failover(ctx, "mymaster").Err())
		waitFor(t, "the Sentinels to name the replica master", func(ctx context.Context) error {
			a, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
			if err == nil && a[1] != strconv.Itoa(st.replica.port) {
				err = fmt.Errorf("master is still %v", a)
			}
			return err
		})
		role, err := onReplica.Do(ctx, "ROLE").Slice()
		must(t, err)
		if role[0] != "master" {
			t.Fatalf("the replica's role is %v", role[0])
		}
		// The store follows the Sentinels: its writes reach the new master,
		// as a store opened now, asking Redis itself, sees.
		fresh := open(t, st.url(""), prefix, redisstore.WithoutLocalView())
		waitFor(t, "the store to write to the new master", func(ctx context.Context) error {
			if err := s.Revoke(ctx, "jti-after", time.Now().Add(time.Hour)); err != nil {
				return err
			}
			if ok, err := fresh.IsRevoked(ctx, store.Check{TokenID: "jti-after"}); !ok {
				return fmt.Errorf("the revocation is not on the new master (%v)", err)
			}
			return nil
		})
		for _, jti := range []string{"jti-before", "jti-after"} {
			if !isRevoked(t, s, store.Check{TokenID: jti}) || !isRevoked(t, fresh, store.Check{TokenID: jti}) {
				t.Errorf("%s is not revoked after the failover", jti)
			}
		}
	})
}

// TestOpenSentinelURL checks the parsing of redis+sentinel:// URLs.
func TestOpenSentinelURL(t *testing.T) {
	const pw = "s3cr3t-pw"
	good := []struct {
		name, url  string
		addrs      []string
		master     string
		db         int
		user, pass string
		sentPass   string
		tls        bool
	}{
		{"one Sentinel", "redis+sentinel://127.0.0.1:26379/mymaster",
			[]string{"127.0.0.1:26379"}, "mymaster", 0, "", "", "", false},
		{"three Sentinels and a db", "redis+sentinel://a:26379, b:26380,[::1]:26381/mymaster/2",
			[]string{"a:26379", "b:26380", "[::1]:26381"}, "mymaster", 2, "", "", "", false},
		{"password", "redis+sentinel://:" + pw + "@h:26379/m",
			[]string{"h:26379"}, "m", 0, "", pw, "", false},
		{"user, encoded password, Sentinel password", "rediss+sentinel://app:a%40b%3Ac%2F@h:1/my%20master/0?sentinel_password=x%2By%26z",
			[]string{"h:1"}, "my master", 0, "app", "a@b:c/", "x+y&z", true},
	}
	for _, r := range good {
		t.Run(r.name, func(t *testing.T) {
			o, err := redisstore.SentinelOptions(r.url)
			must(t, err)
			if fmt.Sprint(o.SentinelAddrs) != fmt.Sprint(r.addrs) || o.MasterName != r.master || o.DB != r.db ||
				o.Username != r.user || o.Password != r.pass || o.SentinelPassword != r.sentPass || (o.TLSConfig != nil) != r.tls {
				t.Errorf("got addrs %v master %q db %d user %q pass %q sentinel pass %q tls %v",
					o.SentinelAddrs, o.MasterName, o.DB, o.Username, o.Password, o.SentinelPassword, o.TLSConfig != nil)
			}
			if !o.ContextTimeoutEnabled {
				t.Errorf("ContextTimeoutEnabled is off")
			}
			s, err := redisstore.Open(r.url, redisstore.WithoutLocalView())
			must(t, err)
			_ = s.Close()
		})
	}

	bad := []struct{ name, url string }{
		{"other scheme", "redis+sentinels://:" + pw + "@h:1/m"},
		{"no master name", "redis+sentinel://:" + pw + "@h:1"},
		{"empty master name", "redis+sentinel://:" + pw + "@h:1/"},
		{"address without port", "redis+sentinel://:" + pw + "@h/m"},
		{"bad port", "redis+sentinel://:" + pw + "@h:99999/m"},
		{"empty address in list", "redis+sentinel://:" + pw + "@h:1,,h:2/m"},
		{"no address", "redis+sentinel://:" + pw + "@/m"},
		{"bad database", "redis+sentinel://:" + pw + "@h:1/m/x"},
		{"negative database", "redis+sentinel://:" + pw + "@h:1/m/-1"},
		{"extra path", "redis+sentinel://:" + pw + "@h:1/m/0/1"},
		{"bad escape in password", "redis+sentinel://:" + pw + "%zz@h:1/m"},
		{"unknown query", "redis+sentinel://h:1/m?password=" + pw},
		{"sentinel password twice", "redis+sentinel://h:1/m?sentinel_password=" + pw + "&sentinel_password=x"},
		// A password with an unencoded '/' cuts the authority short.
		{"unencoded slash in password", "redis+sentinel://:" + pw + "/x@h:1/m"},
		// An unencoded '#' would hide the rest of the URL from any parser.
		{"unencoded hash in password", "redis+sentinel://:" + pw + "#x@h:1/m"},
	}
	for _, r := range bad {
		t.Run(r.name, func(t *testing.T) {
			s, err := redisstore.Open(r.url, redisstore.WithoutLocalView())
			if err == nil {
				_ = s.Close()
				t.Fatal("Open accepted it")
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}
