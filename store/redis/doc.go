// Package redis is a gatekeep store on Redis (single node, Sentinel or
// Cluster) through github.com/redis/go-redis/v9; it is how gatekeep scales
// past one instance.
//
// go-redis is imported under the alias goredis, since this package is named
// redis too:
//
//	import (
//		goredis "github.com/redis/go-redis/v9"
//		redisstore "github.com/gatekeep/gatekeep/store/redis"
//	)
//
// # Usage
//
// Hand [New] a client you own, or let [Open] make one from a URL:
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	st, err := redisstore.New(rdb, redisstore.WithPrefix("myapp"))
//	if err != nil { ... }
//	defer st.Close()
//	var _ store.Store = st
//
// [Open] takes redis:// and rediss:// URLs for one node, a comma-separated
// host:port list for a Cluster, and for a master that Redis Sentinel
// watches:
//
//	redis+sentinel://[[user]:password@]host1:26379,host2:26379/mymaster[/db]
//
// The Sentinels are asked which node is the master, and the client
// follows them through a failover. The password before @ is the master's;
// Sentinels with requirepass take ?sentinel_password=...;
// rediss+sentinel:// uses TLS to both. Every client Open makes applies
// context deadlines on the socket (ContextTimeoutEnabled).
//
// # Guarantees
//
// Every change that touches several keys is one Lua script, so it is atomic
// on one node and on a Cluster: the keys of one script share a hash tag
// (the layout is documented in keys.go). Records expire by Redis's own TTLs
// (PEXPIREAT), and reads also check expiry against the store's clock. Every
// operation is bounded by [WithTimeout]; a Redis that cannot answer gives an
// error wrapping [store.ErrUnavailable], never a hang and never a pass.
// Errors wrap the store package's sentinels, so callers need not import
// go-redis to branch on them.
//
// All users live under one hash tag ({prefix:u}), so username uniqueness is
// one atomic script even on a Cluster; sessions are spread by session id.
// Revocations share one hash tag too, with their channel.
//
// # The local view
//
// [Store.IsRevoked] is on every request's path. The Store keeps an
// in-process view of live revocations and per-user valid-after marks, fed
// by pub/sub (sharded pub/sub on a Cluster, so one order holds), rebuilt
// from the keys after every (re)subscribe, and trusted only while this
// instance's own periodic ping keeps coming back through the channel: a
// revocation made on any instance is enforced here at most
// [WithViewMaxLag] later, usually within a millisecond. When the view is
// not provably caught up, IsRevoked asks Redis; stale means "ask Redis",
// never "allow". [WithoutLocalView] turns it off.
package redis
