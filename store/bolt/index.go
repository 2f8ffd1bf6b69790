package bolt

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

// index is the store's in-memory copy of the revoked and marks buckets,
// which IsRevoked reads instead of opening a read transaction. It is
// authoritative because the store is the file's only writer (bbolt locks
// the file to one process, and [New] refuses a second Store on one
// *bbolt.DB): it is loaded at open, and each write that changes either
// bucket changes it too, after its transaction commits and before the
// store's write lock is released, so it changes in the file's order. The
// janitor's sweep drops what it deletes from the file; until then an
// expired entry is ignored on read, as on disk.
type index struct {
	seed   maphash.Seed
	shards [idxShards]idxShard
}

// idxShards spreads the index over independently locked maps so that
// concurrent IsRevoked calls do not all contend for one lock word.
const idxShards = 64

type idxShard struct {
	mu      sync.RWMutex
	revoked map[string]int64 // token or session id -> until (Unix ns)
	marks   map[string]mark  // user id -> valid-after mark
	// Records of the wrong length (damage, or a write from outside the
	// store before it opened): the key's lookups fail closed with
	// ErrCorrupt, as they do on disk. Nil until one is found.
	badRevoked map[string]int // id -> record length
	badMarks   map[string]int // user id -> record length
	_          [72]byte       // keep neighbouring shards' locks off one cache line
}

// mark is a valid-after record: tokens of the user issued before before
// are revoked until until (both Unix ns).
type mark struct{ until, before int64 }

func newIndex() *index {
	x := &index{seed: maphash.MakeSeed()}
	for i := range x.shards {
		x.shards[i].revoked = make(map[string]int64)
		x.shards[i].marks = make(map[string]mark)
	}
	return x
}

func (x *index) shard(key string) *idxShard {
	return &x.shards[maphash.String(x.seed, key)&(idxShards-1)]
}

// load fills x from the file, skipping records expired at now.
func (x *index) load(tx *bbolt.Tx, now int64) error {
	err := tx.Bucket(bRevoked).ForEach(func(k, v []byte) error {
		switch {
		case len(v) < 8:
			x.setBad(string(k), len(v), false)
		case !expired(v, now):
			x.setRevoked(string(k), getInt(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bMarks).ForEach(func(k, v []byte) error {
		switch {
		case len(v) != 16:
			x.setBad(string(k), len(v), true)
		case !expired(v, now):
			x.setMark(string(k), mark{until: getInt(v), before: getInt(v[8:])})
		}
		return nil
	})
}

func (x *index) setBad(key string, n int, isMark bool) {
	sh := x.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if isMark {
		if sh.badMarks == nil {
			sh.badMarks = make(map[string]int)
		}
		sh.badMarks[key] = n
		return
	}
	if sh.badRevoked == nil {
		sh.badRevoked = make(map[string]int)
	}
	sh.badRevoked[key] = n
}

// setRevoked records the value a write stored for id (which replaces a
// corrupt record, if there was one).
func (x *index) setRevoked(id string, until int64) {
	sh := x.shard(id)
	sh.mu.Lock()
	sh.revoked[id] = until
	delete(sh.badRevoked, id)
	sh.mu.Unlock()
}

// setMark records the mark a write stored for userID.
func (x *index) setMark(userID string, m mark) {
	sh := x.shard(userID)
	sh.mu.Lock()
	sh.marks[userID] = m
	delete(sh.badMarks, userID)
	sh.mu.Unlock()
}

// drop forgets the records a sweep deleted from the file.
func (x *index) drop(revoked, marks [][]byte) {
	for _, k := range revoked {
		sh := x.shard(string(k))
		sh.mu.Lock()
		delete(sh.revoked, string(k))
		delete(sh.badRevoked, string(k))
		sh.mu.Unlock()
	}
	for _, k := range marks {
		sh := x.shard(string(k))
		sh.mu.Lock()
		delete(sh.marks, string(k))
		delete(sh.badMarks, string(k))
		sh.mu.Unlock()
	}
}

// isRevoked answers [store.Revoker.IsRevoked] from the index at now, with
// the on-disk path's meaning: a corrupt record is an error, never "not
// revoked".
func (x *index) isRevoked(c store.Check, now int64) (bool, error) {
	for _, id := range [2]string{c.TokenID, c.SessionID} {
		if id == "" {
			continue
		}
		sh := x.shard(id)
		sh.mu.RLock()
		until, ok := sh.revoked[id]
		n, bad := 0, false
		if len(sh.badRevoked) > 0 {
			n, bad = sh.badRevoked[id]
		}
		sh.mu.RUnlock()
		if bad {
			return true, fmt.Errorf("%w (revocation, %d bytes): %w", ErrCorrupt, n, store.ErrUnavailable)
		}
		if ok && until > now {
			return true, nil
		}
	}
	if c.UserID != "" {
		sh := x.shard(c.UserID)
		sh.mu.RLock()
		m, ok := sh.marks[c.UserID]
		n, bad := 0, false
		if len(sh.badMarks) > 0 {
			n, bad = sh.badMarks[c.UserID]
		}
		sh.mu.RUnlock()
		if bad {
			return true, fmt.Errorf("%w (valid-after mark, %d bytes): %w", ErrCorrupt, n, store.ErrUnavailable)
		}
		if ok && m.until > now {
			return c.IssuedAt.Before(time.Unix(0, m.before)), nil
		}
	}
	return false, nil
}
