-- true when a value of type "a" can be passed where "b" is expected
CREATE OR REPLACE FUNCTION @extschema@._can_coerce(a regtype, b regtype) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT a = b
        OR (a IN ('smallint', 'integer', 'bigint') AND b IN ('integer', 'bigint', 'numeric'))
        OR (a IN ('text', 'character varying', 'character') AND b IN ('text', 'character varying'))
$$;

REVOKE ALL ON FUNCTION @extschema@._can_coerce(regtype,regtype) FROM PUBLIC;
