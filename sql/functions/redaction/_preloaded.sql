-- Fail closed (docs/redaction.md, "Threat model"): every bound table, with
-- its partitions and inheritance children, gets a restrictive row-security
-- policy that calls _preloaded(), which fails unless pals_privacy was loaded
-- by shared_preload_libraries; where pals_privacy turned row security on,
-- it is forced on the table's owner too.  In a backend without the hooks, a bound
-- relation is unreadable and unwritable rather than unredacted.  The
-- permissive pass-through policy (pals_privacy_redaction) is still added only
-- where pals_privacy turned row security on itself; a table with row
-- security of its own keeps its policies, and the restrictive one is ANDed
-- with them.
CREATE OR REPLACE FUNCTION @extschema@._preloaded() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_preloaded';

REVOKE ALL ON FUNCTION @extschema@._preloaded() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._preloaded() TO PUBLIC;
