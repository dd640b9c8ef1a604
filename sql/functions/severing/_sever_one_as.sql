-- _sever_one() on behalf of a session's role: the row's write, and the ILS's
-- triggers it fires, run as that role (called by functions of ours that run
-- as the extension owner, e.g. _history_optout).
CREATE OR REPLACE FUNCTION @extschema@._sever_one_as(binding regclass, row_relid regclass, row_tid tid, acting regrole) RETURNS text
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_sever_one_as';

REVOKE ALL ON FUNCTION @extschema@._sever_one_as(regclass,regclass,tid,regrole) FROM PUBLIC;
