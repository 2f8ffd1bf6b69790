package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// bbolt panics on pages it cannot make sense of, by design, and reading a
// page past the end of a truncated file faults the process. guard contains
// both: fn runs with faults turned into panics on this goroutine (they are
// per goroutine, so every bolt call runs in one), and any panic becomes an
// error matching ErrCorrupt and store.ErrUnavailable. bbolt rolls back a
// transaction whose function panics, so nothing is half-written.
func guard(fn func() error) error {
	_, err := recoverFault(fn)
	return err
}

// recoverFault is guard that also tells whether fn panicked.
func recoverFault(fn func() error) (panicked bool, err error) {
	prev := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(prev)
		if p := recover(); p != nil {
			err, panicked = corrupt(p), true
		}
	}()
	return false, fn()
}

// guard runs fn as the package's guard does, and marks the store failed on
// the first panic: bbolt's own rollback may have panicked in turn and left
// its write lock or mmap lock held, so no later call may enter bbolt (it
// could wait for ever), and Close leaves the file alone.
func (s *Store) guard(fn func() error) error {
	panicked, err := recoverFault(fn)
	if panicked && !s.failed.Swap(true) {
		close(s.broken)
		s.log.Error("bolt: the file is damaged; every later call fails until the process restarts with a repaired file", "err", err)
	}
	return err
}

// errFailed is what every call returns once a call has met damage.
var errFailed = fmt.Errorf("%w: the file is damaged (an earlier call met the damage; restart with a repaired file): %w", ErrCorrupt, store.ErrUnavailable)

// walk reads every page, key and value the consistency check reads, on
// the calling goroutine: tx.Check runs in a goroutine of its own, where a
// fault (a page id or key offset pointing outside the mapping) is not
// turned into a panic and kills the process. Call it inside guard. Each
// key is sought again from the root, which reads the branch keys around it
// on every level (a binary search ends on both neighbours of its answer).
func walk(tx *bbolt.Tx) error {
	var sum byte
	var walkBucket func(b *bbolt.Bucket)
	walkBucket = func(b *bbolt.Bucket) {
		// The seek runs on a cursor of its own: on a file whose keys are
		// out of order it may land anywhere, and must not move the walk.
		c, seek := b.Cursor(), b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			sum ^= touch(k) ^ touch(v)
			if v == nil {
				if child := b.Bucket(k); child != nil {
					walkBucket(child)
				}
			}
			seek.Seek(k)
		}
	}
	err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		sum ^= touch(name)
		walkBucket(b)
		return nil
	})
	walkSink.Store(uint32(sum))
	return err
}

// walkSink keeps the compiler from dropping walk's reads.
var walkSink atomic.Uint32

// touch reads one byte of every 4 KiB of b, and its last, so that every
// memory page b spans is read.
func touch(b []byte) byte {
	var x byte
	for i := 0; i < len(b); i += 4096 {
		x ^= b[i]
	}
	if len(b) > 0 {
		x ^= b[len(b)-1]
	}
	return x
}

// lengthsOnly is the consistency check's KVStringer: keys are session ids,
// token ids and usernames, and its messages reach logs and the start-up
// line, so they say how long a key or value is and never what it holds.
type lengthsOnly struct{}

func (lengthsOnly) KeyToString(k []byte) string   { return fmt.Sprintf("<%d-byte key>", len(k)) }
func (lengthsOnly) ValueToString(v []byte) string { return fmt.Sprintf("<%d-byte value>", len(v)) }

// corrupt describes a recovered panic. bbolt's messages name pages and
// offsets, never record contents.
func corrupt(p any) error {
	msg := "unreadable page"
	switch v := p.(type) {
	case error:
		msg = v.Error()
	case string:
		msg = v
	}
	return fmt.Errorf("%w: the file is damaged (%s): %w", ErrCorrupt, clipMsg(msg), store.ErrUnavailable)
}

func clipMsg(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// Meta page layout (bbolt's on-disk format): a 16-byte page header, then
// magic, version, page size, flags (4 bytes each), the root bucket (16),
// the freelist page id, the high-water page id and the transaction id (8
// each), and an FNV-64a checksum of the meta fields before it.
const (
	metaMagic      = 0xED0CDAED
	metaOff        = 16
	metaChecksumAt = metaOff + 56
	metaLen        = metaChecksumAt + 8
)

type meta struct {
	pageSize uint32
	hwm      uint64
	txid     uint64
}

func readMeta(b []byte) (meta, bool) {
	if len(b) < metaLen {
		return meta{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(b[metaOff:]) != metaMagic {
		return meta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(b[metaOff:metaChecksumAt])
	if h.Sum64() != le.Uint64(b[metaChecksumAt:]) {
		return meta{}, false
	}
	m := meta{pageSize: le.Uint32(b[metaOff+8:]), hwm: le.Uint64(b[metaOff+40:]), txid: le.Uint64(b[metaOff+48:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return meta{}, false
	}
	return m, true
}

// checkSize refuses a file shorter than its own meta pages say it is (a
// truncated file, which bbolt would read past its end). It reads only the
// two meta pages. A missing or empty file is new and passes.
func checkSize(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // let bbolt.Open report what it finds
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	size := fi.Size()
	buf := make([]byte, metaLen)
	var best meta
	var found bool
	m0ok := false
	if _, err := f.ReadAt(buf, 0); err == nil || errors.Is(err, io.EOF) {
		if m, ok := readMeta(buf); ok {
			best, found, m0ok = m, true, true
		}
	}
	// The second meta page sits one page in; without a good first meta,
	// try the page sizes bbolt is ever built with.
	sizes := []int64{4096, 8192, 16384, 65536}
	if m0ok {
		sizes = []int64{int64(best.pageSize)}
	}
	for _, ps := range sizes {
		if _, err := f.ReadAt(buf, ps); err != nil && !errors.Is(err, io.EOF) {
			continue
		}
		if m, ok := readMeta(buf); ok && (!found || m.txid > best.txid) {
			best, found = m, true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: the file is damaged (no valid meta page): %w", ErrCorrupt, store.ErrUnavailable)
	}
	if want := int64(best.hwm) * int64(best.pageSize); size < want {
		return fmt.Errorf("%w: the file is damaged (truncated: %d bytes, its meta page needs %d): %w", ErrCorrupt, size, want, store.ErrUnavailable)
	}
	return nil
}
