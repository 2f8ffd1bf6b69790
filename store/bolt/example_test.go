package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

// A session rotated twice with the same refresh token: the second rotation
// loses the compare-and-swap, which is how reuse is detected.
func Example() {
	dir, _ := os.MkdirTemp("", "gatekeep")
	defer os.RemoveAll(dir)
	st, err := bolt.Open(filepath.Join(dir, "gatekeep.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	ctx := context.Background()
	now := time.Now()
	_ = st.CreateSession(ctx, &store.Session{ID: "sid", UserID: "u1", RefreshID: "hash-1",
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)})
	r := store.Rotation{Expected: "hash-1", Next: "hash-2", At: now, IdleExpiresAt: now.Add(time.Hour)}
	_, err = st.RotateSession(ctx, "sid", r)
	fmt.Println("first refresh:", err)
	_, err = st.RotateSession(ctx, "sid", r)
	fmt.Println("replayed refresh is a conflict:", errors.Is(err, store.ErrConflict))

	_, err = bolt.Open(filepath.Join(dir, "gatekeep.db"), bolt.WithOpenTimeout(50*time.Millisecond))
	fmt.Println("second open:", errors.Is(err, bolt.ErrLocked), errors.Is(err, store.ErrUnavailable))
	// Output:
	// first refresh: <nil>
	// replayed refresh is a conflict: true
	// second open: true true
}
