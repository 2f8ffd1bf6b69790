// Package config builds a whole gatekeep stack (keys, Signer and Verifier,
// store, password hasher, Authenticator) from environment variables or a
// Go struct, so that moving from the memory store to Redis is a change of
// one variable (REDIS_URL, or AUTH_STORE=redis), no code: with AUTH_STORE
// unset, REDIS_URL alone selects redis, BOLT_PATH alone bolt and
// DATABASE_URL alone postgres, and two of them are an error naming both.
//
// It lives apart from package auth so that programs using auth with
// net/http alone do not import Redis or bbolt.
//
// The variables are those of the configuration table of gatekeep's HTTP
// API; [Config] has one field per variable, documented with its default.
// [FromEnv] reads the process environment and a .env file in the working
// directory ([ParseDotEnv]; the process environment wins); [FromLookup]
// reads any lookup function, for tests. A bad value is one line naming
// the variable and what was expected, a [*VarError] matching [ErrInvalid]:
//
//	config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"
//
// What reading the variables has to say beside errors — JWT_SECRET_KEY
// read as JWT_SECRET, the store a store variable selected, a variable that
// looks like a misspelt one of gatekeep's (JWT_SECERT: did you mean
// JWT_SECRET?) — is in [Config.Notes], and [Build] logs it. In .env, lines
// of variables gatekeep does not read are skipped whatever they hold;
// its own lines follow [ParseDotEnv]'s strict rules.
//
// The values of JWT_SECRET, JWT_PREVIOUS_SECRETS, JWT_KEY_ENCRYPTION_KEY,
// ADMIN_PASSWORD, REDIS_URL and DATABASE_URL (which may hold a password)
// are never part of an error or a log line; they are of type [Secret],
// which prints as "[REDACTED]".
//
// JWT_EXPIRY is what Node's jsonwebtoken takes as expiresIn: seconds
// (900), or a span in the grammar of the npm package ms ("90s", "15m",
// "1h", "1d", "2 days"); ACCESS_TTL (a Go duration) wins when both are
// set. JWT_SECRET_KEY, the name some express guides use, is read as
// JWT_SECRET when that is unset. An unset JWT_SECRET (or, for
// RS256, PS256, ES256 and EdDSA, JWT_PRIVATE_KEY_FILE) means a key
// generated per start, with a warning: fine for development, wrong for
// anything that restarts or runs twice.
//
// JWT_ROTATE_EVERY turns on automatic key rotation ([KeyRotation]): the
// keys live in the store, sealed with JWT_KEY_ENCRYPTION_KEY, and a
// token/rotation Rotator ([Stack.Rotator]) keeps [Stack.Keys] in step on
// every instance. JWT_PREVIOUS_SECRETS and JWT_PREVIOUS_KEY_FILES add keys
// that verify but never sign, for rotating by hand.
//
// # Usage
//
//	cfg, err := config.FromEnv()
//	if err != nil {
//		log.Fatal(err) // one line naming the variable
//	}
//	st, err := config.Build(ctx, cfg)
//	if err != nil {
//		log.Fatal(err) // an unreachable Redis names REDIS_URL
//	}
//	defer st.Close()
//
//	mux := http.NewServeMux()
//	st.Auth.Mount(mux)
//	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(st.Keys))
//	mux.Handle("GET /admin/", st.Auth.Authorize("admin")(admin))
//	log.Fatal(http.ListenAndServe(st.Addr, mux))
//
// The same stack from Go, without the environment:
//
//	cfg := config.Default()
//	cfg.JWTSecret = config.Secret(secret)
//	cfg.Store, cfg.RedisURL = config.StoreRedis, "redis://10.0.0.5:6379/0"
//	st, err := config.Build(ctx, cfg, config.WithLogger(logger))
//
// Password-reset messages go to a development mailer (one file per message
// in MAIL_DIR, or stdout), linking to RESET_URL; an application replaces it
// with its own auth.Notifier through [WithAuthOptions]. COOKIE_MODE turns on
// cookie mode with cross-origin protection.
// ADMIN_USERNAME and ADMIN_PASSWORD create an administrator at start
// ([BootstrapAdmin]).
package config
