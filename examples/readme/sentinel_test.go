package readme

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
)

func sentinel(secret []byte) (*auth.Authenticator, *redis.Store, error) {
	key, err := token.NewHMACKey(token.HS256, "default", secret) // or token.ParsePEM
	if err != nil {
		return nil, nil, err
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		return nil, nil, err
	}
	topts := []token.Option{token.WithIssuer("gatekeep"), token.WithAudience("gatekeep")}
	signer, err := token.NewSigner(keys, topts...)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := token.NewVerifier(keys, topts...)
	if err != nil {
		return nil, nil, err
	}

	client := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:            "gatekeep",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true, // lets the store bound every call on the socket
	})
	st, err := redis.New(client) // client stays yours: close it after st
	if err != nil {
		return nil, nil, err
	}
	a, err := auth.New(signer, verifier, st, auth.WithIssuer("gatekeep"), auth.WithAudience("gatekeep"))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return a, st, nil
}
