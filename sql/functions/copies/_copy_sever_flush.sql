-- Sever the copies of the rows collected since _copy_sever_collect(): one
-- statement per copy binding and source relation, in the subtransaction the
-- rows were severed in; returns the number of copy rows changed.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_flush() RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_copy_sever_flush';
REVOKE ALL ON FUNCTION @extschema@._copy_sever_flush() FROM PUBLIC;
