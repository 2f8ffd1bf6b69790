-- gatekeep schema, version 4: second-factor (TOTP) enrolments.
-- user_id is bytea like the other keys, with no foreign key: DeleteUser
-- deletes the row in the same statement.

CREATE TABLE {schema}.totp (
	user_id        bytea PRIMARY KEY,
	secret         bytea NOT NULL,
	confirmed      boolean NOT NULL,
	recovery_codes bytea[] NOT NULL,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);
