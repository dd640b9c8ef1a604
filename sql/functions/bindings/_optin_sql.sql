-- The reading-history opt-in of the patron row under alias, as SQL: the
-- boolean keep_history_column, or keep_history_when over the row (a smallint
-- privacy flag: 'privacy = 0'); false when unknown.
CREATE OR REPLACE FUNCTION @extschema@._optin_sql(pb @extschema@.patron_binding, alias text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pb.keep_history_column IS NULL THEN
        RETURN 'false';
    ELSIF pb.keep_history_when IS NULL THEN
        RETURN format('coalesce(%I.%I, false)', alias, pb.keep_history_column);
    END IF;
    RETURN format('coalesce(%s, false)', @extschema@._condition_sql(pb.relation, pb.keep_history_when, alias, 'keep_history_when'));
END $$;

REVOKE ALL ON FUNCTION @extschema@._optin_sql(@extschema@.patron_binding, text) FROM PUBLIC;
