package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/memory"
)

// A logout revokes the session; every token issued under it is refused.
func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()

	err := st.CreateUser(ctx, &store.User{ID: store.NewID(), Username: "Alice", PasswordHash: "$argon2id$..."})
	fmt.Println("created:", err)
	err = st.CreateUser(ctx, &store.User{ID: store.NewID(), Username: "ALICE"})
	fmt.Println("duplicate:", err)

	check := store.Check{TokenID: "jti-1", SessionID: "sid-1", UserID: "u1", IssuedAt: time.Now()}
	revoked, _ := st.IsRevoked(ctx, check)
	fmt.Println("revoked before logout:", revoked)
	_ = st.Revoke(ctx, "sid-1", time.Now().Add(15*time.Minute))
	revoked, _ = st.IsRevoked(ctx, check)
	fmt.Println("revoked after logout:", revoked)
	// Output:
	// created: <nil>
	// duplicate: memory: create user: username taken: store: conflict
	// revoked before logout: false
	// revoked after logout: true
}
