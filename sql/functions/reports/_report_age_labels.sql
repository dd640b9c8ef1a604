-- The age brackets of identified closed history, youngest first.
CREATE OR REPLACE FUNCTION @extschema@._report_age_labels() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['under 1 day', '1-7 days', '7-30 days', '30-90 days', '90-365 days',
                 '1-2 years', 'over 2 years', 'unknown']
$$;

REVOKE ALL ON FUNCTION @extschema@._report_age_labels() FROM PUBLIC;
