-- Patron and item columns the wrong way round are refused: a foreign key
-- says what a column holds.
CREATE OR REPLACE FUNCTION @extschema@._require_not_swapped(fn text, rel regclass, patron_column name, item_column name)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE target regclass; pb @extschema@.patron_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF item_column IS NOT NULL THEN
        target := @extschema@._fk_target(rel, item_column);
        IF target IS NOT NULL AND @extschema@._is_patron_table(target) THEN
            RAISE EXCEPTION '%: the item column "%" of "%" references the patron table "%"', fn, item_column, rel, target
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Severing would cut the item from its history and leave every patron in place.',
                      HINT = format('Are the patron and item columns swapped? Try patron_column => %L, item_column => %L.',
                                    item_column, patron_column);
        END IF;
    END IF;
    target := @extschema@._fk_target(rel, patron_column);
    IF target IS NOT NULL AND NOT @extschema@._is_patron_table(target) THEN
        RAISE EXCEPTION '%: the patron column "%" of "%" references "%", not the patron table "%"', fn,
                patron_column, rel, target, pb.relation
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Severing sets the patron column to NULL or to a placeholder: it must hold the patron.',
                  HINT = CASE WHEN item_column IS NOT NULL
                              THEN format('Are the patron and item columns swapped? Try patron_column => %L, item_column => %L.',
                                          item_column, patron_column)
                              ELSE 'Name the column that holds the patron id.' END;
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_not_swapped(text,regclass,name,name) FROM PUBLIC;
