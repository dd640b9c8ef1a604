-- A dropped relation leaves no binding behind (issue 15): its bindings,
-- tracker rows, pending severs and backlog progress go, with an audit entry.
CREATE EVENT TRIGGER pals_privacy_dropped_relations ON sql_drop
    EXECUTE FUNCTION @extschema@._on_sql_drop();
