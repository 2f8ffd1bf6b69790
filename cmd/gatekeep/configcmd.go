package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
)

const configUsage = `Usage: gatekeep config check [-json]

  config check   load the configuration as a server does, print it (secrets redacted)
`

func (c *cli) config(args []string) error {
	return c.subcommand("config", args, map[string]func([]string) error{
		"check": c.configCheck,
	}, configUsage)
}

// setting is one effective configuration value.
type setting struct {
	Var    string `json:"var"`
	Value  string `json:"value"`
	Source string `json:"source"` // env, .env, default (or the variable it came from)
}

type checkResult struct {
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	Settings   []setting `json:"settings,omitempty"`
	SigningKey string    `json:"signing_key,omitempty"`
	Warnings   []string  `json:"warnings"`
}

// redactedList shows how many secrets a list holds, never one of them.
func redactedList(n int) string {
	if n == 0 {
		return ""
	}
	return strings.TrimSuffix(strings.Repeat("[REDACTED],", n), ",")
}

// settings lists every field of cfg by its variable; secrets print as
// config.Secret does, "[REDACTED]". A test keeps it in step with Config.
func settings(cfg config.Config) []setting {
	d := func(v time.Duration) string { return v.String() }
	proxies := make([]string, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		proxies[i] = p.String()
	}
	resetURL := cfg.ResetURL
	if resetURL == "" {
		resetURL = "(derived from ADDR: http://<ADDR>/reset-password)"
	}
	return []setting{
		{Var: "ADDR", Value: cfg.Addr},
		{Var: "JWT_SECRET", Value: cfg.JWTSecret.String()},
		{Var: "JWT_ALG", Value: string(cfg.JWTAlg)},
		{Var: "JWT_PRIVATE_KEY_FILE", Value: cfg.JWTPrivateKeyFile},
		{Var: "JWT_ROTATE_EVERY", Value: d(cfg.JWTRotateEvery)},
		{Var: "JWT_KEY_PREPUBLISH", Value: d(cfg.JWTKeyPrepublish)},
		{Var: "JWT_KEY_ENCRYPTION_KEY", Value: cfg.JWTKeyEncryptionKey.String()},
		{Var: "JWT_PREVIOUS_SECRETS", Value: redactedList(len(cfg.JWTPreviousSecrets))},
		{Var: "JWT_PREVIOUS_KEY_FILES", Value: strings.Join(cfg.JWTPreviousKeyFiles, ",")},
		{Var: "ACCESS_TTL", Value: d(cfg.AccessTTL)},
		{Var: "REFRESH_TTL", Value: d(cfg.RefreshTTL)},
		{Var: "SESSION_MAX_AGE", Value: d(cfg.SessionMaxAge)},
		{Var: "JWT_LEEWAY", Value: d(cfg.Leeway)},
		{Var: "REFRESH_REUSE_GRACE", Value: d(cfg.RefreshReuseGrace)},
		{Var: "JWT_ISSUER", Value: cfg.Issuer},
		{Var: "JWT_AUDIENCE", Value: cfg.Audience},
		{Var: "AUTH_STORE", Value: string(cfg.Store)},
		{Var: "BOLT_PATH", Value: cfg.BoltPath},
		{Var: "REDIS_URL", Value: cfg.RedisURL.String()},
		{Var: "REDIS_PREFIX", Value: cfg.RedisPrefix},
		{Var: "DATABASE_URL", Value: cfg.DatabaseURL.String()},
		{Var: "POSTGRES_SCHEMA", Value: cfg.PostgresSchema},
		{Var: "REVOCATION_MAX_LAG", Value: d(cfg.RevocationMaxLag)},
		{Var: "LOGIN_MAX_FAILURES", Value: strconv.Itoa(cfg.LoginMaxFailures)},
		{Var: "LOGIN_WINDOW", Value: d(cfg.LoginWindow)},
		{Var: "MAX_SESSIONS_PER_USER", Value: strconv.Itoa(cfg.MaxSessionsPerUser)},
		{Var: "PASSWORD_HASH_CONCURRENCY", Value: strconv.Itoa(cmp.Or(cfg.PasswordHashConcurrency, auth.DefaultHashConcurrency()))},
		{Var: "FORGOT_MAX_PER_IP", Value: strconv.Itoa(cfg.ForgotMaxPerIP)},
		{Var: "FORGOT_MAX_TOTAL", Value: strconv.Itoa(cfg.ForgotMaxTotal)},
		{Var: "FORGOT_WINDOW", Value: d(cfg.ForgotWindow)},
		{Var: "REGISTER_MAX_PER_IP", Value: strconv.Itoa(cfg.RegisterMaxPerIP)},
		{Var: "REGISTER_MAX_TOTAL", Value: strconv.Itoa(cfg.RegisterMaxTotal)},
		{Var: "REGISTER_WINDOW", Value: d(cfg.RegisterWindow)},
		{Var: "TRUSTED_PROXIES", Value: strings.Join(proxies, ",")},
		{Var: "PASSWORD_HASH", Value: string(cfg.PasswordHash)},
		{Var: "ADMIN_USERNAME", Value: cfg.AdminUsername},
		{Var: "ADMIN_PASSWORD", Value: cfg.AdminPassword.String()},
		{Var: "MAIL_DIR", Value: cfg.MailDir},
		{Var: "RESET_URL", Value: resetURL},
		{Var: "COOKIE_MODE", Value: strconv.FormatBool(cfg.CookieMode)},
		{Var: "COOKIE_INSECURE", Value: strconv.FormatBool(cfg.CookieInsecure)},
		{Var: "JWT_ACCEPT_LEGACY", Value: strconv.FormatBool(cfg.AcceptLegacy)},
		{Var: "JWKS_URL", Value: cfg.JWKSURL},
		{Var: "OIDC_PROVIDERS", Value: oidcSummary(cfg.OIDCProviders)},
		{Var: "OIDC_SUCCESS_URL", Value: cfg.OIDCSuccessURL},
		{Var: "OIDC_LINK_BY_VERIFIED_EMAIL", Value: strconv.FormatBool(cfg.OIDCLinkByVerifiedEmail)},
		{Var: "OIDC_ERROR_URL", Value: cfg.OIDCErrorURL},
		{Var: "TOTP_ISSUER", Value: cfg.TOTPIssuer},
	}
}

// oidcSummary lists the providers by name with their issuer (GitHub's
// OAuth 2.0 for github without one); client secrets are never shown.
func oidcSummary(ps []config.OIDCProvider) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		iss := p.Issuer
		if iss == "" {
			iss = "GitHub OAuth 2.0"
		}
		parts[i] = p.Name + " (" + iss + ")"
	}
	return strings.Join(parts, ", ")
}

func (c *cli) configCheck(args []string) error {
	fs := c.flags("config check", "config check [-json]",
		`Loads the configuration exactly as a server does (the environment, then .env
in the working directory) and builds the stack it describes with
config.Build: the key is loaded, the store opened (a Redis or PostgreSQL must
answer; a bolt file is created if missing and must not be locked by a running
server; PostgreSQL is migrated), MAIL_DIR created and ADMIN_USERNAME
bootstrapped, as at a server start; then it is closed again.

It prints every effective value with its source (secrets as [REDACTED]) and
the start-up warnings. On the first error it prints the server's one-line
message and exits with status 1.`)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	res := checkResult{Warnings: []string{}}
	fail := func(err error) error {
		if !*asJSON {
			return err
		}
		res.Error = oneLine(err.Error())
		if werr := c.writeJSON(res); werr != nil {
			return werr
		}
		return errReported
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return fail(err)
	}
	res.Settings = settings(cfg)
	c.sources(res.Settings)

	logs := &collector{}
	opts := append([]config.BuildOption{config.WithLogger(slog.New(logs))}, c.buildOpts...)
	st, err := config.Build(c.ctx, cfg, opts...)
	res.Warnings = append(res.Warnings, logs.lines()...)
	if err != nil {
		return fail(err)
	}
	if k := st.Keys.Active(); k != nil {
		res.SigningKey = fmt.Sprintf("%s, kid %s", k.Algorithm(), k.KID())
	}
	if err := st.Close(); err != nil {
		return fail(fmt.Errorf("config check: closing the store: %w", err))
	}
	res.OK = true
	if *asJSON {
		return c.writeJSON(res)
	}
	fmt.Fprintf(c.stdout, "configuration OK: AUTH_STORE=%s opened, %d warning(s)\n", cfg.Store, len(res.Warnings))
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, s := range res.Settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Var, orDash(s.Value), s.Source)
	}
	fmt.Fprintf(tw, "signing key\t%s\t\n", res.SigningKey)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(c.stdout, "warning:", w)
	}
	return nil
}

// sources fills in where each value came from, as FromEnv looks: a
// non-empty environment variable, else .env, else the default.
func (c *cli) sources(list []setting) {
	dotEnv := c.dotEnv
	if dotEnv == "" {
		dotEnv = config.DotEnvFile
	}
	file, _ := config.ReadDotEnv(dotEnv) // loadConfig read it without error
	from := func(name string) string {
		if c.env(name) != "" {
			return "env"
		}
		if file[name] != "" {
			return ".env"
		}
		return ""
	}
	for i := range list {
		s := from(list[i].Var)
		// Variables read in another's place.
		var alt []string
		switch list[i].Var {
		case "ACCESS_TTL":
			alt = []string{"JWT_EXPIRY"}
		case "JWT_SECRET":
			alt = []string{"JWT_SECRET_KEY"}
		case "AUTH_STORE": // unset, a store's variable selects it
			if list[i].Value != string(config.StoreMemory) {
				alt = []string{"REDIS_URL", "BOLT_PATH", "DATABASE_URL"}
			}
		}
		for _, a := range alt {
			if s == "" {
				if s = from(a); s != "" {
					s += " " + a
				}
			}
		}
		if s == "" {
			s = "default"
		}
		list[i].Source = s
	}
}

// collector is a slog.Handler keeping Build's warnings (and its notes,
// such as the admin user created) as lines. Build never logs a secret.
type collector struct {
	mu    sync.Mutex
	out   []string
	attrs []slog.Attr
}

func (h *collector) Enabled(context.Context, slog.Level) bool { return true }

func (h *collector) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Resolve().String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	line := b.String()
	if r.Level < slog.LevelWarn {
		line = "(note) " + line
	}
	h.mu.Lock()
	h.out = append(h.out, line)
	h.mu.Unlock()
	return nil
}

func (h *collector) WithAttrs(as []slog.Attr) slog.Handler {
	// The same sink: lines from derived loggers land in one list.
	return &derived{collector: h, attrs: as}
}

func (h *collector) WithGroup(string) slog.Handler { return h }

func (h *collector) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.out...)
}

// derived is a collector with attributes, sharing its parent's lines.
type derived struct {
	*collector
	attrs []slog.Attr
}

func (d *derived) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(d.attrs...)
	return d.collector.Handle(ctx, r)
}

func (d *derived) WithAttrs(as []slog.Attr) slog.Handler {
	return &derived{collector: d.collector, attrs: append(append([]slog.Attr(nil), d.attrs...), as...)}
}
