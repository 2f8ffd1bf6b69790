package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/store"
)

// SessionInfo is the JSON form of one session (one login) in
// GET /auth/sessions.
type SessionInfo struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	// Current is true for the session of the access token that asked.
	Current bool `json:"current"`
}

// SessionList is the body of GET /auth/sessions.
type SessionList struct {
	Sessions []SessionInfo `json:"sessions"`
}

// ListSessions returns p's user's live sessions, oldest first, the one of
// p's token marked current. Sessions end by themselves at their idle
// timeout ([WithRefreshTTL]) or absolute lifetime ([WithSessionMaxAge]):
// the store expires them, and they are no longer listed. This is GET
// /auth/sessions without HTTP.
func (a *Authenticator) ListSessions(ctx context.Context, p *Principal) (*SessionList, error) {
	if p == nil {
		return nil, ErrNoToken
	}
	ss, err := a.st.UserSessions(ctx, p.UserID)
	if err != nil {
		return nil, storeErr("listing sessions", err)
	}
	out := &SessionList{Sessions: make([]SessionInfo, 0, len(ss))}
	for _, s := range ss {
		out.Sessions = append(out.Sessions, SessionInfo{
			ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(),
			UserAgent: s.UserAgent, IP: s.IP, Current: s.ID == p.SessionID,
		})
	}
	return out, nil
}

// EndSession ends the session sessionID of user userID: the session is
// revoked (every token issued under it stops working now) and deleted. It
// returns an error wrapping ErrNotFound when userID has no live session of
// that id, whoever else may own it.
func (a *Authenticator) EndSession(ctx context.Context, userID, sessionID string) error {
	if sessionID == "" || userID == "" {
		return describe(ErrNotFound, "no such session")
	}
	s, err := a.st.Session(ctx, sessionID)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && s.UserID != userID:
		return describe(ErrNotFound, "no such session")
	case err != nil:
		return storeErr("loading the session", err)
	}
	if err := a.endSession(ctx, sessionID, a.cfg.now()); err != nil {
		return err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "auth.session_ended",
		slog.String("user_id", userID), slog.String("session_id", sessionID))
	return nil
}

// endSession revokes a session id (so every token whose sid it is stops
// working) for as long as any of them can live, and deletes the session.
func (a *Authenticator) endSession(ctx context.Context, sessionID string, now time.Time) error {
	// Any token of the session, signed now or by a refresh in flight,
	// expires within the refresh TTL.
	if err := a.st.Revoke(ctx, sessionID, now.Add(a.cfg.refreshTTL+a.cfg.leeway)); err != nil {
		return storeErr("revoking the session", err)
	}
	if err := a.st.DeleteSession(ctx, sessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeErr("deleting the session", err)
	}
	return nil
}

// pathID returns the path value "id" of r, or else the path segment that
// is skip segments before the last one (for routers that do not set path
// values). Empty when there is none.
func pathID(r *http.Request, skip int) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	segs := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
	i := len(segs) - 1 - skip
	if i < 1 {
		return ""
	}
	return segs[i]
}
