CREATE OR REPLACE VIEW @extschema@.sever_pending_rows AS
    SELECT binding::regclass AS relation, row_relid::regclass AS row_relation, row_tid,
           reason, first_seen, last_attempt, attempts
      FROM @extschema@.sever_pending;
