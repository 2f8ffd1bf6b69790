package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.KeyStore = (*Store)(nil)

// The signing key ring is the signing_keys table and the one version row
// of signing_key_ring (migration 2). Each change is one transaction that
// first moves the version from the expected one (UPDATE ... WHERE
// version = $1: a concurrent change waits on the row lock, then finds the
// version moved and changes nothing), then writes the keys.

func (s *Store) keyTables() (ring, keys string) {
	q := pgx.Identifier{s.cfg.schema}.Sanitize() + "."
	return q + "signing_key_ring", q + "signing_keys"
}

// SigningKeys implements [store.KeyStore].
func (s *Store) SigningKeys(ctx context.Context) (*store.KeyRing, error) {
	const op = "signing keys"
	ringT, keysT := s.keyTables()
	return bounded(s, ctx, op, func(ctx context.Context) (*store.KeyRing, error) {
		ring := &store.KeyRing{}
		err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT version FROM `+ringT).Scan(&ring.Version); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT kid, alg, state, created_at, activated_at, retire_at, sealed FROM `+keysT+` ORDER BY created_at, kid`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k store.SigningKey
				var kid []byte
				var state string
				var at, ret *time.Time
				if err := rows.Scan(&kid, &k.Algorithm, &state, &k.CreatedAt, &at, &ret, &k.Sealed); err != nil {
					return err
				}
				k.ID, k.State = string(kid), store.KeyState(state)
				if at != nil {
					k.ActivatedAt = *at
				}
				if ret != nil {
					k.RetireAt = *ret
				}
				ring.Keys = append(ring.Keys, &k)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, unavailable(op, err)
		}
		// The database orders bytea kids bytewise, as Go compares strings;
		// equal created_at values sort the same either way.
		return ring, nil
	})
}

// errKeyStep carries a refusal out of a key transaction (rolled back).
type errKeyStep struct{ err error }

func (e errKeyStep) Error() string { return e.err.Error() }

// changeKeys runs f in a transaction that has moved the ring from version.
func (s *Store) changeKeys(ctx context.Context, op string, version int64, f func(tx pgx.Tx, keysT string) error) (int64, error) {
	ringT, keysT := s.keyTables()
	return bounded(s, ctx, op, func(ctx context.Context) (int64, error) {
		var next int64
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `UPDATE `+ringT+` SET version = version + 1 WHERE version = $1 RETURNING version`, version).Scan(&next)
			if errors.Is(err, pgx.ErrNoRows) {
				return errKeyStep{conflict(op, fmt.Sprintf("key ring is not at version %d", version))}
			}
			if err != nil {
				return err
			}
			return f(tx, keysT)
		})
		var step errKeyStep
		if errors.As(err, &step) {
			return 0, step.err
		}
		if err != nil {
			if c := uniqueViolation(err); c != "" {
				return 0, conflict(op, "key id taken or an active key exists")
			}
			return 0, unavailable(op, err)
		}
		return next, nil
	})
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateSigningKey implements [store.KeyStore].
func (s *Store) CreateSigningKey(ctx context.Context, version int64, k *store.SigningKey) (int64, error) {
	const op = "create signing key"
	if err := store.CheckNewSigningKey(k); err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", op, err)
	}
	if strings.ContainsRune(k.Algorithm, 0) {
		return 0, invalid(op, "NUL in algorithm")
	}
	var at *time.Time
	if k.State == store.KeyActive {
		at = optTime(k.ActivatedAt)
	}
	return s.changeKeys(ctx, op, version, func(tx pgx.Tx, keysT string) error {
		_, err := tx.Exec(ctx, `INSERT INTO `+keysT+` (kid, alg, state, created_at, activated_at, retire_at, sealed) VALUES ($1, $2, $3, $4, $5, NULL, $6)`,
			[]byte(k.ID), k.Algorithm, string(k.State), k.CreatedAt, at, k.Sealed)
		return err
	})
}

// keyState reads the state of kid inside tx, locking its row.
func keyState(ctx context.Context, tx pgx.Tx, keysT, op, id string) (string, error) {
	var st string
	err := tx.QueryRow(ctx, `SELECT state FROM `+keysT+` WHERE kid = $1 FOR UPDATE`, []byte(id)).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errKeyStep{notFound(op)}
	}
	return st, err
}

// ActivateSigningKey implements [store.KeyStore].
func (s *Store) ActivateSigningKey(ctx context.Context, version int64, id string, at, retireAt time.Time) (int64, error) {
	const op = "activate signing key"
	if at.IsZero() || retireAt.IsZero() {
		return 0, invalid(op, "zero time")
	}
	return s.changeKeys(ctx, op, version, func(tx pgx.Tx, keysT string) error {
		st, err := keyState(ctx, tx, keysT, op, id)
		if err != nil {
			return err
		}
		if st != string(store.KeyNext) {
			return errKeyStep{conflict(op, "key is "+st)}
		}
		if _, err := tx.Exec(ctx, `UPDATE `+keysT+` SET state = 'retiring', retire_at = $1 WHERE state = 'active'`, retireAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE `+keysT+` SET state = 'active', activated_at = $2 WHERE kid = $1`, []byte(id), at)
		return err
	})
}

// DeleteSigningKey implements [store.KeyStore].
func (s *Store) DeleteSigningKey(ctx context.Context, version int64, id string) (int64, error) {
	const op = "delete signing key"
	return s.changeKeys(ctx, op, version, func(tx pgx.Tx, keysT string) error {
		st, err := keyState(ctx, tx, keysT, op, id)
		if err != nil {
			return err
		}
		if st == string(store.KeyActive) {
			return errKeyStep{conflict(op, "the active key cannot be deleted")}
		}
		_, err = tx.Exec(ctx, `DELETE FROM `+keysT+` WHERE kid = $1`, []byte(id))
		return err
	})
}
