-- Refuses (42501) when this session has temporary objects and reading the
-- relation runs code of the ILS's (a view calling its function): for the
-- functions that read bound relations as the extension owner (_my_data_of,
-- _patrons_owing).  src/owner_code_guard.c says why.
CREATE OR REPLACE FUNCTION @extschema@._owner_code_guard(relation regclass, what text) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_owner_code_guard';

REVOKE ALL ON FUNCTION @extschema@._owner_code_guard(regclass, text) FROM PUBLIC;
