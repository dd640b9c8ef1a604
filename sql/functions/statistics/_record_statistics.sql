-- The pseudonymous statistics records of many rows of a loan binding severed
-- together (sever_backlog's set-based sever): the same records the severing
-- of each row writes one by one (src/pseudonym.c), by one INSERT; a failure
-- is a WARNING, the rows stay severed.  Returns the records written.
CREATE OR REPLACE FUNCTION @extschema@._record_statistics(binding regclass, patrons text[], items text[],
                                                          closed_at timestamptz[]) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_record_statistics';
REVOKE ALL ON FUNCTION @extschema@._record_statistics(regclass,text[],text[],timestamptz[]) FROM PUBLIC;
