-- Bind a relation that holds a copy of a loan row's identity, keyed by that
-- row (docs/binding.md, "bind_copy").  more_sources: further sources of the
-- same copy (a loan in one table while out and in another once returned,
-- with one id), each keyed by source_key/source_keys, or by its own primary
-- key when they are not given.  Called again with another source, it adds
-- that source to the copy.  copy_when: a condition over the relation's row;
-- only rows for which it is not false are copies (the others are the ILS's
-- own rows: never severed, swept, purged or redacted as copies).
CREATE OR REPLACE FUNCTION @extschema@.bind_copy(relation regclass, source regclass, key_column name DEFAULT NULL,
                                      patron_column name DEFAULT NULL, sever_with text DEFAULT 'null',
                                      source_key name DEFAULT NULL, hide_columns name[] DEFAULT NULL,
                                      key_columns name[] DEFAULT NULL, source_keys name[] DEFAULT NULL,
                                      current_when text DEFAULT NULL, more_sources regclass[] DEFAULT NULL,
                                      copy_when text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s regclass;
BEGIN
    IF array_position(more_sources, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'bind_copy: more_sources holds a NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name every further source of the copy, or leave more_sources NULL.';
    END IF;
    PERFORM @extschema@._bind_copy(relation, source, key_column, patron_column, sever_with, source_key, hide_columns,
                                   key_columns, source_keys, current_when, more_sources IS NULL, copy_when);
    FOREACH s IN ARRAY coalesce(more_sources, '{}') LOOP
        -- every source bound before the sweep: a copy row of a row that only a
        -- later source holds must not be severed in between
        PERFORM @extschema@._bind_copy(relation, s, key_column, patron_column, sever_with, source_key, hide_columns,
                                       key_columns, source_keys, current_when, false, copy_when);
    END LOOP;
    IF more_sources IS NOT NULL THEN
        PERFORM @extschema@.sever_copies(relation);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_copy(regclass,regclass,name,name,text,name,name[],name[],name[],text,regclass[],text) FROM PUBLIC;
