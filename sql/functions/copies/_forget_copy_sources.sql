-- Relations gone from the database (dropped: the sql_drop event trigger;
-- gone without a DROP: _forget_dead_bindings) that were sources of a copy
-- that stays: each leaves the copy's sources (_copy_remove_sources; the
-- copies of rows only it held are severed, as a DELETE of them would have),
-- with a warning.  A copy cannot lose its only source: a DROP of it is
-- refused (refuse), so that the copy is never left following nothing; what
-- went without a DROP stays in the binding, which binding_problems() and
-- health() report, and reads as a hidden source (fail closed).
CREATE OR REPLACE FUNCTION @extschema@._forget_copy_sources(rels oid[], names text[], refuse boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; gone oid[]; n bigint;
BEGIN
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE x.relation::oid <> ALL (rels)
                AND (x.source::oid = ANY (rels) OR x.more_sources::oid[] && rels)
              ORDER BY x.relation::oid LOOP
        SELECT array_agg(s.source::oid ORDER BY s.n) INTO gone
          FROM @extschema@._copy_sources(c) s WHERE s.source::oid = ANY (rels);
        IF NOT EXISTS (SELECT FROM @extschema@._copy_sources(c) s WHERE s.source::oid <> ALL (gone)) THEN
            IF refuse THEN
                RAISE EXCEPTION 'cannot drop %: pals_privacy binds "%" as a copy of it',
                        (SELECT names[i] FROM generate_subscripts(rels, 1) i WHERE rels[i] = gone[1]), c.relation
                    USING ERRCODE = 'dependent_objects_still_exist',
                          DETAIL = 'It is the copy''s only source: without it nothing would say which rows of the copy are copies of hidden rows.',
                          HINT = format('Drop the copy in the same statement, or unbind it first with pals_privacy.unbind_copy(%L).', c.relation::text);
            END IF;
            CONTINUE;
        END IF;
        n := @extschema@._copy_remove_sources(c.relation, gone);
        RAISE WARNING 'pals_privacy: % is gone: it is no longer a source of the copy "%"',
                (SELECT string_agg(names[i], ', ') FROM generate_subscripts(rels, 1) i WHERE rels[i] = ANY (gone)), c.relation
            USING DETAIL = format('The copy follows its other sources; %s of its rows, copies of rows only the relation held, were severed (sever_with %L).',
                                  n, c.sever_with);
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._forget_copy_sources(oid[],text[],boolean) FROM PUBLIC;
