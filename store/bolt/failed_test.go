package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

// pageOf returns the offset of the 4096-byte page that holds the only copy
// of key in the file at path.
func pageOf(t *testing.T, raw []byte, key string) int {
	t.Helper()
	if n := bytes.Count(raw, []byte(key)); n != 1 {
		t.Fatalf("%q occurs %d times in the file, want once", key, n)
	}
	return bytes.Index(raw, []byte(key)) / 4096 * 4096
}

// freelistPage reads the freelist page id from the newer of the two meta
// pages (bbolt's layout: 16-byte page header, then the root bucket at +16
// of the meta, the freelist id at +32 and the transaction id at +48).
func freelistPage(raw []byte) int64 {
	le := binary.LittleEndian
	best, txid := int64(0), uint64(0)
	for _, off := range []int{0, 4096} {
		m := raw[off+16:]
		if t := le.Uint64(m[48:]); t >= txid {
			best, txid = int64(le.Uint64(m[32:])), t
		}
	}
	return best
}

// After a panic inside bbolt, its rollback may panic too and leave its
// write lock held: a later write, and Close, would then wait for ever. The
// freelist page and a data page are damaged under an open store; a write
// meets the data page, and its rollback the freelist. Every later call and
// Close must return (with ErrCorrupt), not hang.
func TestCallsAfterAPanicReturn(t *testing.T) {
	path := populated(t)
	s, err := bolt.Open(path, bolt.WithOpenCheckLimit(0), bolt.WithSweepInterval(time.Hour))
	must(t, err)
	// No t.Cleanup(Close): on the unfixed code Close hangs, and the test
	// must fail by its own bound instead.
	raw, err := os.ReadFile(path)
	must(t, err)
	free := freelistPage(raw) * 4096
	damagePage(t, path, "jti-user-1500")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt([]byte{0x02, 0x00}, free+8) // flags: a leaf, not a freelist
	must(t, err)
	must(t, f.Close())

	ctx := context.Background()
	err = s.Revoke(ctx, "jti-user-1500", time.Now().Add(time.Hour))
	if !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Revoke over a damaged page = %v; want ErrCorrupt and ErrUnavailable", err)
	}

	calls := map[string]func() error{
		"Revoke": func() error { return s.Revoke(ctx, "jti-other", time.Now().Add(time.Hour)) },
		"RevokeUserBefore": func() error {
			return s.RevokeUserBefore(ctx, "u", time.Now(), time.Now().Add(time.Hour))
		},
		"IsRevoked": func() error {
			r, err := s.IsRevoked(ctx, store.Check{TokenID: "jti-user-0001"})
			if !r {
				return errors.New("reported not revoked")
			}
			return err
		},
		"CheckWrite": func() error { return s.CheckWrite(ctx) },
		"Ping":       func() error { return s.Ping(ctx) },
		"UseOnce": func() error {
			_, err := s.UseOnce(ctx, "once", time.Now().Add(time.Hour))
			return err
		},
	}
	var mu sync.Mutex
	results := map[string]error{}
	var wg sync.WaitGroup
	for name, call := range calls {
		wg.Go(func() {
			err := call()
			mu.Lock()
			results[name] = err
			mu.Unlock()
		})
	}
	wg.Go(func() { _ = s.Close() })
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("calls or Close after a panic inside bbolt did not return (a lock left held)")
	}
	for name, err := range results {
		// Close may have won the race: ErrClosed is as good an answer.
		if !errors.Is(err, store.ErrUnavailable) || !(errors.Is(err, bolt.ErrCorrupt) || errors.Is(err, bolt.ErrClosed)) {
			t.Errorf("%s after the damage = %v; want ErrCorrupt (or ErrClosed) and ErrUnavailable", name, err)
		}
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close = %v; want ErrUnavailable", err)
	}
}

// bbolt's consistency check walks the file in a goroutine of its own, where
// a fault (a page id pointing far outside the mapping) is not turned into a
// panic and kills the process. Open must walk the file first on its own
// goroutine, under the guard. The open runs in a child process so that the
// crash, on code without the walk, is reported as a failure of this test.
func TestOpenFaultingFileIsAnError(t *testing.T) {
	if path := os.Getenv("GATEKEEP_BOLT_FAULT_FILE"); path != "" {
		_, err := bolt.Open(path)
		if errors.Is(err, bolt.ErrCorrupt) && errors.Is(err, store.ErrUnavailable) {
			os.Stdout.WriteString("open refused the file\n")
			return
		}
		t.Fatalf("Open = %v; want ErrCorrupt and ErrUnavailable", err)
	}
	path := populated(t)
	raw, err := os.ReadFile(path)
	must(t, err)
	// The revoked bucket's root is the only branch page (flag 0x01):
	// point its second child 64 TiB past the mapping.
	branch := -1
	for off := 2 * 4096; off+4096 <= len(raw); off += 4096 {
		if binary.LittleEndian.Uint16(raw[off+8:]) == 0x01 {
			if branch >= 0 {
				t.Fatal("more than one branch page")
			}
			branch = off
		}
	}
	if branch < 0 {
		t.Fatal("no branch page in the file")
	}
	binary.LittleEndian.PutUint64(raw[branch+16+16+8:], 1<<34)
	must(t, os.WriteFile(path, raw, 0o600))

	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenFaultingFileIsAnError$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GATEKEEP_BOLT_FAULT_FILE="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "open refused the file") {
		first, _, _ := strings.Cut(string(out), "\n\n")
		t.Fatalf("Open of a file whose page ids point outside it: %v\n%s", err, first)
	}
}

// The consistency check's messages quote keys (in hex by default); keys
// are session ids, token ids and usernames, and the message reaches the
// start-up line. Two keys of a leaf page are put out of order: Open must
// refuse the file with a message that holds no key bytes.
func TestOpenCheckMessageHoldsNoKeys(t *testing.T) {
	path := populated(t)
	raw, err := os.ReadFile(path)
	must(t, err)
	const key = "jti-user-1234"
	at := bytes.Index(raw, []byte(key))
	pageOf(t, raw, key)
	copy(raw[at:], "jti-user-0234") // now before its neighbour jti-user-1233
	must(t, os.WriteFile(path, raw, 0o600))

	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a file with keys out of order succeeded")
	}
	if !errors.Is(err, bolt.ErrCorrupt) {
		t.Fatalf("Open = %v; want ErrCorrupt", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, k := range []string{"jti-user", hex.EncodeToString([]byte("jti-user"))} {
		if strings.Contains(msg, k) {
			t.Errorf("Open's error quotes a key (%q): %s", k, msg)
		}
	}
}
