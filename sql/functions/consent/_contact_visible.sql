-- Did the patron consent to the purpose on the channel? (contact fields under a purpose)
CREATE OR REPLACE FUNCTION @extschema@._contact_visible(patron text, purpose text, channel text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_contact_visible';

REVOKE ALL ON FUNCTION @extschema@._contact_visible(text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._contact_visible(text,text,text) TO PUBLIC;
