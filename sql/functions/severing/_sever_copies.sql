-- Row trigger on the source (AFTER UPDATE OF its patron column, AFTER
-- DELETE): a row that lost its patron, or is gone, takes its copies' with it.
-- TG_ARGV[0]: the copy relation's OID.  In C (src/copy_sever.c): it fires on
-- every return that severs, and the statement of each copy binding
-- (_copy_sever_sql) is built and prepared once per backend, not at every
-- firing; it acts as the extension owner.
CREATE OR REPLACE FUNCTION @extschema@._sever_copies() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_sever_copies';
REVOKE ALL ON FUNCTION @extschema@._sever_copies() FROM PUBLIC;
