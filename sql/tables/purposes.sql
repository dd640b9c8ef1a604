CREATE TABLE @extschema@.purposes (
    name               text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    description        text NOT NULL,
    requires_evidence  boolean NOT NULL DEFAULT false,
    builtin            boolean NOT NULL DEFAULT false
);

INSERT INTO @extschema@.purposes VALUES
    ('notices', 'Notices about the patron''s own account: holds, due dates, fines', false, true),
    ('newsletter', 'Library newsletters and promotions (separate written permission)', true, true);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.purposes', 'WHERE NOT builtin');
