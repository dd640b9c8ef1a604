-- The patron session (src/session.c, docs/session.md).
CREATE TABLE @extschema@.patron_pins (
    patron      text PRIMARY KEY,
    salt        bytea NOT NULL,
    hash        bytea NOT NULL,      -- PBKDF2-HMAC-SHA256; the PIN itself is never stored
    iterations  integer NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    set_by      text NOT NULL,
    must_change boolean NOT NULL DEFAULT true
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.patron_pins', '');

COMMENT ON COLUMN @extschema@.patron_pins.must_change IS
    'A one-time PIN set by staff: login() with it only lets the patron change it';
