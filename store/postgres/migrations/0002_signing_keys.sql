-- gatekeep schema, version 2: the signing key ring (store.KeyStore).
-- signing_key_ring holds the one ring version; every change to
-- signing_keys moves it in the same transaction, which makes each change
-- a compare-and-swap on the whole ring. kid is bytea, as the contract
-- allows any bytes; at most one key is active (the partial unique index).

CREATE TABLE {schema}.signing_key_ring (
	id      boolean PRIMARY KEY DEFAULT true CHECK (id),
	version bigint NOT NULL
);
INSERT INTO {schema}.signing_key_ring (id, version) VALUES (true, 0);

CREATE TABLE {schema}.signing_keys (
	kid          bytea PRIMARY KEY,
	alg          text NOT NULL,
	state        text NOT NULL CHECK (state IN ('next', 'active', 'retiring')),
	created_at   timestamptz NOT NULL,
	activated_at timestamptz,
	retire_at    timestamptz,
	sealed       bytea NOT NULL
);
CREATE UNIQUE INDEX signing_keys_one_active ON {schema}.signing_keys ((true)) WHERE state = 'active';
