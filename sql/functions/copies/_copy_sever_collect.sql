-- Batched severing of derived copies (sever_backlog): from this call on, in
-- the same subtransaction, the _sever_copies trigger collects the keys of
-- the source rows it fires for instead of running its statement, until
-- _copy_sever_flush() severs them all with one statement per copy binding
-- (src/copy_sever_batch.c).  Keys of a subtransaction that rolls back are dropped
-- with its rows; a transaction cannot commit with keys not flushed.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_collect() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_copy_sever_collect';
REVOKE ALL ON FUNCTION @extschema@._copy_sever_collect() FROM PUBLIC;
