package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/rbac"
	"github.com/gatekeep/gatekeep/store"
)

const usersUsage = `Usage: gatekeep users list|create|set-roles|delete|revoke-sessions ...

  users list [-json]                                    every user (never a password hash)
  users create -username NAME [-email E] [-roles a,b]   password from stdin or a prompt
  users set-roles USER ROLES                            replace the roles (comma-separated; "" clears)
  users delete USER                                     end the user's sessions and delete the account
  users revoke-sessions USER                            end every session and token of the user now

USER is a user id or a username. The store is the one AUTH_STORE selects
(bolt, redis or postgres, with BOLT_PATH, REDIS_URL or DATABASE_URL), opened
as the server opens it. Run "gatekeep users <subcommand> -h" for its flags.
`

const sessionsUsage = `Usage: gatekeep sessions list [-json] USER

  sessions list USER   the user's live sessions (logins), oldest first

USER is a user id or a username; the store is the one AUTH_STORE selects.
`

func (c *cli) users(args []string) error {
	return c.subcommand("users", args, map[string]func([]string) error{
		"list":            c.usersList,
		"create":          c.usersCreate,
		"set-roles":       c.usersSetRoles,
		"delete":          c.usersDelete,
		"revoke-sessions": c.usersRevoke,
	}, usersUsage)
}

func (c *cli) sessions(args []string) error {
	return c.subcommand("sessions", args, map[string]func([]string) error{
		"list": c.sessionsList,
	}, sessionsUsage)
}

// errMemoryStore: the tool would make an empty store of its own.
var errMemoryStore = errors.New("AUTH_STORE is memory (the default): that store lives inside each server process, and this tool would only open a new, empty one of its own; set AUTH_STORE=bolt, redis or postgres (and BOLT_PATH, REDIS_URL or DATABASE_URL) as the server has them")

// openStack loads the configuration and builds the stack as a server does,
// refusing the memory store. Build's start-up warnings are not repeated:
// "gatekeep config check" shows them.
func (c *cli) openStack() (*config.Stack, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Store == config.StoreMemory {
		return nil, errMemoryStore
	}
	opts := append([]config.BuildOption{config.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, c.buildOpts...)
	if c.now != nil {
		opts = append(opts, config.WithClock(c.now))
	}
	return config.Build(c.ctx, cfg, opts...)
}

// userJSON is a user as the tool shows it: never the password hash.
type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email,omitempty"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func showUser(u *store.User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, Roles: roles, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// findUser takes a user id, or else a username.
func findUser(c *cli, st store.UserStore, ref string) (*store.User, error) {
	u, err := st.User(c.ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.UserByUsername(c.ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user has the id or username %q", ref)
	}
	return u, err
}

// withUser parses fs (which takes one USER argument), opens the store and
// finds the user, then runs f.
func (c *cli) withUser(fs *flag.FlagSet, want int, f func(st *config.Stack, u *store.User) error) error {
	if fs.NArg() != want {
		return usagef("%s: want %d argument(s), got %d (-h for usage)", fs.Name(), want, fs.NArg())
	}
	st, err := c.openStack()
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := findUser(c, st.Store, fs.Arg(0))
	if err != nil {
		return err
	}
	return f(st, u)
}

func (c *cli) usersList(args []string) error {
	fs := c.flags("users list", "users list [-json]", "Lists every user: id, username, email, roles, creation time. Password hashes are never shown.")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	st, err := c.openStack()
	if err != nil {
		return err
	}
	defer st.Close()
	all := []userJSON{}
	cursor := ""
	for {
		page, next, err := st.Auth.ListUsers(c.ctx, cursor, auth.MaxUsersPageSize)
		if err != nil {
			return err
		}
		for _, u := range page {
			all = append(all, showUser(u))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if *asJSON {
		return c.writeJSON(all)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLES\tCREATED")
	for _, u := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, orDash(u.Email), orDash(strings.Join(u.Roles, ",")), u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// The limits POST /auth/register applies.
const (
	maxUsernameLen = 128 // bytes, canonical form
	maxEmailLen    = 254 // RFC 5321 path limit
)

func (c *cli) usersCreate(args []string) error {
	fs := c.flags("users create", "users create -username NAME [-email E] [-roles a,b] [-json]",
		`Creates a user with a password read like "gatekeep hash" reads it (a prompt
without echo, asked twice, or the first line of stdin; never an argument),
hashed with the hasher PASSWORD_HASH selects.`)
	username := fs.String("username", "", "the username (stored in its PRECIS canonical form); required")
	email := fs.String("email", "", "an email address")
	roles := fs.String("roles", "user", `comma-separated roles ("" for none); default "user", as POST /auth/register gives`)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	name, err := store.CanonicalUsername(*username)
	switch {
	case *username == "":
		return usagef("users create: -username is required")
	case err != nil || len(name) > maxUsernameLen:
		return usagef("users create: -username: not a username PRECIS UsernameCaseMapped allows (RFC 8265), of at most %d bytes", maxUsernameLen)
	}
	if *email != "" {
		if addr, err := mail.ParseAddress(*email); err != nil || addr.Address != *email || len(*email) > maxEmailLen {
			return usagef("users create: -email: not a plain email address of at most %d bytes", maxEmailLen)
		}
	}
	roleList := splitRoles(*roles)
	if err := checkRoles(roleList); err != nil {
		return usagef("users create: -roles: %v", err)
	}
	pw, err := c.readPassword(true)
	if err != nil {
		return err
	}
	if err := checkNewPassword(pw); err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	st, err := c.openStack()
	if err != nil {
		return err
	}
	defer st.Close()
	hash, err := st.Hasher.Hash(pw)
	if err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	u := &store.User{ID: store.NewID(), Username: name, Email: *email, PasswordHash: hash, Roles: roleList}
	switch err := st.Store.CreateUser(c.ctx, u); {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("users create: the username %q is taken", name)
	case err != nil:
		return fmt.Errorf("users create: %w", err)
	}
	if stored, err := st.Store.User(c.ctx, u.ID); err == nil {
		u = stored
	}
	if *asJSON {
		return c.writeJSON(showUser(u))
	}
	fmt.Fprintf(c.stdout, "created user %s (%s) with roles %s\n", u.ID, u.Username, orDash(strings.Join(u.Roles, ",")))
	return nil
}

func splitRoles(s string) []string {
	out := []string{}
	for r := range strings.SplitSeq(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// checkRoles applies the rule of Authenticator.SetRoles without a policy:
// valid role names, none twice.
func checkRoles(roles []string) error {
	if len(roles) > rbac.MaxRoles {
		return errors.New("too many roles")
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r] {
			return fmt.Errorf("role %q is listed twice", r)
		}
		seen[r] = true
		if _, err := rbac.NewPolicy(rbac.Role{Name: r}); err != nil {
			return fmt.Errorf("%q is not a valid role name", r)
		}
	}
	return nil
}

func (c *cli) usersSetRoles(args []string) error {
	fs := c.flags("users set-roles", "users set-roles [-json] USER ROLES",
		`Replaces the user's roles with ROLES (comma-separated; "" leaves none), as
PUT /admin/users/{id}/roles does: every session and token of the user ends,
so no token with the old roles is accepted again.`)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	roles := splitRoles(fs.Arg(1))
	if err := checkRoles(roles); err != nil {
		return usagef("users set-roles: %v", err)
	}
	return c.withUser(fs, 2, func(st *config.Stack, u *store.User) error {
		u, err := st.Auth.SetRoles(c.ctx, u.ID, roles)
		if err != nil {
			return fmt.Errorf("users set-roles: %w", err)
		}
		if *asJSON {
			return c.writeJSON(showUser(u))
		}
		fmt.Fprintf(c.stdout, "user %s (%s) now has roles %s; their sessions ended\n", u.ID, u.Username, orDash(strings.Join(u.Roles, ",")))
		return nil
	})
}

func (c *cli) usersDelete(args []string) error {
	fs := c.flags("users delete", "users delete USER", "Ends every session and token of the user, then deletes the account.")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return c.withUser(fs, 1, func(st *config.Stack, u *store.User) error {
		// Revoke first: a deleted user's tokens must not outlive the account.
		if err := st.Auth.RevokeUser(c.ctx, u.ID); err != nil {
			return fmt.Errorf("users delete: %w", err)
		}
		if err := st.Store.DeleteUser(c.ctx, u.ID); err != nil {
			return fmt.Errorf("users delete: %w", err)
		}
		fmt.Fprintf(c.stdout, "deleted user %s (%s)\n", u.ID, u.Username)
		return nil
	})
}

func (c *cli) usersRevoke(args []string) error {
	fs := c.flags("users revoke-sessions", "users revoke-sessions USER",
		"Ends every session and token of the user now (Authenticator.RevokeUser): access tokens stop working at once, refresh tokens cannot be used.")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return c.withUser(fs, 1, func(st *config.Stack, u *store.User) error {
		live, err := st.Store.UserSessions(c.ctx, u.ID)
		if err != nil {
			return fmt.Errorf("users revoke-sessions: %w", err)
		}
		if err := st.Auth.RevokeUser(c.ctx, u.ID); err != nil {
			return fmt.Errorf("users revoke-sessions: %w", err)
		}
		fmt.Fprintf(c.stdout, "revoked every token of user %s (%s); %d live session(s) ended\n", u.ID, u.Username, len(live))
		return nil
	})
}

type sessionJSON struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"created_at"`
	LastUsedAt    time.Time `json:"last_used_at"`
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	UserAgent     string    `json:"user_agent,omitempty"`
	IP            string    `json:"ip,omitempty"`
}

func (c *cli) sessionsList(args []string) error {
	fs := c.flags("sessions list", "sessions list [-json] USER",
		"Lists the user's live sessions, oldest first (never a refresh token or its hash).")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return c.withUser(fs, 1, func(st *config.Stack, u *store.User) error {
		list, err := st.Store.UserSessions(c.ctx, u.ID)
		if err != nil {
			return fmt.Errorf("sessions list: %w", err)
		}
		out := []sessionJSON{}
		for _, s := range list {
			out = append(out, sessionJSON{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(),
				IdleExpiresAt: s.IdleExpiresAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), UserAgent: s.UserAgent, IP: s.IP})
		}
		if *asJSON {
			return c.writeJSON(out)
		}
		now := c.clock()
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tCREATED\tLAST USED\tENDS\tIP\tUSER AGENT")
		for _, s := range out {
			ends := s.IdleExpiresAt
			if s.ExpiresAt.Before(ends) {
				ends = s.ExpiresAt
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%q\n", s.ID, s.CreatedAt.Format(time.RFC3339), orDash(lastUsed(s.LastUsedAt)),
				relative(ends.Sub(now), "in %s", "%s ago"), orDash(s.IP), s.UserAgent)
		}
		return tw.Flush()
	})
}

func lastUsed(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
