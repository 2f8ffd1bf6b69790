package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.KeyStore = (*Store)(nil)

// The signing key ring lives in a bucket of its own, made by the first
// change: "v" holds the 8-byte ring version, and "k" + kid each key as
// JSON. One write transaction per change makes every change a
// compare-and-swap on the version.
var (
	bKeys       = []byte("signing_keys")
	keysVersion = []byte("v")
)

func keyRecordKey(id string) []byte { return append([]byte("k"), id...) }

type keyRecord struct {
	ID          string         `json:"id"`
	Algorithm   string         `json:"alg"`
	State       store.KeyState `json:"state"`
	CreatedAt   time.Time      `json:"created"`
	ActivatedAt time.Time      `json:"activated"`
	RetireAt    time.Time      `json:"retire"`
	Sealed      []byte         `json:"sealed"`
}

func (r *keyRecord) key() *store.SigningKey {
	k := store.SigningKey(*r)
	return &k
}

func ringVersion(b *bbolt.Bucket) int64 {
	if b == nil {
		return 0
	}
	if v := b.Get(keysVersion); len(v) == 8 {
		return getInt(v)
	}
	return 0
}

// readKeys decodes every key of the bucket (nil: none).
func readKeys(b *bbolt.Bucket) (map[string]*keyRecord, error) {
	out := map[string]*keyRecord{}
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		if len(k) == 0 || k[0] != 'k' {
			return nil
		}
		var r keyRecord
		if err := json.Unmarshal(v, &r); err != nil || r.ID != string(k[1:]) {
			return corrupt("undecodable signing key record")
		}
		out[r.ID] = &r
		return nil
	})
	return out, err
}

// SigningKeys implements [store.KeyStore].
func (s *Store) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	ring := &store.KeyRing{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bKeys)
		ring.Version = ringVersion(b)
		recs, err := readKeys(b)
		if err != nil {
			return err
		}
		for _, r := range recs {
			ring.Keys = append(ring.Keys, r.key())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: signing keys: %w", err)
	}
	slices.SortFunc(ring.Keys, func(a, b *store.SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ring, nil
}

// changeKeys runs f on the decoded ring in one write transaction when the
// ring is at version, writes the records f returns (nil deletes), and
// moves the version.
func (s *Store) changeKeys(ctx context.Context, op string, version int64, f func(recs map[string]*keyRecord) (map[string]*keyRecord, error)) (int64, error) {
	var next int64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bKeys)
		if err != nil {
			return err
		}
		if cur := ringVersion(b); cur != version {
			return fmt.Errorf("%w: key ring is at version %d, not %d", store.ErrConflict, cur, version)
		}
		recs, err := readKeys(b)
		if err != nil {
			return err
		}
		writes, err := f(recs)
		if err != nil {
			return err
		}
		for id, r := range writes {
			if r == nil {
				if err := b.Delete(keyRecordKey(id)); err != nil {
					return err
				}
				continue
			}
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(keyRecordKey(id), v); err != nil {
				return err
			}
		}
		next = version + 1
		v := make([]byte, 8)
		putInt(v, next)
		return b.Put(keysVersion, v)
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: %s: %w", op, err)
	}
	return next, nil
}

func activeRecord(recs map[string]*keyRecord) *keyRecord {
	for _, r := range recs {
		if r.State == store.KeyActive {
			return r
		}
	}
	return nil
}

// CreateSigningKey implements [store.KeyStore].
func (s *Store) CreateSigningKey(ctx context.Context, version int64, k *store.SigningKey) (int64, error) {
	const op = "create signing key"
	if err := store.CheckNewSigningKey(k); err != nil {
		return 0, fmt.Errorf("bolt: %s: %w", op, err)
	}
	r := keyRecord(*k)
	r.Sealed = append([]byte(nil), k.Sealed...)
	r.RetireAt = time.Time{}
	if r.State == store.KeyNext {
		r.ActivatedAt = time.Time{}
	}
	return s.changeKeys(ctx, op, version, func(recs map[string]*keyRecord) (map[string]*keyRecord, error) {
		if _, dup := recs[k.ID]; dup {
			return nil, fmt.Errorf("%w: key id taken", store.ErrConflict)
		}
		if r.State == store.KeyActive && activeRecord(recs) != nil {
			return nil, fmt.Errorf("%w: an active key exists", store.ErrConflict)
		}
		return map[string]*keyRecord{k.ID: &r}, nil
	})
}

// ActivateSigningKey implements [store.KeyStore].
func (s *Store) ActivateSigningKey(ctx context.Context, version int64, id string, at, retireAt time.Time) (int64, error) {
	const op = "activate signing key"
	if at.IsZero() || retireAt.IsZero() {
		return 0, fmt.Errorf("bolt: %s: %w: zero time", op, store.ErrInvalid)
	}
	return s.changeKeys(ctx, op, version, func(recs map[string]*keyRecord) (map[string]*keyRecord, error) {
		r, ok := recs[id]
		if !ok {
			return nil, store.ErrNotFound
		}
		if r.State != store.KeyNext {
			return nil, fmt.Errorf("%w: key is %s, not next", store.ErrConflict, r.State)
		}
		w := map[string]*keyRecord{id: r}
		if old := activeRecord(recs); old != nil {
			old.State, old.RetireAt = store.KeyRetiring, retireAt
			w[old.ID] = old
		}
		r.State, r.ActivatedAt = store.KeyActive, at
		return w, nil
	})
}

// DeleteSigningKey implements [store.KeyStore].
func (s *Store) DeleteSigningKey(ctx context.Context, version int64, id string) (int64, error) {
	return s.changeKeys(ctx, "delete signing key", version, func(recs map[string]*keyRecord) (map[string]*keyRecord, error) {
		r, ok := recs[id]
		if !ok {
			return nil, store.ErrNotFound
		}
		if r.State == store.KeyActive {
			return nil, fmt.Errorf("%w: the active key cannot be deleted", store.ErrConflict)
		}
		return map[string]*keyRecord{id: nil}, nil
	})
}
