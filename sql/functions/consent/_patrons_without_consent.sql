-- Existing patrons (placeholders aside) with no consent to the purpose on
-- any channel.
CREATE OR REPLACE FUNCTION @extschema@._patrons_without_consent(purpose text, OUT without_consent bigint, OUT patrons bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT FROM @extschema@.consents c
                                                                WHERE c.patron = p.%1$I::text AND c.purpose = $1 AND c.granted)),
                           count(*)
                      FROM %2$s p WHERE NOT p.%1$I::text = ANY ($2)', pb.id_column, pb.relation)
        INTO without_consent, patrons USING purpose, @extschema@._placeholders();
END $$;

REVOKE ALL ON FUNCTION @extschema@._patrons_without_consent(text) FROM PUBLIC;
