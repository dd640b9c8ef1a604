-- Who is the guardian of a minor's account (NExpress "minors").  What a
-- guardian's logged-in session reads of it: pals_privacy.guardian_access.
CREATE TABLE @extschema@.guardian_binding (
    relation         regclass PRIMARY KEY,
    minor_column     name NOT NULL,
    guardian_column  name NOT NULL,
    bound_at         timestamptz NOT NULL DEFAULT now(),
    bound_by         name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.guardian_binding', '');
