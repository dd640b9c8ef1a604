/*
 * ils_owner.c
 *     Code of the ILS's that the extension runs with no caller below
 *     superuser runs as the relation's owner, not as the superuser.
 *
 *     The extension writes the ILS's relations: a loan row's sever, a derived
 *     copy's, the backlog's batches, purge_expired()'s deletes and updates.
 *     Each write fires the ILS's triggers (and runs its defaults, domains'
 *     CHECKs, index expressions), and calls its purge function.  At a desk's
 *     return they run as the desk's role, as for the desk's own UPDATE.  In
 *     a sweep (sever_copies(), sever_backlog(), purge_expired(), a TRUNCATE
 *     of a copy's source, the maintenance worker's retries) the caller is a
 *     superuser: the administrator, the worker, or the extension owner of a
 *     SECURITY DEFINER function of ours.  Run as that role, a trigger
 *     function of the ILS's is code whoever owns it (or the table) can
 *     redefine, to be run as superuser at the next sweep.
 *
 *     So, as PostgreSQL does for VACUUM, ANALYZE, CREATE INDEX and REFRESH
 *     MATERIALIZED VIEW: where the role in force is a superuser, the write
 *     runs as the owner of the relation written, under
 *     SECURITY_LOCAL_USERID_CHANGE (no SET ROLE or SET SESSION
 *     AUTHORIZATION back to the superuser).  Not under
 *     SECURITY_RESTRICTED_OPERATION as VACUUM is: that refuses to queue a
 *     deferred trigger, and real ILS schemas declare their foreign keys
 *     DEFERRABLE INITIALLY DEFERRED (Evergreen's; test evergreen_shape's
 *     purge failed with it).  What that leaves: a deferred constraint
 *     trigger of the ILS's fires at commit as whoever commits
 *     (docs/severing.md), and the owner's code may make temporary objects,
 *     after which the session's own reads of ILS code refuse
 *     (owner_code_guard.c).  It is
 *     planned and its permissions checked as the role in force (our own
 *     statements still run as the extension owner up to their start,
 *     spi_util.c); from ExecutorRun to the end of ExecutorFinish (every row
 *     trigger, the AFTER triggers of the statement) the owner is in force.
 *     A caller below superuser keeps running the write (a desk's return,
 *     _sever_one_as).  Where the owner lacks a right the ILS's trigger
 *     needs, the trigger fails and the row is left pending, as for any
 *     trigger that fails (sever.c): never severed silently half-way.
 *
 *     The C writes (a loan row's sever, a copy's) ask pals_ils_role().  The
 *     SQL of the sweeps (plpgsql, EXECUTE of statements built at run time)
 *     is told from a superuser's own statements by the setting
 *     pals_privacy.sweep_as_owner, which the sweeps' functions set for their
 *     duration (a function's SET clause: undone on exit and on error):
 *     while it is on, a statement the executor runs as a superuser that
 *     writes a relation outside the extension's schema, the catalogs and
 *     temporary schemas runs (ExecutorRun, ExecutorFinish; hooks.c) as that
 *     relation's owner; one writing relations of two owners (neither a
 *     superuser) is refused: no one owner's code may run as the other.  The
 *     setting cannot be turned off by a role below superuser inside a local
 *     user id change (guc.c), so a trigger cannot turn the rest of the sweep
 *     back to the superuser.  _run_as_owner() runs one statement (the ILS's purge
 *     function) as a relation's owner the same way.
 */
#include "pals_privacy.h"

#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/execdesc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* the security context an owner's run adds (the header comment says why not SECURITY_RESTRICTED_OPERATION) */
#define ILS_OWNER_SEC SECURITY_LOCAL_USERID_CHANGE

PG_FUNCTION_INFO_V1(pals_privacy_run_as_owner);

static Oid
relation_owner(Oid relid, Oid *nsp)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "pals_privacy: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	if (nsp)
		*nsp = ((Form_pg_class) GETSTRUCT(tup))->relnamespace;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * The role the extension's write of relid (and the ILS's code it runs)
 * runs as: the role in force if it is below superuser; else the relation's
 * owner, with ILS_OWNER_SEC added to *sec (the security context to put in force with it).
 */
Oid
pals_ils_role(Oid relid, int *sec)
{
	Oid			user = GetUserId();

	if (!superuser_arg(user))
		return user;
	*sec |= ILS_OWNER_SEC;
	return relation_owner(relid, NULL);
}

/*
 * The owner a sweep's statement runs as (InvalidOid: as it is): the owner
 * of the relations it writes outside the extension's schema, the catalogs
 * and temporary schemas, leaving out relations a superuser owns.
 */
static Oid
statement_owner(QueryDesc *qd)
{
	PlannedStmt *ps = qd->plannedstmt;
	Oid			ours = pals_extension_namespace();
	Oid			role = InvalidOid;
	ListCell   *lc;

	if (ps == NULL || ps->resultRelations == NIL)
		return InvalidOid;
	foreach(lc, ps->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);
		Oid			nsp;
		Oid			owner;

		if (rte->rtekind != RTE_RELATION)
			continue;
		owner = relation_owner(rte->relid, &nsp);
		if (nsp == ours || IsCatalogNamespace(nsp) || isAnyTempNamespace(nsp) ||
			superuser_arg(owner))
			continue;
		if (OidIsValid(role) && owner != role)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("pals_privacy: a sweep's statement writes relations of two owners"),
					 errdetail("The statement writes \"%s\", owned by %s, and a relation owned by %s; "
							   "the ILS's triggers it fires run as the relations' owner.",
							   get_rel_name(rte->relid), GetUserNameFromId(owner, false),
							   GetUserNameFromId(role, false)),
					 errhint("Give the bound relation and its derived copies one owner "
							 "(ALTER TABLE ... OWNER TO), or let each be written by a statement of its own.")));
		role = owner;
	}
	return role;
}

/*
 * ExecutorRun and ExecutorFinish (hooks.c): is this a statement of a sweep
 * that writes a relation of the ILS's, run by a superuser?  Then its owner
 * is put in force until pals_caller_run_leave().
 */
bool
pals_ils_run_enter(QueryDesc *qd, Oid *save_user, int *save_sec)
{
	Oid			role;

	if (!pals_get_sweep_as_owner() || !superuser_arg(GetUserId()))
		return false;
	role = statement_owner(qd);
	if (!OidIsValid(role))
		return false;
	GetUserIdAndSecContext(save_user, save_sec);
	SetUserIdAndSecContext(role, *save_sec | ILS_OWNER_SEC);
	return true;
}

/*
 * pals_privacy._run_as_owner(relation regclass, sql text, ids text[])
 * returns bigint: runs sql ($1 = ids) as pals_ils_role(relation), under the
 * caller's search path, and returns its first row's first column (bigint;
 * 0 without a row).  For purge_expired()'s call of the ILS's purge function
 * (_purge_patrons_try), which reads and writes no relation of ours.
 */
Datum
pals_privacy_run_as_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Datum		ids = PG_GETARG_DATUM(2);
	Oid			argtype = TEXTARRAYOID;
	Oid			save_user;
	int			save_sec;
	int			sec;
	Oid			role;
	volatile int64 n = 0;

	GetUserIdAndSecContext(&save_user, &save_sec);
	sec = save_sec;
	role = pals_ils_role(relid, &sec);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	SetUserIdAndSecContext(role, sec);
	PG_TRY();
	{
		int			rc = SPI_execute_with_args(sql, 1, &argtype, &ids, NULL, false, 0);

		if (rc < 0)
			elog(ERROR, "pals_privacy: statement failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0 && SPI_tuptable != NULL)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				n = DatumGetInt64(d);
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT64(n);
}
