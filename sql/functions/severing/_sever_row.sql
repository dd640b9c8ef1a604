-- The severing trigger (C) and the one-row sever used by the backlog.
CREATE OR REPLACE FUNCTION @extschema@._sever_row() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_sever_row';

REVOKE ALL ON FUNCTION @extschema@._sever_row() FROM PUBLIC;
