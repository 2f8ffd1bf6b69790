package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
)

// A truncated revocation or valid-after record must fail closed: an error
// and "revoked", never "not revoked".
func TestIsRevokedCorruptRecordFailsClosed(t *testing.T) {
	for _, row := range []struct{ name, bucket, key string }{
		{"token revocation", "revoked", "jti-1"},
		{"session revocation", "revoked", "sid-1"},
		{"valid-after mark", "marks", "user-1"},
	} {
		t.Run(row.name, func(t *testing.T) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			must(t, err)
			defer db.Close()
			// The record is damaged before the store opens: the store
			// reads revocations into memory at open and is then the
			// file's only writer.
			s, err := bolt.New(db)
			must(t, err)
			must(t, s.Close())
			must(t, db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket([]byte(row.bucket)).Put([]byte(row.key), []byte{1, 2, 3})
			}))
			s, err = bolt.New(db)
			must(t, err)
			defer s.Close()
			revoked, err := s.IsRevoked(context.Background(), store.Check{
				TokenID: "jti-1", SessionID: "sid-1", UserID: "user-1", IssuedAt: time.Now(),
			})
			if !revoked || !errors.Is(err, bolt.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("IsRevoked over a corrupt %s = %v, %v; want true, ErrCorrupt and ErrUnavailable", row.bucket, revoked, err)
			}
		})
	}
}
