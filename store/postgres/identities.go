package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/gatekeep/gatekeep/store"
)

var _ store.IdentityStore = (*Store)(nil)

const identityCols = `id, provider, issuer, subject, user_id, email, created_at`

func (s *Store) identities() string {
	return pgx.Identifier{s.cfg.schema}.Sanitize() + ".identities"
}

func scanIdentity(row pgx.Row) (*store.Identity, error) {
	var id store.Identity
	err := row.Scan(&id.ID, &id.Provider, &id.Issuer, &id.Subject, &id.UserID, &id.Email, &id.CreatedAt)
	return &id, err
}

// CreateIdentity implements [store.IdentityStore]. The unique constraint
// on (issuer, subject) decides concurrent creations.
func (s *Store) CreateIdentity(ctx context.Context, id *store.Identity) error {
	const op = "create identity"
	if id == nil || id.ID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return invalid(op, "empty ID, issuer, subject or user")
	}
	c := *id
	for _, v := range []string{c.ID, c.Provider, c.Issuer, c.Subject, c.UserID, c.Email} {
		if !textOK(v) || len(v) > maxKey {
			return invalid(op, "identity fields must be UTF-8 without NUL, at most 1024 bytes")
		}
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO `+s.identities()+` (`+identityCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.ID, c.Provider, c.Issuer, c.Subject, c.UserID, c.Email, s.now())
		switch con := uniqueViolation(err); {
		case con == "identities_pkey":
			return conflict(op, "identity ID taken")
		case con != "":
			return conflict(op, "subject already linked")
		case err != nil:
			return unavailable(op, err)
		}
		return nil
	})
}

// IdentityBySubject implements [store.IdentityStore].
func (s *Store) IdentityBySubject(ctx context.Context, issuer, subject string) (*store.Identity, error) {
	const op = "identity"
	if !textOK(issuer) || !textOK(subject) {
		return nil, notFound(op)
	}
	return bounded(s, ctx, op, func(ctx context.Context) (*store.Identity, error) {
		id, err := scanIdentity(s.pool.QueryRow(ctx, `SELECT `+identityCols+` FROM `+s.identities()+
			` WHERE issuer = $1 AND subject = $2`, issuer, subject))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil, notFound(op)
		case err != nil:
			return nil, unavailable(op, err)
		}
		return id, nil
	})
}

// UserIdentities implements [store.IdentityStore].
func (s *Store) UserIdentities(ctx context.Context, userID string) ([]*store.Identity, error) {
	const op = "user identities"
	if !textOK(userID) {
		return nil, nil
	}
	return bounded(s, ctx, op, func(ctx context.Context) ([]*store.Identity, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+identityCols+` FROM `+s.identities()+
			` WHERE user_id = $1 ORDER BY seq`, userID)
		if err != nil {
			return nil, unavailable(op, err)
		}
		defer rows.Close()
		var out []*store.Identity
		for rows.Next() {
			id, err := scanIdentity(rows)
			if err != nil {
				return nil, unavailable(op, err)
			}
			out = append(out, id)
		}
		if err := rows.Err(); err != nil {
			return nil, unavailable(op, err)
		}
		return out, nil
	})
}

// DeleteIdentity implements [store.IdentityStore].
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	const op = "delete identity"
	if !textOK(id) {
		return notFound(op)
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.identities()+` WHERE id = $1`, id)
		if err != nil {
			return unavailable(op, err)
		}
		if tag.RowsAffected() == 0 {
			return notFound(op)
		}
		return nil
	})
}

// errUnlink carries an unlink's refusal out of its transaction.
type errUnlink struct{ err error }

func (e errUnlink) Error() string { return e.err.Error() }

// UnlinkIdentity implements [store.IdentityStore]: one transaction locks
// the user's identity rows (FOR UPDATE) and user row (FOR SHARE) before it
// counts and deletes, so concurrent unlinks of one user run one after
// another and the later ones count what the earlier left.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, id string) error {
	const op = "unlink identity"
	if !textOK(userID) || !textOK(id) {
		return notFound(op)
	}
	return boundedErr(s, ctx, op, func(ctx context.Context) error {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM `+s.identities()+` WHERE user_id = $1 ORDER BY id FOR UPDATE`, userID)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if !slices.Contains(ids, id) {
				return errUnlink{notFound(op)}
			}
			var hash string
			err = tx.QueryRow(ctx, `SELECT password_hash FROM `+s.q.users+` WHERE id = $1 FOR SHARE`, userID).Scan(&hash)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if hash == "" && len(ids) < 2 {
				return errUnlink{conflict(op, "the user's last way to sign in")}
			}
			_, err = tx.Exec(ctx, `DELETE FROM `+s.identities()+` WHERE id = $1`, id)
			return err
		})
		var refused errUnlink
		if errors.As(err, &refused) {
			return refused.err
		}
		if err != nil {
			return unavailable(op, err)
		}
		return nil
	})
}
