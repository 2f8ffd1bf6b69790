package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

// populated writes a file whose revocations span many pages (in one
// transaction, to keep the test fast), closes it and returns its path.
func populated(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := bolt.Open(path)
	must(t, err)
	must(t, s.Close())
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	must(t, err)
	until := make([]byte, 8)
	binary.BigEndian.PutUint64(until, uint64(time.Now().Add(time.Hour).UnixNano()))
	must(t, db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("revoked"))
		for i := range 3000 {
			if err := b.Put(fmt.Appendf(nil, "jti-user-%04d", i), until); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.Close())
	return path
}

// Each damage found by fault injection (a truncated file, data pages
// overwritten) must make Open fail with ErrCorrupt and ErrUnavailable —
// never a panic or a fault that kills the process.
func TestOpenDamagedFile(t *testing.T) {
	for _, row := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated to its meta pages", func(t *testing.T, path string) { must(t, os.Truncate(path, 8192)) }},
		{"truncated to half", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, fi.Size()/2))
		}},
		{"data pages overwritten", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			must(t, err)
			defer f.Close()
			junk := make([]byte, 4096*8)
			for i := range junk {
				junk[i] = byte(i*7 + 3)
			}
			_, err = f.WriteAt(junk, 4096*2) // the pages after the two meta pages
			must(t, err)
		}},
		{"meta pages overwritten", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			must(t, err)
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 8192), 0)
			must(t, err)
		}},
	} {
		t.Run(row.name, func(t *testing.T) {
			path := populated(t)
			row.damage(t, path)
			s, err := bolt.Open(path)
			if err == nil {
				s.Close()
				t.Fatal("Open of a damaged file succeeded")
			}
			if !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Open = %v; want ErrCorrupt and ErrUnavailable", err)
			}
		})
	}
}

// Damage met after open by a call (or by the janitor) is an error of that
// call; from then on every call fails closed with ErrCorrupt without
// entering bbolt again (whose locks a panic may have left held), and the
// janitor logs and keeps running. One leaf page of revocations is
// overwritten under an open store.
func TestDamageAfterOpenIsAnError(t *testing.T) {
	path := populated(t)
	logs := &syncWriter{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	s, err := bolt.Open(path, bolt.WithOpenCheckLimit(0), bolt.WithSweepInterval(time.Millisecond), bolt.WithLogger(log))
	must(t, err)
	defer s.Close()
	damagePage(t, path, "jti-user-1500")

	ctx := context.Background()
	if err := s.Revoke(ctx, "jti-user-1500", time.Now().Add(time.Hour)); !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Revoke over a damaged page = %v; want ErrCorrupt and ErrUnavailable", err)
	}
	revoked, err := s.IsRevoked(ctx, store.Check{TokenID: "jti-user-0001"})
	if !revoked || !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("IsRevoked after the damage = %v, %v; want true, ErrCorrupt and ErrUnavailable", revoked, err)
	}
	// The janitor meets the damage on every sweep: it logs and keeps
	// running (before, its first sweep killed the process).
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "janitor sweep failed") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the janitor logged no failed sweeps")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Ping(ctx); !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping after the damage = %v; want ErrCorrupt and ErrUnavailable", err)
	}
}

// With the full check skipped, damage among the revocations is still found
// at open: the store reads them all into memory there.
func TestOpenDamagedRevocationsWithoutCheck(t *testing.T) {
	path := populated(t)
	damagePage(t, path, "jti-user-1500")
	s, err := bolt.Open(path, bolt.WithOpenCheckLimit(0))
	if err == nil {
		s.Close()
		t.Fatal("Open over damaged revocations succeeded")
	}
	if !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open = %v; want ErrCorrupt and ErrUnavailable", err)
	}
}

// damagePage overwrites with 0xFF the 4096-byte page of the file that holds
// key (the only copy of it).
func damagePage(t *testing.T, path, key string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	must(t, err)
	page := pageOf(t, raw, key)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	_, err = f.WriteAt(bytes.Repeat([]byte{0xFF}, 4096), int64(page))
	must(t, err)
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
