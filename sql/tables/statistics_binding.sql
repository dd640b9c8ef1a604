-- Which loan bindings collect statistics, and how coarse their dates are.
CREATE TABLE @extschema@.statistics_binding (
    relation     regclass PRIMARY KEY,    -- a loan binding
    granularity  text NOT NULL DEFAULT 'month'
                 CHECK (granularity IN ('day', 'week', 'month', 'quarter', 'year')),
    bound_at     timestamptz NOT NULL DEFAULT now(),
    bound_by     name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.statistics_binding', '');
