package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.TOTPStore = (*Store)(nil)

// Every write is one statement whose WHERE clause is the compare: the row
// lock it takes makes a concurrent one re-check it (READ COMMITTED), so of
// concurrent swaps exactly one matches.

const totpCols = `user_id, secret, confirmed, recovery_codes, created_at, updated_at`

func scanTOTP(op string, row pgx.Row) (*store.TOTP, error) {
	var (
		uid   []byte
		codes [][]byte
		e     store.TOTP
	)
	err := row.Scan(&uid, &e.Secret, &e.Confirmed, &codes, &e.CreatedAt, &e.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(op)
	}
	if err != nil {
		return nil, unavailable(op, err)
	}
	e.UserID = string(uid)
	for _, c := range codes {
		e.RecoveryCodes = append(e.RecoveryCodes, string(c))
	}
	return &e, nil
}

func byteCodes(codes []string) [][]byte {
	out := make([][]byte, len(codes))
	for i, c := range codes {
		out[i] = []byte(c)
	}
	return out
}

// missOrConflict tells, after a compare that matched nothing, whether
// there was no row (ErrNotFound) or the compare failed (ErrConflict).
func (s *Store) missOrConflict(ctx context.Context, op, userID string) error {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM `+s.q.totp+` WHERE user_id = $1`, []byte(userID)).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFound(op)
	case err != nil:
		return unavailable(op, err)
	}
	return conflict(op, "the enrolment is not the expected one")
}

// TOTP implements [store.TOTPStore].
func (s *Store) TOTP(ctx context.Context, userID string) (*store.TOTP, error) {
	const op = "totp"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.TOTP, error) {
		return scanTOTP(op, s.pool.QueryRow(ctx, `SELECT `+totpCols+` FROM `+s.q.totp+` WHERE user_id = $1`, []byte(userID)))
	})
}

// BeginTOTP implements [store.TOTPStore].
func (s *Store) BeginTOTP(ctx context.Context, in *store.TOTP) error {
	const op = "begin totp"
	if in == nil || in.UserID == "" || len(in.Secret) == 0 {
		return invalid(op, "empty user ID or secret")
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `INSERT INTO `+s.q.totp+` (`+totpCols+`) VALUES ($1, $2, false, '{}', $3, $3)
			ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed = false, recovery_codes = '{}',
			created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at WHERE NOT `+s.q.totp+`.confirmed`,
			[]byte(in.UserID), in.Secret, s.now())
		if err != nil {
			return unavailable(op, err)
		}
		if tag.RowsAffected() != 1 {
			return conflict(op, "already confirmed")
		}
		return nil
	})
}

// ConfirmTOTP implements [store.TOTPStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, secret []byte, codes []string) (*store.TOTP, error) {
	const op = "confirm totp"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.TOTP, error) {
		e, err := scanTOTP(op, s.pool.QueryRow(ctx, `UPDATE `+s.q.totp+` SET confirmed = true, recovery_codes = $3, updated_at = $4
			WHERE user_id = $1 AND NOT confirmed AND secret = $2 RETURNING `+totpCols,
			[]byte(userID), secret, byteCodes(codes), s.now()))
		if errors.Is(err, store.ErrNotFound) {
			return nil, s.missOrConflict(ctx, op, userID)
		}
		return e, err
	})
}

// DeleteTOTP implements [store.TOTPStore].
func (s *Store) DeleteTOTP(ctx context.Context, userID string, expected []byte) error {
	const op = "delete totp"
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		anySecret := expected == nil
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.q.totp+` WHERE user_id = $1 AND ($3 OR secret = $2)`,
			[]byte(userID), append([]byte{}, expected...), anySecret)
		if err != nil {
			return unavailable(op, err)
		}
		if tag.RowsAffected() != 1 {
			return s.missOrConflict(ctx, op, userID)
		}
		return nil
	})
}

// UseRecoveryCode implements [store.TOTPStore].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (*store.TOTP, error) {
	const op = "use recovery code"
	return bounded(s, ctx, op, func(ctx context.Context) (*store.TOTP, error) {
		return scanTOTP(op, s.pool.QueryRow(ctx, `UPDATE `+s.q.totp+` SET recovery_codes = array_remove(recovery_codes, $2::bytea), updated_at = $3
			WHERE user_id = $1 AND confirmed AND $2::bytea = ANY(recovery_codes) RETURNING `+totpCols,
			[]byte(userID), []byte(hash), s.now()))
	})
}
