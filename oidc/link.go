package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

// maxUsernameBase bounds the part of a derived username before a suffix.
const maxUsernameBase = 32

// link returns the user id that id signs in as: the linked user, or a new
// user (role "user", no password) linked now. Linking is by (issuer,
// subject); only with [WithLinkByVerifiedEmail] does a verified email join
// the one existing user with that email, and an unverified one never.
func (s *Service) link(ctx context.Context, providerName string, id *ExternalIdentity) (string, error) {
	got, err := s.ids.IdentityBySubject(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		_, uerr := s.st.User(ctx, got.UserID)
		switch {
		case uerr == nil:
			return got.UserID, nil
		case !errors.Is(uerr, store.ErrNotFound):
			return "", fmt.Errorf("%w: reading the user: %w", auth.ErrUnavailable, uerr)
		}
		// The linked user was deleted: the link is stale. Remove it; the
		// external account signs up again as a new user.
		if err := s.ids.DeleteIdentity(ctx, got.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w: removing a stale identity: %w", auth.ErrUnavailable, err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("%w: reading the identity: %w", auth.ErrUnavailable, err)
	}
	email := ""
	if id.EmailVerified {
		email = id.Email
	}
	if s.cfg.linkByEmail && email != "" {
		owner, err := s.userByEmail(ctx, email)
		if err != nil {
			return "", err
		}
		if owner != "" {
			if err := s.linkTo(ctx, providerName, id, owner); err != nil {
				return "", err
			}
			return owner, nil
		}
	}
	u, err := s.createUser(ctx, deriveUsername(id), email)
	if err != nil {
		return "", err
	}
	err = s.ids.CreateIdentity(ctx, &store.Identity{
		ID: store.NewID(), Provider: providerName, Issuer: id.Issuer, Subject: id.Subject,
		UserID: u.ID, Email: email,
	})
	if err == nil {
		s.cfg.log.LogAttrs(ctx, slog.LevelInfo, "oidc.user_created",
			slog.String("user_id", u.ID), slog.String("provider", providerName))
		return u.ID, nil
	}
	// The user is of no use without its link: remove it (best effort).
	_ = s.st.DeleteUser(context.WithoutCancel(ctx), u.ID)
	if errors.Is(err, store.ErrConflict) {
		// A concurrent first sign-in of the same account linked first.
		if got, err := s.ids.IdentityBySubject(ctx, id.Issuer, id.Subject); err == nil {
			return got.UserID, nil
		}
	}
	return "", fmt.Errorf("%w: linking the identity: %w", auth.ErrUnavailable, err)
}

// userByEmail returns the id of the one user whose email is exactly
// email, or "" when none or more than one has it (an ambiguous email joins
// no account).
func (s *Service) userByEmail(ctx context.Context, email string) (string, error) {
	found, cursor := "", ""
	for {
		page, next, err := s.st.ListUsers(ctx, cursor, 1000)
		if err != nil {
			return "", fmt.Errorf("%w: listing users: %w", auth.ErrUnavailable, err)
		}
		for _, u := range page {
			if u.Email != email {
				continue
			}
			if found != "" {
				return "", nil
			}
			found = u.ID
		}
		if next == "" || len(page) == 0 {
			return found, nil
		}
		cursor = next
	}
}

// createUser creates a user named base, or base-2, base-3, ... when taken.
func (s *Service) createUser(ctx context.Context, base, email string) (*store.User, error) {
	name := base
	for i := 2; i < 12; i++ {
		u := &store.User{ID: store.NewID(), Username: name, Email: email, Roles: []string{"user"}}
		err := s.st.CreateUser(ctx, u)
		switch {
		case err == nil:
			return u, nil
		case !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrInvalid):
			return nil, fmt.Errorf("%w: creating the user: %w", auth.ErrUnavailable, err)
		case errors.Is(err, store.ErrInvalid):
			base = "user"
		}
		if i < 6 {
			name = base + "-" + strconv.Itoa(i)
		} else {
			// Many taken: a random suffix ends the search quickly.
			name = base + "-" + strings.ToLower(store.NewID()[:8])
		}
	}
	return nil, fmt.Errorf("%w: no free username for %q", auth.ErrUnavailable, base)
}

// deriveUsername makes a username from the provider's preferred username
// or the email's local part: lower-case letters, digits, '.', '_' and
// '-' only, at most 32 bytes; "user" when nothing usable remains.
func deriveUsername(id *ExternalIdentity) string {
	src := id.PreferredUsername
	if src == "" {
		src, _, _ = strings.Cut(id.Email, "@")
	}
	var b strings.Builder
	for _, r := range strings.ToLower(src) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case r == '.' || r == '_' || r == '-':
			if b.Len() > 0 {
				b.WriteRune(r)
			}
		}
		if b.Len() >= maxUsernameBase {
			break
		}
	}
	name := strings.TrimRight(b.String(), ".-_")
	if len(name) < 2 {
		return "user"
	}
	return name
}
