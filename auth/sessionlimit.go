package auth

import (
	"context"
	"log/slog"
)

// DefaultMaxSessionsPerUser is how many live sessions (logins) one user may
// have by default; see [WithMaxSessionsPerUser].
const DefaultMaxSessionsPerUser = 100

// WithMaxSessionsPerUser bounds a user's live sessions: when a new login
// (Login, Register, IssueTokens) would make more than n, the oldest end
// (revoked, so their tokens stop working, and deleted), each with an
// auth.session_evicted audit event. Default 100, at least 1. It bounds
// what a script that logs in in a loop can store; lower it to keep users
// to a few devices.
func WithMaxSessionsPerUser(n int) Option { return option(func(c *config) { c.maxSessions = n }) }

// limitSessions ends the oldest sessions of userID beyond the limit,
// never keep (the session just created). Concurrent logins may each end
// some; the count never stays above the limit once they are done.
func (a *Authenticator) limitSessions(ctx context.Context, userID, keep string) error {
	ss, err := a.st.UserSessions(ctx, userID)
	if err != nil {
		return storeErr("listing sessions", err)
	}
	excess := len(ss) - a.cfg.maxSessions
	now := a.cfg.now()
	for _, s := range ss { // oldest first
		if excess <= 0 {
			break
		}
		if s.ID == keep {
			continue
		}
		if err := a.endSession(ctx, s.ID, now); err != nil {
			return err
		}
		excess--
		a.log.LogAttrs(ctx, slog.LevelInfo, "auth.session_evicted",
			slog.String("user_id", userID), slog.String("session_id", s.ID),
			slog.Int("max_sessions", a.cfg.maxSessions))
	}
	return nil
}
