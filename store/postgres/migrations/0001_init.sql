-- gatekeep schema, version 1. {schema} is the quoted schema name.
-- users keeps text columns, so an application's tables can reference
-- users(id); every other key is bytea, since the contracts allow any
-- bytes (NUL included) in ids, keys and headers.

CREATE TABLE {schema}.users (
	id            text COLLATE "C" PRIMARY KEY,
	username      text COLLATE "C" NOT NULL,
	email         text NOT NULL,
	password_hash text NOT NULL,
	roles         text[] NOT NULL,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE {schema}.sessions (
	id                  bytea PRIMARY KEY,
	user_id             bytea NOT NULL,
	created_at          timestamptz NOT NULL,
	last_used_at        timestamptz NOT NULL,
	idle_expires_at     timestamptz NOT NULL,
	expires_at          timestamptz NOT NULL,
	user_agent          bytea NOT NULL,
	ip                  bytea NOT NULL,
	refresh_id          bytea NOT NULL,
	previous_refresh_id bytea NOT NULL,
	rotated_at          timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON {schema}.sessions (user_id, created_at);
CREATE INDEX sessions_idle_expires_at ON {schema}.sessions (idle_expires_at);

CREATE TABLE {schema}.revocations (
	id         bytea PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expires_at ON {schema}.revocations (expires_at);

CREATE TABLE {schema}.user_marks (
	user_id     bytea PRIMARY KEY,
	valid_after timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL
);
CREATE INDEX user_marks_expires_at ON {schema}.user_marks (expires_at);

CREATE TABLE {schema}.used_once (
	id         bytea PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX used_once_expires_at ON {schema}.used_once (expires_at);

CREATE TABLE {schema}.counters (
	key        bytea PRIMARY KEY,
	n          bigint NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX counters_expires_at ON {schema}.counters (expires_at);
