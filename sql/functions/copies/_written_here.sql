-- Was a row with this xmin written by the current transaction (a
-- subtransaction of it included)?  A copy with several sources is kept from
-- a source's sever only by an identified row of another source written in
-- the same transaction: the row moved there, not a decoy written before
-- (_copy_held, src/copy_sever.c).
CREATE OR REPLACE FUNCTION @extschema@._written_here(xid) RETURNS boolean
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'pals_privacy_written_here';
REVOKE ALL ON FUNCTION @extschema@._written_here(xid) FROM PUBLIC;
