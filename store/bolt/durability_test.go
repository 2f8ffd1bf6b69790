package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCloseAndReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	now := time.Now()
	must(t, s.CreateUser(ctx, &store.User{ID: "u1", Username: "Alice", PasswordHash: "h", Roles: []string{"admin"}}))
	must(t, s.CreateSession(ctx, &store.Session{ID: "s1", UserID: "u1", IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour), RefreshID: "r0"}))
	must(t, s.Revoke(ctx, "jti", now.Add(time.Hour)))
	must(t, s.RevokeUserBefore(ctx, "u1", now, now.Add(time.Hour)))
	_, err := s.UseOnce(ctx, "once", now.Add(time.Hour))
	must(t, err)
	_, _, err = s.Incr(ctx, "k", time.Hour)
	must(t, err)
	must(t, s.Close())

	s2, err := bolt.Open(path)
	must(t, err)
	defer s2.Close()
	if u, err := s2.UserByUsername(ctx, "ALICE"); err != nil || u.ID != "u1" || u.Roles[0] != "admin" {
		t.Errorf("user after reopen: %+v, %v", u, err)
	}
	if list, err := s2.UserSessions(ctx, "u1"); err != nil || len(list) != 1 || list[0].RefreshID != "r0" {
		t.Errorf("sessions after reopen: %v, %v", list, err)
	}
	if r, err := s2.IsRevoked(ctx, store.Check{TokenID: "jti"}); err != nil || !r {
		t.Errorf("revocation after reopen: %v, %v", r, err)
	}
	if r, err := s2.IsRevoked(ctx, store.Check{TokenID: "x", UserID: "u1", IssuedAt: now.Add(-time.Second)}); err != nil || !r {
		t.Errorf("valid-after mark after reopen: %v, %v", r, err)
	}
	if first, err := s2.UseOnce(ctx, "once", now.Add(time.Hour)); err != nil || first {
		t.Errorf("one-time id after reopen: first = %v, %v; want remembered", first, err)
	}
	if n, _, err := s2.Count(ctx, "k"); err != nil || n != 1 {
		t.Errorf("counter after reopen: %d, %v", n, err)
	}
}

func TestSecondOpenOfLockedFileFailsWithinTimeout(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := bolt.Open(path, bolt.WithOpenTimeout(100*time.Millisecond))
	took := time.Since(start)
	if !errors.Is(err, bolt.ErrLocked) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("second Open = %v, want ErrLocked and ErrUnavailable", err)
	}
	if took > 2*time.Second {
		t.Errorf("second Open took %v with a 100ms timeout", took)
	}
}

func TestInvalidOptions(t *testing.T) {
	dir := t.TempDir()
	for name, opt := range map[string]bolt.Option{
		"zero open timeout":   bolt.WithOpenTimeout(0), // bbolt would wait for ever
		"negative sweep":      bolt.WithSweepInterval(-time.Second),
		"zero sweep interval": bolt.WithSweepInterval(0),
	} {
		if _, err := bolt.Open(filepath.Join(dir, "x.db"), opt); !errors.Is(err, bolt.ErrInvalidOption) {
			t.Errorf("%s: Open = %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := bolt.New(nil); !errors.Is(err, bolt.ErrInvalidOption) {
		t.Errorf("New(nil) = %v, want ErrInvalidOption", err)
	}
}

func TestNewLeavesTheDBToItsOwner(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	must(t, err)
	defer db.Close()
	s, err := bolt.New(db)
	must(t, err)
	must(t, s.Close())
	if err := db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		t.Errorf("Close closed a DB the store did not open: %v", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, bolt.ErrClosed) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close = %v, want ErrClosed and ErrUnavailable", err)
	}
}

const childEnv = "GATEKEEP_BOLT_CRASH_CHILD"

// TestKillDuringWrites runs a child process (this test binary again) that
// writes in a loop and prints each write once Revoke or CreateUser has
// returned, kills it with SIGKILL mid-loop, and checks that every
// acknowledged write is in the file after reopening. While the child runs,
// it also checks that the file's lock stops a second process from opening
// it.
func TestKillDuringWrites(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWrites$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	lines := bufio.NewScanner(out)
	var acked []string
	read := func() bool {
		if !lines.Scan() {
			return false
		}
		if k, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked = append(acked, k)
		}
		return true
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(acked) < 20 && time.Now().Before(deadline) && read() {
	}
	if len(acked) < 20 {
		t.Fatalf("child acknowledged only %d writes", len(acked))
	}

	// Another process holds the lock: Open must give up, not hang.
	if _, err := bolt.Open(path, bolt.WithOpenTimeout(100*time.Millisecond)); !errors.Is(err, bolt.ErrLocked) {
		t.Errorf("Open while the child holds the file = %v, want ErrLocked", err)
	}

	for len(acked) < 60 && read() {
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	for read() { // acknowledgements already in the pipe
	}
	_ = cmd.Wait()

	s, err := bolt.Open(path)
	must(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, k := range acked {
		if r, err := s.IsRevoked(ctx, store.Check{TokenID: "jti-" + k}); err != nil || !r {
			t.Errorf("acknowledged revocation %s lost: %v, %v", k, r, err)
		}
		if _, err := s.User(ctx, "user-"+k); err != nil {
			t.Errorf("acknowledged user %s lost: %v", k, err)
		}
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}

// crashChild writes until killed, acknowledging each write on stdout.
func crashChild(path string) {
	s, err := bolt.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	for i := 0; ; i++ {
		k := fmt.Sprint(i)
		if err := s.Revoke(ctx, "jti-"+k, until); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		if err := s.CreateUser(ctx, &store.User{ID: "user-" + k, Username: "user" + k}); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		fmt.Printf("ack %s\n", k) // os.Stdout is unbuffered
	}
}
