-- 70_placeholder_guard.sql (bench, issue 17): the placeholder patron of sever_with =>
-- 'patron:<id>' is guarded by a trigger on the patron table, so that a return re-points rows to
-- it without the foreign key's KEY SHARE lock on that one row from every concurrent return
-- (src/placeholder_guard.c, docs/severing.md).
CREATE OR REPLACE FUNCTION @extschema@._placeholder_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_placeholder_guard';

REVOKE ALL ON FUNCTION @extschema@._placeholder_guard() FROM PUBLIC;
