package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.IdentityStore = (*Store)(nil)

// Buckets of the optional store.IdentityStore, made by its first write
// (files written before it have none, which reads take as empty).
var (
	bIdentities     = []byte("identities")        // identity ID -> JSON boltIdentity
	bIdentitySubs   = []byte("identity_subjects") // subjectKey(issuer, subject) -> identity ID
	bUserIdentities = []byte("user_identities")   // userKey(user ID) + 8-byte sequence -> identity ID
)

// boltIdentity is an identity as stored: with the sequence number of its
// user index entry, which orders a user's identities by creation.
type boltIdentity struct {
	store.Identity
	Seq uint64
}

func subjectKey(issuer, subject string) []byte {
	k := binary.AppendUvarint(nil, uint64(len(issuer)))
	k = append(k, issuer...)
	return append(k, subject...)
}

func userIdentityKey(userID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(userKey(userID), seq)
}

func getIdentity(tx *bbolt.Tx, id string) (*boltIdentity, error) {
	b := tx.Bucket(bIdentities)
	if b == nil {
		return nil, store.ErrNotFound
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, store.ErrNotFound
	}
	var bi boltIdentity
	if err := json.Unmarshal(v, &bi); err != nil {
		return nil, fmt.Errorf("%w (identity): %w", ErrCorrupt, store.ErrUnavailable)
	}
	return &bi, nil
}

// CreateIdentity implements [store.IdentityStore]. The record and both
// index entries are written in one transaction.
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if id == nil || id.ID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return fmt.Errorf("bolt: create identity: empty ID, issuer, subject or user: %w", store.ErrInvalid)
	}
	bi := boltIdentity{Identity: *id}
	bi.CreatedAt = s.now()
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		var bs [3]*bbolt.Bucket
		for i, name := range [][]byte{bIdentities, bIdentitySubs, bUserIdentities} {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			bs[i] = b
		}
		ids, subs, users := bs[0], bs[1], bs[2]
		if ids.Get([]byte(bi.ID)) != nil {
			return fmt.Errorf("ID taken: %w", store.ErrConflict)
		}
		sk := subjectKey(bi.Issuer, bi.Subject)
		if subs.Get(sk) != nil {
			return fmt.Errorf("subject already linked: %w", store.ErrConflict)
		}
		seq, err := users.NextSequence()
		if err != nil {
			return err
		}
		bi.Seq = seq
		v, err := json.Marshal(&bi)
		if err != nil {
			return err
		}
		if err := subs.Put(sk, []byte(bi.ID)); err != nil {
			return err
		}
		if err := users.Put(userIdentityKey(bi.UserID, seq), []byte(bi.ID)); err != nil {
			return err
		}
		return ids.Put([]byte(bi.ID), v)
	})
	if err != nil {
		return fmt.Errorf("bolt: create identity: %w", err)
	}
	return nil
}

// IdentityBySubject implements [store.IdentityStore].
func (s *Store) IdentityBySubject(ctx context.Context, issuer, subject string) (*store.Identity, error) {
	var out *store.Identity
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		subs := tx.Bucket(bIdentitySubs)
		if subs == nil {
			return store.ErrNotFound
		}
		id := subs.Get(subjectKey(issuer, subject))
		if id == nil {
			return store.ErrNotFound
		}
		bi, err := getIdentity(tx, string(id))
		if err != nil {
			return err
		}
		out = &bi.Identity
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: identity: %w", err)
	}
	return out, nil
}

// UserIdentities implements [store.IdentityStore].
func (s *Store) UserIdentities(ctx context.Context, userID string) ([]*store.Identity, error) {
	var out []*store.Identity
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		users := tx.Bucket(bUserIdentities)
		if users == nil {
			return nil
		}
		prefix := userKey(userID)
		c := users.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			// The prefix is the uvarint length and the ID, so a longer ID
			// with this one as its beginning has another prefix.
			bi, err := getIdentity(tx, string(v))
			if err != nil {
				return err
			}
			out = append(out, &bi.Identity)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: user identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity implements [store.IdentityStore].
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bi, err := getIdentity(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bIdentitySubs).Delete(subjectKey(bi.Issuer, bi.Subject)); err != nil {
			return err
		}
		if err := tx.Bucket(bUserIdentities).Delete(userIdentityKey(bi.UserID, bi.Seq)); err != nil {
			return err
		}
		return tx.Bucket(bIdentities).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("bolt: delete identity: %w", err)
	}
	return nil
}

// UnlinkIdentity implements [store.IdentityStore]: the check of the
// user's other links and password and the delete are one transaction.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bi, err := getIdentity(tx, id)
		if err != nil {
			return err
		}
		if bi.UserID != userID {
			return store.ErrNotFound
		}
		keeps := false
		switch u, err := getUser(tx, userID); {
		case err == nil:
			keeps = u.PasswordHash != ""
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if !keeps {
			prefix := userKey(userID)
			c := tx.Bucket(bUserIdentities).Cursor()
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if string(v) != id {
					keeps = true
					break
				}
			}
		}
		if !keeps {
			return fmt.Errorf("the user's last way to sign in: %w", store.ErrConflict)
		}
		if err := tx.Bucket(bIdentitySubs).Delete(subjectKey(bi.Issuer, bi.Subject)); err != nil {
			return err
		}
		if err := tx.Bucket(bUserIdentities).Delete(userIdentityKey(bi.UserID, bi.Seq)); err != nil {
			return err
		}
		return tx.Bucket(bIdentities).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("bolt: unlink identity: %w", err)
	}
	return nil
}
