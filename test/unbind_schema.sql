-- test/unbind_schema.sql: unbind every relation of the schema :unbind_schema
-- and drop it, for the suites that commit (no transaction rolls their
-- bindings back): its derived copies first (a copy before its source copy),
-- then its other relations, the patron table last.  Included with \i after
-- \set unbind_schema; by test/backlog/done.sql and test/purge/done.sql.
CREATE FUNCTION pg_temp.unbind_schema(s name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r regclass;
BEGIN
    LOOP
        SELECT c.relation INTO r FROM pals_privacy.copy_binding c JOIN pg_class k ON k.oid = c.relation
         WHERE k.relnamespace = s::regnamespace
           AND NOT EXISTS (SELECT FROM pals_privacy.copy_binding x
                            WHERE x.source = c.relation OR c.relation = ANY (x.more_sources))
         ORDER BY c.relation::text LIMIT 1;
        EXIT WHEN r IS NULL;
        PERFORM pals_privacy.unbind_copy(r);
    END LOOP;
    FOR r IN SELECT b.relation FROM pals_privacy.bindings b JOIN pg_class k ON k.oid = b.relation
              WHERE k.relnamespace = s::regnamespace
              GROUP BY b.relation ORDER BY bool_or(b.kind = 'patrons'), b.relation::text LOOP
        PERFORM pals_privacy.unbind(r);
    END LOOP;
END $$;
SELECT pg_temp.unbind_schema(:'unbind_schema') AS unbound \gset
DROP FUNCTION pg_temp.unbind_schema(name);
DROP SCHEMA :unbind_schema CASCADE;
