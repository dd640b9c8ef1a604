-- What is wrong with the bindings now: a relation that no longer exists, a
-- bound column that no longer exists, a purge function that is gone, a loan
-- relation partitioned by a patron column, an account relation whose
-- purge_with cannot be applied (NULL into a NOT NULL column, a placeholder
-- patron that is gone), a member of a last-borrower group whose item or
-- closed column no longer has the group's type.
-- Maintenance skips (and reports) what these name; the health check lists them.
CREATE OR REPLACE FUNCTION @extschema@.binding_problems()
RETURNS TABLE (kind text, relation regclass, problem text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b record; col text; ab @extschema@.account_binding; pb @extschema@.patron_binding; found boolean;
BEGIN
    FOR b IN SELECT x.kind, x.relation::oid AS rel, x.settings FROM @extschema@.bindings x ORDER BY 1, 2 LOOP
        IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = b.rel) THEN
            kind := b.kind; relation := b.rel;
            problem := format('relation with OID %s no longer exists', b.rel);
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR col IN SELECT @extschema@._bound_columns(b.rel) LOOP
            IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = b.rel AND a.attname = col
                                                       AND a.attnum > 0 AND NOT a.attisdropped) THEN
                kind := b.kind; relation := b.rel;
                problem := format('column "%s" no longer exists', col);
                RETURN NEXT;
            END IF;
        END LOOP;
        -- a copy's source that is gone or no longer a loan binding (a temporary
        -- table gone without a DROP, its copy's only source): the copy reads
        -- as the copy of hidden rows
        IF b.kind = 'copy' THEN
            FOR col IN SELECT s.source::oid::text FROM @extschema@.copy_binding c, @extschema@._copy_sources(c) s
                        WHERE c.relation::oid = b.rel
                          AND NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = s.source)
                          AND NOT EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = s.source) LOOP
                kind := b.kind; relation := b.rel;
                problem := CASE WHEN EXISTS (SELECT FROM pg_class r WHERE r.oid = col::oid)
                                THEN format('source "%s" is no longer bound with bind_loans', col::oid::regclass)
                                ELSE format('source with OID %s no longer exists', col) END;
                RETURN NEXT;
            END LOOP;
        END IF;
        -- a loan relation partitioned by a patron column (bound before 0.2.0
        -- refused it, or a partition attached while the event trigger was
        -- off): its rows keep their patron when severed
        IF b.kind = 'loans' THEN
            BEGIN
                PERFORM @extschema@._require_no_patron_partition_key('bind_loans', l.relation, l.patron_column,
                                                                     l.more_patron_columns, l.sever_with)
                   FROM @extschema@.loan_binding l WHERE l.relation = b.rel;
            EXCEPTION WHEN feature_not_supported THEN
                kind := b.kind; relation := b.rel;
                problem := regexp_replace(SQLERRM, '^bind_loans: ', '') || ': its severed rows keep their patron';
                RETURN NEXT;
            END;
            -- a member of a last-borrower group whose item or closed column
            -- an ALTER TABLE gave another type than the group's first
            -- binding's (bind_loans refuses such a group; severing across
            -- the members fails while it lasts)
            SELECT @extschema@._group_type_problem(l, g) INTO col
              FROM @extschema@.loan_binding l JOIN @extschema@.loan_binding g ON g.relation = l.last_borrower_group
             WHERE l.relation = b.rel AND EXISTS (SELECT FROM pg_class c WHERE c.oid = g.relation::oid);
            IF col IS NOT NULL THEN
                kind := b.kind; relation := b.rel;
                problem := col;
                RETURN NEXT;
            END IF;
        END IF;
        -- an account relation whose purge_with a purge can no longer apply:
        -- its purged patrons' rows would keep their id (the purge refuses them)
        IF b.kind = 'accounts' THEN
            SELECT a.* INTO ab FROM @extschema@.account_binding a WHERE a.relation::oid = b.rel;
            IF ab.purge_with = 'null' AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = b.rel
                                                    AND a.attname = ab.patron_column AND a.attnotnull) THEN
                kind := b.kind; relation := b.rel;
                problem := format('purge_with ''null'', and column "%s" is NOT NULL now', ab.patron_column);
                RETURN NEXT;
            ELSIF ab.purge_with LIKE 'patron:%' AND EXISTS (SELECT FROM @extschema@.patron_binding) THEN
                SELECT * INTO pb FROM @extschema@.patron_binding;
                IF EXISTS (SELECT FROM pg_class c WHERE c.oid = pb.relation::oid) THEN
                    BEGIN
                        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', pb.relation, pb.id_column)
                            INTO found USING substr(ab.purge_with, 8);
                    EXCEPTION WHEN insufficient_privilege THEN
                        found := true;      -- (not readable by this caller: not told)
                    END;
                    IF NOT found THEN
                        kind := b.kind; relation := b.rel;
                        problem := format('placeholder patron %s of purge_with no longer exists', substr(ab.purge_with, 8));
                        RETURN NEXT;
                    END IF;
                END IF;
            END IF;
        END IF;
        IF b.kind = 'patrons' AND b.settings ? 'purge_function'
           AND to_regprocedure(b.settings ->> 'purge_function') IS NULL THEN
            kind := b.kind; relation := b.rel;
            problem := format('purge function %s no longer exists', b.settings ->> 'purge_function');
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@.binding_problems() FROM PUBLIC;
