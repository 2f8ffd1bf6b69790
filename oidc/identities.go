package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

// IdentityView is an identity link as GET /auth/identities lists it.
type IdentityView struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider"`
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// LinkStart is the body of POST /auth/oidc/{provider}/link's answer.
type LinkStart struct {
	// AuthorizationURL is the provider's page to send the browser to; the
	// flow ends at the callback, which links instead of signing in.
	AuthorizationURL string `json:"authorization_url"`
}

// LinkHandler returns the handler of POST /auth/oidc/{provider}/link:
// with a valid access token, it starts the flow of StartHandler bound to
// the caller (a signed [auth.LinkTicket] in the state cookie) and answers
// 200 {"authorization_url"} for the client to navigate to (a POST from a
// script cannot follow a redirect to another site). Its callback links
// the provider's (issuer, subject) to the caller and redirects to the
// success URL with "#linked=<provider>"; 409 identity_linked when that
// identity is linked to another user. 401 without a valid token, 404 for
// an unknown provider, 503 when the provider cannot be discovered.
func (s *Service) LinkHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodPost) {
			return
		}
		pr, err := s.a.Authenticate(r)
		if err != nil {
			s.a.Fail(w, r, err)
			return
		}
		p, err := s.providerOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ticket, err := s.a.IssueLinkTicket(r.Context(), pr.UserID, s.cfg.stateTTL)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		to, err := s.begin(w, p, ticket)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, LinkStart{AuthorizationURL: to})
	})
}

// IdentitiesHandler returns the handler of GET /auth/identities: with a
// valid access token, 200 {"identities":[...]} listing the caller's
// identity links ([IdentityView]), oldest first; 401 without a token.
func (s *Service) IdentitiesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodGet) {
			return
		}
		pr, err := s.a.Authenticate(r)
		if err != nil {
			s.a.Fail(w, r, err)
			return
		}
		list, err := s.ids.UserIdentities(r.Context(), pr.UserID)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: listing identities: %w", auth.ErrUnavailable, err))
			return
		}
		out := make([]IdentityView, 0, len(list))
		for _, id := range list {
			out = append(out, IdentityView{ID: id.ID, Provider: id.Provider, Issuer: id.Issuer,
				Subject: id.Subject, Email: id.Email, CreatedAt: id.CreatedAt.UTC()})
		}
		writeJSON(w, http.StatusOK, struct {
			Identities []IdentityView `json:"identities"`
		}{out})
	})
}

// DeleteIdentityHandler returns the handler of DELETE
// /auth/identities/{id}: with a valid access token, 204 once the caller's
// identity link is gone (its external account no longer signs in as the
// caller). 409 last_sign_in when it is the caller's last way to sign in
// (no password and no other link: set a password first, by reset); 404
// not_found when the caller has no link of that id (another user's answers
// as a missing one); 401 without a token. The check and the removal are
// one compare-and-swap in the store ([store.IdentityStore.UnlinkIdentity]).
//
// The id is read from the request's path value "id" (ServeMux, chi), or
// else from the last segment of the path (gin and other routers).
func (s *Service) DeleteIdentityHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.method(w, r, http.MethodDelete) {
			return
		}
		pr, err := s.a.Authenticate(r)
		if err != nil {
			s.a.Fail(w, r, err)
			return
		}
		id := r.PathValue("id")
		if id == "" {
			id = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		}
		err = s.ids.UnlinkIdentity(r.Context(), pr.UserID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			err = ErrNoIdentity
		case errors.Is(err, store.ErrConflict):
			err = ErrLastSignIn
		case err != nil:
			err = fmt.Errorf("%w: removing the identity: %w", auth.ErrUnavailable, err)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.cfg.log.LogAttrs(r.Context(), slog.LevelInfo, "oidc.identity_unlinked", slog.String("user_id", pr.UserID))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// linkTo links id to user userID, who started the flow signed in: done
// already when the pair is linked to this user; ErrIdentityTaken when it
// is linked to another (existing) user, whose sign-in it stays.
func (s *Service) linkTo(ctx context.Context, providerName string, id *ExternalIdentity, userID string) error {
	if _, err := s.st.User(ctx, userID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: the user no longer exists", auth.ErrInvalidToken)
		}
		return fmt.Errorf("%w: reading the user: %w", auth.ErrUnavailable, err)
	}
	email := ""
	if id.EmailVerified {
		email = id.Email
	}
	for range 2 {
		got, err := s.ids.IdentityBySubject(ctx, id.Issuer, id.Subject)
		switch {
		case err == nil && got.UserID == userID:
			return nil
		case err == nil:
			_, uerr := s.st.User(ctx, got.UserID)
			switch {
			case uerr == nil:
				// An attack: linking takes no account from its owner.
				return ErrIdentityTaken
			case !errors.Is(uerr, store.ErrNotFound):
				return fmt.Errorf("%w: reading the user: %w", auth.ErrUnavailable, uerr)
			}
			// A stale link of a deleted user: free the pair.
			if err := s.ids.DeleteIdentity(ctx, got.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: removing a stale identity: %w", auth.ErrUnavailable, err)
			}
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("%w: reading the identity: %w", auth.ErrUnavailable, err)
		}
		err = s.ids.CreateIdentity(ctx, &store.Identity{
			ID: store.NewID(), Provider: providerName, Issuer: id.Issuer, Subject: id.Subject,
			UserID: userID, Email: email,
		})
		switch {
		case err == nil:
			s.cfg.log.LogAttrs(ctx, slog.LevelInfo, "oidc.identity_linked",
				slog.String("user_id", userID), slog.String("provider", providerName))
			return nil
		case !errors.Is(err, store.ErrConflict):
			return fmt.Errorf("%w: linking the identity: %w", auth.ErrUnavailable, err)
		}
		// A concurrent link of the pair won: look again at whose it is.
	}
	return fmt.Errorf("%w: the identity changed while it was linked; retry", auth.ErrUnavailable)
}

// writeJSON writes v with status, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
