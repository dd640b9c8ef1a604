-- Bindings whose relation no longer exists (a temporary table whose session
-- ended drops without a DROP statement, so without the event trigger).
CREATE OR REPLACE FUNCTION @extschema@._forget_dead_bindings() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE rels oid[]; n integer;
BEGIN
    SELECT array_agg(DISTINCT b.relation::oid) INTO rels FROM @extschema@.bindings b
     WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = b.relation::oid);
    -- sources of copies gone too (a temporary table): they leave the copies they were sources of
    PERFORM @extschema@._forget_copy_sources(s.rels, s.rels::text[], false)
       FROM (SELECT array_agg(DISTINCT cs.source::oid) AS rels
               FROM @extschema@.copy_binding c, @extschema@._copy_sources(c) cs
              WHERE NOT EXISTS (SELECT FROM pg_class r WHERE r.oid = cs.source::oid)) s
      WHERE s.rels IS NOT NULL;
    n := @extschema@._forget_relations(rels, (SELECT array_agg(x::text) FROM unnest(rels) x), 'no longer exists');
    DELETE FROM @extschema@.last_borrower l WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.row_relid);
    DELETE FROM @extschema@.sever_pending p WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = p.row_relid);
    DELETE FROM @extschema@.copy_tomb t WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relation::oid);
    DELETE FROM @extschema@.purged_patrons t WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relation::oid);
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._forget_dead_bindings() FROM PUBLIC;
