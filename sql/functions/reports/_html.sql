CREATE OR REPLACE FUNCTION @extschema@._html(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(replace(replace(replace(coalesce(t, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

REVOKE ALL ON FUNCTION @extschema@._html(text) FROM PUBLIC;
