package config

import (
	"log/slog"
	"time"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store/postgres"
	"github.com/gatekeep/gatekeep/store/redis"
)

// BuildOption adjusts [Build] beyond what [Config] says.
type BuildOption func(*buildConfig)

type buildConfig struct {
	logger    *slog.Logger
	now       func() time.Time
	redisOpts []redis.Option
	pgOpts    []postgres.Option
	authOpts  []auth.Option
}

// WithLogger sets the logger for start-up warnings (a random JWT secret, a
// generated key) and the admin bootstrap, and for the Authenticator's audit
// events. Default slog.Default(), which writes to stderr. No secret or
// password is ever an attribute.
func WithLogger(l *slog.Logger) BuildOption { return func(c *buildConfig) { c.logger = l } }

// WithClock sets the time source of the Signer, Verifier, Authenticator and
// store. Default time.Now; tests inject a fake clock. With Redis the clock
// must stay close to the server's, which expires keys by its own.
func WithClock(now func() time.Time) BuildOption { return func(c *buildConfig) { c.now = now } }

// WithRedisOptions adds options for store/redis when AUTH_STORE is redis,
// after Build's own: a key prefix (redis.WithPrefix) to share one Redis
// between deployments or test runs, a timeout for a distant Redis.
// Ignored for other stores.
func WithRedisOptions(opts ...redis.Option) BuildOption {
	return func(c *buildConfig) { c.redisOpts = append(c.redisOpts, opts...) }
}

// WithPostgresOptions adds options for store/postgres when AUTH_STORE is
// postgres, after Build's own (the schema of POSTGRES_SCHEMA): a timeout
// for a distant database, postgres.WithoutAutoMigrate when migrations are
// a deployment step. Ignored for other stores.
func WithPostgresOptions(opts ...postgres.Option) BuildOption {
	return func(c *buildConfig) { c.pgOpts = append(c.pgOpts, opts...) }
}

// WithAuthOptions adds options for auth.New after those Build derives from
// the Config, so they win: an error handler, an rbac policy, or a
// Notifier of the application's own in place of the development mailer.
func WithAuthOptions(opts ...auth.Option) BuildOption {
	return func(c *buildConfig) { c.authOpts = append(c.authOpts, opts...) }
}

// newBuildConfig applies opts over the defaults (slog.Default() as the
// logger, also when an option set a nil one).
func newBuildConfig(opts []BuildOption) buildConfig {
	bc := buildConfig{logger: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o(&bc)
		}
	}
	if bc.logger == nil {
		bc.logger = slog.Default()
	}
	return bc
}
