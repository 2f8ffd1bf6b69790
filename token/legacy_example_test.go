package token_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gatekeep/gatekeep/token"
)

// An express application's token, made by jsonwebtoken 9.0.3 at
// 2026-01-02T03:04:05Z:
//
//	jwt.sign({id: 42, admin: true}, process.env.JWT_SECRET, {expiresIn: '15m'})
const expressDotenvToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
	"eyJpZCI6NDIsImFkbWluIjp0cnVlLCJpYXQiOjE3NjczMjMwNDUsImV4cCI6MTc2NzMyMzk0NX0." +
	"9s9UrWZCLdr208XY4vgwtcSZcM0SRgXJ_Vr7AVXdr_c"

func ExampleLegacyVerifier() {
	// The key of the Node application's JWT_SECRET, which gatekeep now
	// signs with too.
	key, err := token.NewHMACKey(token.HS256, "default", []byte("a-node-dotenv-JWT_SECRET-of-32+-bytes!!"))
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 1, 2, 3, 10, 0, 0, time.UTC)
	v, err := token.NewLegacyVerifier(key, token.WithClock(func() time.Time { return at }))
	if err != nil {
		panic(err)
	}
	c, err := v.Verify(context.Background(), expressDotenvToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject, c.Admin, c.ExpiresAt.Sub(c.IssuedAt))
	// Output: 42 true 15m0s
}
