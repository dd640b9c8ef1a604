/*
 * operations.c
 *     What a DBA meets when running the extension (docs/operations.md):
 *
 *     - DROP EXTENSION pals_privacy (or DROP SCHEMA pals_privacy): an event
 *       trigger at ddl_command_start recognises the statement from its parse
 *       tree and hands over to pals_privacy._prepare_drop(), which refuses
 *       while evidence exists (unless pals_privacy.allow_drop_with_evidence
 *       is on) and otherwise takes the extension's triggers, policies and
 *       row security off the ILS tables, so they work as before;
 *     - CALL of one of the extension's procedures (they commit after each
 *       batch) in a transaction block fails, at its first COMMIT, with a
 *       message that says to call it on its own;
 *     - a restore (pg_dump's COPY ... FROM stdin into the configuration
 *       tables) is told apart from a binding change, so it is not audited
 *       twice.
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"

PG_FUNCTION_INFO_V1(pals_privacy_drop_guard);
PG_FUNCTION_INFO_V1(pals_privacy_require_top_level);
PG_FUNCTION_INFO_V1(pals_privacy_restoring);

#define EXTENSION_SCHEMA "pals_privacy"

/* Does this DROP statement drop the extension (or its schema)? */
static bool
drops_extension(Node *parsetree)
{
	DropStmt   *drop;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	drop = (DropStmt *) parsetree;
	if (drop->removeType != OBJECT_EXTENSION && drop->removeType != OBJECT_SCHEMA)
		return false;
	foreach(lc, drop->objects)
	{
		Node	   *name = lfirst(lc);

		if (IsA(name, String) && strcmp(strVal(name), drop->removeType == OBJECT_EXTENSION
										? "pals_privacy" : EXTENSION_SCHEMA) == 0)
			return true;
	}
	return false;
}

/*
 * Event trigger (ddl_command_start, DROP EXTENSION and DROP SCHEMA).  The
 * checks and the clean-up are SQL (_prepare_drop), run before PostgreSQL
 * looks at what depends on the extension: a refusal leaves everything as it
 * was, and if the DROP fails later, the clean-up is rolled back with it.
 */
Datum
pals_privacy_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pals_privacy_drop_guard: not called by an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!drops_extension(trigdata->parsetree))
		PG_RETURN_VOID();

	SPI_connect();
	SPI_execute("SELECT " EXTENSION_SCHEMA "._prepare_drop()", false, 0);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Would a COMMIT in a procedure called by this CALL fail?  The same test
 * standard_ProcessUtility makes to run the procedure non-atomically.
 */
static bool
atomic_context(ProcessUtilityContext context)
{
	return !(context == PROCESS_UTILITY_TOPLEVEL || context == PROCESS_UTILITY_QUERY_NONATOMIC)
		|| IsTransactionBlock();
}

static void
refuse_in_transaction(const char *procname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
			 errmsg("%s must be called outside a transaction block", procname),
			 errdetail("It commits after every batch, which a transaction block, a function or a multi-statement query string does not allow."),
			 errhint("Run CALL pals_privacy.%s(...) on its own: not between BEGIN and COMMIT, not from a function, "
					 "and without autocommit turned off.", procname)));
}

/*
 * pals_privacy._require_top_level(procedure name): the same refusal, for
 * the procedures to call first (it covers sessions that have not loaded
 * the library, where the utility hook below is not there yet).
 */
Datum
pals_privacy_require_top_level(PG_FUNCTION_ARGS)
{
	/* called from inside the procedure: a transaction block is the case we can see */
	if (IsTransactionBlock())
		refuse_in_transaction(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/*
 * A CALL of one of the extension's procedures where it cannot commit: its
 * own checks (permissions, arguments) come first, and only the error of its
 * first COMMIT is replaced by one that says what to do.
 */
void
pals_operations_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next)
{
	Node	   *stmt = pstmt->utilityStmt;
	char	   *procname = NULL;

	if (IsA(stmt, CallStmt) && ((CallStmt *) stmt)->funcexpr != NULL && atomic_context(context))
	{
		Oid			funcid = ((CallStmt *) stmt)->funcexpr->funcid;
		Oid			nsp = get_namespace_oid(EXTENSION_SCHEMA, true);

		if (OidIsValid(nsp) && get_func_namespace(funcid) == nsp &&
			get_func_prokind(funcid) == PROKIND_PROCEDURE)
			procname = get_func_name(funcid);
	}
	if (procname == NULL)
	{
		next(PALS_UTILITY_ARGS);
		return;
	}
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			next(PALS_UTILITY_ARGS);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			if (edata->sqlerrcode != ERRCODE_INVALID_TRANSACTION_TERMINATION)
			{
				FreeErrorData(edata);
				PG_RE_THROW();
			}
			FlushErrorState();
			refuse_in_transaction(procname);
		}
		PG_END_TRY();
	}
}

/*
 * pals_privacy._restoring(): is the statement running now a COPY ... FROM
 * STDIN, the form pg_dump writes a table's rows in?  The restored audit log
 * already holds the entries of the original binding changes: copying them
 * in again is not a new change, and appending entries while the audit log
 * itself is restored (pg_restore -j) would collide with the restored ones.
 *
 * The answer comes from the portal that is running, not from the query
 * string: a string that begins with a COPY may go on with a binding change
 * ("COPY t FROM stdin; SELECT bind_...()"), and that change runs in a
 * portal of its own, and is audited.
 */
Datum
pals_privacy_restoring(PG_FUNCTION_ARGS)
{
	Portal		portal = ActivePortal;
	ListCell   *lc;

	if (portal == NULL || portal->commandTag != CMDTAG_COPY)
		PG_RETURN_BOOL(false);
	foreach(lc, portal->stmts)
	{
		PlannedStmt *stmt = lfirst_node(PlannedStmt, lc);
		CopyStmt   *copy;

		if (stmt->commandType != CMD_UTILITY || !IsA(stmt->utilityStmt, CopyStmt))
			continue;
		copy = (CopyStmt *) stmt->utilityStmt;
		if (copy->is_from && copy->filename == NULL && !copy->is_program)
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}
