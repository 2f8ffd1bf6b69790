package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/store"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
)

// A Store on a client the application owns. The example has no Output
// line, so it is compiled but not run: it needs a Redis.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{
		Addr: "127.0.0.1:6379",
		// Lets WithTimeout bound each call on the socket itself.
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close() // the Store never closes a client it was handed

	st, err := redisstore.New(rdb, redisstore.WithPrefix("myapp"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	ctx := context.Background()
	if err := st.Ping(ctx); err != nil {
		log.Fatal(err) // wraps store.ErrUnavailable
	}
	// Logout: the token's id is revoked until the token would expire anyway.
	exp := time.Now().Add(15 * time.Minute)
	if err := st.Revoke(ctx, "jti-123", exp); err != nil {
		log.Fatal(err)
	}
	// On every request: answered from the local view, no round trip.
	revoked, err := st.IsRevoked(ctx, store.Check{TokenID: "jti-123", UserID: "u1", IssuedAt: time.Now()})
	if err != nil {
		log.Fatal(err) // fail closed: refuse the request
	}
	fmt.Println("revoked:", revoked)
}

// Open makes and owns the client; a comma-separated list of addresses
// means a Cluster, and a redis+sentinel URL the master that Sentinels name.
func ExampleOpen() {
	st, err := redisstore.Open("redis://127.0.0.1:6379/0", redisstore.WithTimeout(time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // closes the client Open made

	cluster, err := redisstore.Open("10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000")
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	ha, err := redisstore.Open("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster")
	if err != nil {
		log.Fatal(err)
	}
	defer ha.Close()
}
