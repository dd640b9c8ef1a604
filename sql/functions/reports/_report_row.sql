CREATE OR REPLACE FUNCTION @extschema@._report_row(section text, relation text, measure text, value numeric,
                                        ok boolean DEFAULT NULL, detail text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('section', section, 'relation', relation, 'measure', measure,
                              'value', value, 'ok', ok, 'detail', detail)
$$;

REVOKE ALL ON FUNCTION @extschema@._report_row(text,text,text,numeric,boolean,text) FROM PUBLIC;
