-- No identity in a message: every run of digits becomes '#'.
CREATE OR REPLACE FUNCTION @extschema@._report_mask(message text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(left(message, 200), '[0-9]+', '#', 'g')
$$;

REVOKE ALL ON FUNCTION @extschema@._report_mask(text) FROM PUBLIC;
