-- gatekeep schema, version 3: the optional store.IdentityStore. An external
-- account, the pair (issuer, subject), links to one user; the unique
-- constraint decides concurrent first sign-ins. seq orders a user's links
-- by creation. No foreign key to users: the contract keeps links by id.

CREATE TABLE {schema}.identities (
	id         text COLLATE "C" PRIMARY KEY,
	provider   text NOT NULL,
	issuer     text COLLATE "C" NOT NULL,
	subject    text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL,
	email      text NOT NULL,
	created_at timestamptz NOT NULL,
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	CONSTRAINT identities_subject_key UNIQUE (issuer, subject)
);
CREATE INDEX identities_user_id ON {schema}.identities (user_id, seq);
