CREATE OR REPLACE FUNCTION @extschema@._sever_one(binding regclass, row_relid regclass, row_tid tid) RETURNS text
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_sever_one';

REVOKE ALL ON FUNCTION @extschema@._sever_one(regclass,regclass,tid) FROM PUBLIC;
