/*
 * sever.c
 *     Severing: when a loan-like row closes, the same transaction cuts the
 *     patron from the item's earlier closed, settled rows, so that each item
 *     keeps one identified closed row, its last borrower.  This file is the
 *     algorithm and its entry points: the row trigger and _sever_one()
 *     (the backlog and the maintenance pass; _sever_one_as() for a
 *     withdrawn history opt-in).
 *
 *     The last borrower of each item is tracked in pals_privacy.last_borrower
 *     (binding, item -> relation and TID of the row; tracker.c), so a return
 *     touches one earlier row instead of searching the item's whole history.
 *     The tracker row is locked by every return or settlement of that item,
 *     which serialises them and keeps the tracker true under concurrency.  A
 *     stale entry (the row moved or vanished: VACUUM FULL, a cross-partition
 *     update, a delete) is detected by probing the row, and the item is then
 *     searched once.
 *
 *     A row is severed by one write through the executor (direct_write.c),
 *     with the statements and state of its relation prepared once
 *     (sever_plan.c).  A row that cannot be severed (an error from a foreign
 *     key, a trigger of the ILS, ...) never fails the return: the attempt
 *     runs in a subtransaction and the row is recorded in
 *     pals_privacy.sever_pending for the maintenance pass.
 */
#include "pals_privacy.h"
#include "direct_write.h"
#include "sever_plan.h"
#include "tracker.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(pals_privacy_sever_row);
PG_FUNCTION_INFO_V1(pals_privacy_sever_one);
PG_FUNCTION_INFO_V1(pals_privacy_sever_one_as);

/* What happened to one row we tried to sever. */
typedef enum SeverResult
{
	SEVER_DONE,					/* patron cut */
	SEVER_KEPT,					/* patron keeps history in place */
	SEVER_NOT_ELIGIBLE,			/* open, unsettled or already anonymous */
	SEVER_GONE,					/* no such row (stale TID) or another item */
	SEVER_PENDING				/* failed; left for the maintenance pass */
} SeverResult;

static const char *const sever_result_names[] = {
	"severed", "kept", "not eligible", "gone", "pending"
};

static SPIPlanPtr plan_pending = NULL;


/* > 0 while we are severing: our own updates must not re-enter */
static int	sever_depth = 0;

/*
 * A row left pending by a client's statement (the row trigger: a return)
 * is reported to that client with a WARNING, as a copy's rows are
 * (copy_sever.c); the backlog and the maintenance retry (_sever_one) count
 * theirs in their own report instead.
 */
static bool sever_warns = false;


/* The statement that records a pending row (SPI connected). */
static void
prepare_pending_plan(void)
{
	Oid			pending_types[5] = {OIDOID, OIDOID, TIDOID, TEXTOID, TEXTOID};

	if (plan_pending != NULL)
		return;
	plan_pending = pals_prepare_saved(
		"INSERT INTO pals_privacy.sever_pending (binding, row_relid, row_tid, item, reason)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (binding, row_relid, row_tid) DO UPDATE"
		" SET reason = EXCLUDED.reason, attempts = sever_pending.attempts + 1,"
		" last_attempt = now()", 5, pending_types);
}

static void
record_pending(const RelSever *rs, Oid relid, ItemPointer tid, const char *item,
			   const char *reason)
{
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = ObjectIdGetDatum(rs->binding->relid);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = ItemPointerGetDatum(tid);
	if (item)
		values[3] = CStringGetTextDatum(item);
	else
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(reason);
	pals_execute_as(pals_registry()->extension_owner, plan_pending, values, nulls);
}

/* The state of one row, read by TID. */
typedef struct RowState
{
	bool		found;
	char	   *item;
	bool		closed;
	bool		settled;
	bool		identified;
	bool		patron_null;
	Datum		patron;
	Datum		closed_value;	/* greatest closed column; valid when closed */
	bool		optin_known;	/* optin read with the row */
	bool		optin;			/* the patron opted in to keeping history */
	bool		history_elsewhere;	/* another row of the same loan keeps its history */
} RowState;

static bool
spi_bool(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/*
 * Does our SQL over rs's rows (its probe, lock, search and opt-in
 * statements, run as the owner) evaluate code of the ILS's (a condition,
 * closed_when, settled_when or keep_history_when, calling a function of
 * another schema), in a session with temporary objects?  Then it is not run
 * (owner_code_guard.c): the row is left pending, or the statement fails.
 * The conditions are looked at once per relation state, only in such a
 * session.
 */
static bool
owner_code_refused(RelSever *rs)
{
	if (rs->owner_code == 0)
	{
		const PatronBinding *p = pals_registry()->patrons;
		Expr	   *e;
		bool		ils = false;

		if ((e = pals_loan_condition(rs->binding, true, rs->relid, 1)) != NULL)
			ils = pals_node_runs_ils_code((Node *) e);
		if (!ils && (e = pals_loan_condition(rs->binding, false, rs->relid, 1)) != NULL)
			ils = pals_node_runs_ils_code((Node *) e);
		if (!ils && rs->optin != NULL && p != NULL && p->keep_history_when != NULL)
			ils = pals_node_runs_ils_code((Node *) pals_row_condition(p->keep_history_when, "keep_history_when",
																		p->relid, 1));
		rs->owner_code = ils ? 'y' : 'n';
	}
	return rs->owner_code == 'y' && pals_session_has_temp();
}

static void
guard_owner_code(RelSever *rs)
{
	if (owner_code_refused(rs))
		pals_refuse_owner_code(psprintf("the sever of a row of \"%s\"", get_rel_name(rs->relid)));
}

/* A row left pending for owner_code_refused(), with a WARNING to a client's statement. */
static void
pending_for_owner_code(RelSever *rs, Oid relid, ItemPointer tid, const char *item)
{
	record_pending(rs, relid, tid, item,
				   "its sever would run code of the ILS as the extension owner in a session with temporary objects");
	if (sever_warns)
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a row of \"%s.%s\" was left pending: its sever would run code of the ILS as the extension owner in a session with temporary objects",
						get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid)),
				 errdetail("A condition of the loan binding calls a function of the ILS's, which would find this session's temporary objects."),
				 errhint("The maintenance run retries the row. Reconnect without temporary objects to have returns sever at once.")));
}

/* true if a closed later than b (a and b closed rows of the same binding) */

/*
 * Read a row by TID.  With lock, the row is also locked, unless another
 * transaction holds it: then found is false and *locked_elsewhere is set.
 */
static void
probe_row(RelSever *rs, ItemPointer tid, bool lock, RowState *st, bool *locked_elsewhere)
{
	Datum		tidd = ItemPointerGetDatum(tid);
	bool		isnull;
	Datum		d;

	memset(st, 0, sizeof(RowState));
	if (locked_elsewhere)
		*locked_elsewhere = false;
	guard_owner_code(rs);
	pals_execute_as(pals_registry()->extension_owner, lock ? rs->lock : rs->probe, &tidd, NULL);
	if (SPI_processed != 1)
	{
		if (lock && locked_elsewhere)
		{
			pals_execute_as(pals_registry()->extension_owner, rs->probe, &tidd, NULL);
			*locked_elsewhere = SPI_processed == 1;
		}
		return;
	}
	st->found = true;
	st->item = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	st->closed = spi_bool(2);
	st->settled = spi_bool(3);
	st->identified = spi_bool(4);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &st->patron_null);
	if (!st->patron_null)
		st->patron = datumCopy(d, rs->patron_byval, rs->patron_len);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull);
	if (!isnull)
		st->closed_value = datumCopy(d, rs->closed_byval, rs->closed_len);
	st->optin = spi_bool(7);
	st->optin_known = true;
}

/* The state of a row from one of its tuples (values point into the tuple). */
static void
read_row(RelSever *rs, HeapTuple tup, TupleDesc desc, RowState *st)
{
	bool		isnull;
	Datum		d;

	memset(st, 0, sizeof(RowState));
	st->found = true;
	d = heap_getattr(tup, rs->item_attno, desc, &isnull);
	st->item = isnull ? NULL : OutputFunctionCall(&rs->item_out, d);
	st->closed = false;
	for (int i = 0; i < rs->binding->nclosed; i++)
	{
		d = heap_getattr(tup, rs->closed_attnos[i], desc, &isnull);
		if (isnull)
			continue;
		if (!st->closed || pals_closed_after(rs, d, st->closed_value))
			st->closed_value = d;
		st->closed = true;
	}
	if (st->closed && rs->closed_state)
		st->closed = pals_sever_eval_condition(rs, rs->closed_state, tup);
	if (rs->settled_state)
		st->settled = pals_sever_eval_condition(rs, rs->settled_state, tup);
	else
		st->settled = rs->settled_attno == InvalidAttrNumber ||
			!heap_attisnull(tup, rs->settled_attno, desc);
	st->identified = pals_tuple_identified(rs, tup, desc);
	st->patron = heap_getattr(tup, rs->patron_attno, desc, &st->patron_null);
}

/*
 * The state of the row a trigger fired for, from the trigger's own tuple,
 * provided that tuple is still the row's current version (an earlier event
 * of the same statement may have severed or changed it).
 */
static bool
tuple_state(RelSever *rs, Relation rel, HeapTuple tup, RowState *st)
{
	memset(st, 0, sizeof(RowState));
	if (!pals_row_is_current(rel, &tup->t_self))
		return false;
	read_row(rs, tup, RelationGetDescr(rel), st);
	return true;
}

static bool
patron_opted_in(RelSever *rs, Datum patron)
{
	const PatronBinding *p = pals_registry()->patrons;
	Relation	rel;
	Relation	index;
	TupleTableSlot *slot;
	ScanKeyData key;
	Snapshot	snap;
	bool		optin = false;
	bool		isnull;

	if (rs->optin == NULL)
		return false;
	if (!OidIsValid(rs->patron_index))
	{
		int			nestlevel;

		guard_owner_code(rs);
		nestlevel = pals_safe_search_path();

		pals_execute_as(pals_registry()->extension_owner, rs->optin, &patron, NULL);
		if (SPI_processed == 1)
			optin = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
		pals_restore_search_path(nestlevel);
		return optin;
	}
	/* one probe of the patron table's unique index on its id, as of now */
	rel = table_open(p->relid, AccessShareLock);
	index = index_open(rs->patron_index, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, rs->patron_eq, patron);
	key.sk_collation = index->rd_indcollation[0];
	slot = table_slot_create(rel, NULL);
	if (pals_index_fetch(rel, index, snap, &key, 1, slot))
	{
		Datum		d = slot_getattr(slot, rs->keep_history_attno, &isnull);

		optin = !isnull && DatumGetBool(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return optin;
}

/* Copy (or keep) the row's history when the patron opted in; true = keep in place. */
static bool
apply_history_optin(RelSever *rs, ItemPointer tid, RowState *st)
{
	if (rs->optin == NULL || st->patron_null)
		return false;
	if (!(st->optin_known ? st->optin : patron_opted_in(rs, st->patron)))
		return false;
	if (rs->binding->history_mode == HISTORY_IN_PLACE)
		return true;
	/* the same loan's other row (the archive's) is copied when it is severed */
	if (st->history_elsewhere)
		return false;
	{
		Datum		values[2] = {ItemPointerGetDatum(tid), ObjectIdGetDatum(rs->binding->relid)};

		pals_execute_as(pals_registry()->extension_owner, rs->copy, values, NULL);
	}
	return false;
}

static SeverResult sever_guarded(RelSever *rs, Oid relid, ItemPointer tid, RowState *st,
								 const char *item, Datum upto, bool rewrite);

/*
 * Sever a row already read (and locked, or ours) if it is closed, settled
 * and identified.  A failure never escapes: the row is recorded as pending.
 * rewrite: a row kept in place is written again (rewrite_kept).
 */
static SeverResult
sever_probed(RelSever *rs, Oid relid, ItemPointer tid, RowState *st, bool rewrite)
{
	if (!st->found)
		return SEVER_GONE;
	if (!st->closed || !st->settled || !st->identified)
		return SEVER_NOT_ELIGIBLE;
	return sever_guarded(rs, relid, tid, st, st->item, st->closed_value, rewrite);
}

static bool
same_item(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL;
	return strcmp(a, b) == 0;
}

/* The patron column of a row in a slot is set and not the placeholder. */
/*
 * Sever the row at tid without SQL: it is locked (never waiting), checked
 * to be a closed, settled, identified row of the item, closed no later than
 * upto (whose patron did not opt in, with check_optin), and updated (or
 * deleted) through the executor.  The table's triggers run exactly as for
 * the caller's own UPDATE of the row: as the calling role, under its search
 * path, so a trigger of the ILS never runs a caller's objects with anyone
 * else's rights.  Its AFTER triggers fire before we return (a foreign-key
 * check keeps one cached plan this way, where our safe search path made it
 * re-plan at every return).  SEVER_NOT_ELIGIBLE if the row is not as
 * expected (the caller then finds out why).
 */
static SeverResult
sever_direct(RelSever *rs, Oid relid, ItemPointer tid, const char *item, Datum upto,
			 bool check_optin)
{
	const LoanBinding *b = rs->binding;
	DirectWrite w;
	TupleTableSlot *check;
	TupleTableSlot *old;
	TM_FailureData tmfd;
	TM_Result	res;
	Snapshot	snap;
	bool		visible;
	SeverResult result = SEVER_NOT_ELIGIBLE;
	RowState	st;
	bool		own;

	/*
	 * every column the sever cuts (the patron column and more_patron_columns)
	 * is an updated column: the ILS's triggers UPDATE OF any of them fire, as
	 * for the backlog's and purge's UPDATE ... SET of them all
	 */
	pals_direct_begin(&w, relid, b->sever_with == SEVER_DELETE ? ACL_DELETE : ACL_UPDATE,
					  b->sever_with == SEVER_DELETE ? 0 : rs->ncut, rs->cut_attnos, true);
	/*
	 * The TID comes from the tracker and may be stale: the row moved on and
	 * its line pointer was pruned or reused, or VACUUM truncated the block
	 * away.  table_tuple_lock() takes a TID on trust and would write into
	 * whatever the line pointer now holds, so the row is first read as a
	 * plain fetch reads it (the block and the line pointer are checked),
	 * and kept pinned so that it cannot be pruned before it is locked.
	 */
	if (ItemPointerGetBlockNumber(tid) >= RelationGetNumberOfBlocks(w.rel))
		goto done;
	check = pals_direct_slot(&w);
	if (!table_tuple_fetch_row_version(w.rel, tid, SnapshotAny, check))
		goto done;

	/*
	 * Lock the row without waiting: a row another transaction holds (a
	 * payment settling it, say) is left to the caller, which records it as
	 * pending, so a return never waits for it and cannot deadlock with it.
	 */
	old = pals_direct_slot(&w);
	res = table_tuple_lock(w.rel, tid, w.estate->es_snapshot, old, w.estate->es_output_cid,
						   b->sever_with == SEVER_DELETE ? LockTupleExclusive : LockTupleNoKeyExclusive,
						   LockWaitSkip, 0, &tmfd);
	if (res != TM_Ok)
		goto done;				/* busy, gone or moved */
	snap = pals_statement_snapshot();
	visible = table_tuple_satisfies_snapshot(w.rel, old, snap);
	UnregisterSnapshot(snap);
	if (!visible)
		goto done;				/* not ours to see (REPEATABLE READ) */

	/*
	 * The same item, closed no later than upto, settled, identified, and
	 * not by a patron who keeps their history.
	 */
	read_row(rs, ExecFetchSlotHeapTuple(old, false, NULL), RelationGetDescr(w.rel), &st);
	if (!same_item(st.item, item) ||
		!st.closed || pals_closed_after(rs, st.closed_value, upto) || !st.settled || !st.identified)
		goto done;
	/* a row whose patron column is already cut (another column names one) has no opt-in, no statistics */
	own = pals_value_identified(rs, st.patron, st.patron_null);
	if (check_optin && own && patron_opted_in(rs, st.patron))
		goto done;

	if (own)
		pals_stats_record(b, rs->patron_type, st.patron, st.item, rs->closed_type, st.closed_value, !st.closed);
	if (b->sever_with == SEVER_DELETE)
	{
		/* the tombstone trigger: the row a sever cuts is not its item's last borrower (tombstone.c) */
		pals_leave_out_own_triggers(w.estate, w.rri, PALS_LEAVE_OUT_TOMBSTONE);
		ExecSimpleRelationDelete(w.rri, w.estate, &w.epqstate, old);
	}
	else
	{
		bool		null = b->sever_with != SEVER_PLACEHOLDER;
		TupleTableSlot *new = pals_direct_changed(&w, old, rs->ncut, rs->cut_attnos, rs->cut_values,
												  rs->cut_nulls);

		/*
		 * see placeholder_guard.c: the foreign-key check of a guarded
		 * placeholder is left out (a BEFORE trigger that put another
		 * patron in is refused just below, so the row gets the placeholder
		 * or nothing)
		 */
		if (!null)
			pals_placeholder_skip_fk_check(w.estate, w.rri, rs->ncut, rs->cut_attnos, b->placeholder);
		/*
		 * our severing trigger would return at once for this update (we are
		 * severing): its WHEN clause is not read, nor its event queued; nor
		 * the tombstone trigger's, the row cut not being its item's last
		 * borrower (tombstone.c)
		 */
		pals_leave_out_own_triggers(w.estate, w.rri, PALS_LEAVE_OUT_SEVER | PALS_LEAVE_OUT_TOMBSTONE);
		ExecSimpleRelationUpdate(w.rri, w.estate, &w.epqstate, old, new);
		/* a BEFORE UPDATE trigger of the ILS may have put the patron back */
		if (!TTS_EMPTY(new) && pals_slot_identified(rs, new))
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("a trigger of \"%s\" kept the patron of the row being severed",
							RelationGetRelationName(w.rel)),
					 errhint("Change the trigger, or bind the relation with another sever_with.")));
	}

	/*
	 * A BEFORE trigger that returns NULL skips the change without a word (an
	 * ILS that keeps renewed rows): the row, still there, is left pending.
	 */
	if (table_tuple_fetch_row_version(w.rel, tid, SnapshotSelf, pals_direct_slot(&w)))
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("a trigger of \"%s\" skipped the %s of the row being severed",
						RelationGetRelationName(w.rel),
						b->sever_with == SEVER_DELETE ? "delete" : "update"),
				 errdetail("A BEFORE %s trigger returned NULL, so the row keeps its patron.",
						   b->sever_with == SEVER_DELETE ? "DELETE" : "UPDATE"),
				 errhint("The row stays in pals_privacy.sever_pending_rows until it can be severed: "
						 "change the trigger, or bind the relation with another sever_with.")));
	result = SEVER_DONE;

done:
	pals_direct_end(&w);
	return result;
}

/*
 * Write a row kept in place (its patron opted in, history_mode 'in_place')
 * again, with its own values, where its sever would have written it: a
 * return severs the item's previous last borrower by writing it anew (at
 * the end of the table, among the rows written at that return), and a row
 * it kept would otherwise stay among the rows written at its own return, so
 * that a scan without ORDER BY would tell the rows of opted-in patrons from
 * the severed ones, both read as the placeholder (docs/redaction.md,
 * "Storage order"; the backlog writes its kept rows again for the same
 * reason, _backlog_sever_batch).  The same write as a sever's, without the
 * change: the row locked without waiting, the ILS's row triggers fired as
 * for its own UPDATE ... SET of the cut columns (UPDATE OF them, OLD = NEW),
 * our severing and tombstone triggers left out (the row is no longer its
 * item's last borrower).  A row busy, gone or not ours to see stays
 * where it is; a BEFORE trigger that skips the update leaves it there too.
 * Not for sever_with 'delete' (the caller checks): a class that does not
 * read a closed row's patron does not read the row, there is no order to read.
 */
static void
rewrite_kept(RelSever *rs, Oid relid, ItemPointer tid)
{
	DirectWrite w;
	TupleTableSlot *old;
	TM_FailureData tmfd;
	Snapshot	snap;
	bool		visible;

	pals_direct_begin(&w, relid, ACL_UPDATE, rs->ncut, rs->cut_attnos, true);
	/* read as a plain fetch reads it first (see sever_direct) */
	if (ItemPointerGetBlockNumber(tid) >= RelationGetNumberOfBlocks(w.rel) ||
		!table_tuple_fetch_row_version(w.rel, tid, SnapshotAny, pals_direct_slot(&w)))
		goto done;
	old = pals_direct_slot(&w);
	if (table_tuple_lock(w.rel, tid, w.estate->es_snapshot, old, w.estate->es_output_cid,
						 LockTupleNoKeyExclusive, LockWaitSkip, 0, &tmfd) != TM_Ok)
		goto done;
	snap = pals_statement_snapshot();
	visible = table_tuple_satisfies_snapshot(w.rel, old, snap);
	UnregisterSnapshot(snap);
	if (!visible)
		goto done;
	pals_leave_out_own_triggers(w.estate, w.rri, PALS_LEAVE_OUT_SEVER | PALS_LEAVE_OUT_TOMBSTONE);
	ExecSimpleRelationUpdate(w.rri, w.estate, &w.epqstate, old,
							 pals_direct_changed(&w, old, 0, NULL, NULL, NULL));
done:
	pals_direct_end(&w);
}

/*
 * Is an error one of the row (a constraint, a foreign key, a trigger of the
 * ILS that refuses), which leaves the row pending?  A query cancel,
 * statement_timeout, a shutdown, running out of memory or disk, an I/O
 * error or an internal error is not: it ends the statement as it would
 * without pals_privacy.
 */
static bool
sever_error_is_data(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_INSUFFICIENT_RESOURCES:	/* 53: out of memory, disk full */
		case ERRCODE_PROGRAM_LIMIT_EXCEEDED:	/* 54: stack depth */
		case ERRCODE_OPERATOR_INTERVENTION: /* 57: cancel, timeout, shutdown */
		case ERRCODE_SYSTEM_ERROR:	/* 58: I/O */
		case ERRCODE_INTERNAL_ERROR:	/* XX: internal, corruption */
		case ERRCODE_CONFIG_FILE_ERROR: /* F0 */
			return false;
		default:
			return true;
	}
}

/*
 * Sever one row in a subtransaction.  With st (a row already read), the
 * history of a patron who opted in is copied or kept first (with rewrite, a
 * row kept in place is written again as it is: rewrite_kept; if that fails
 * the row stays where it is, kept, not pending); without,
 * sever_direct checks the row itself.  An error (from a
 * constraint, a foreign key, a trigger of the ILS) is rolled back and the
 * row recorded as pending: it never fails the caller.  An error that is not
 * the row's (sever_error_is_data) is thrown on after the rollback.
 *
 * Called with the safe search path in force; it is lifted around the
 * subtransaction (an override is popped at the level it was pushed) and put
 * back where our own SQL runs.
 */
static SeverResult
sever_guarded(RelSever *rs, Oid relid, ItemPointer tid, RowState *st,
			  const char *item, Datum upto, bool rewrite)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile SeverResult result = SEVER_DONE;
	volatile bool rewriting = false;

	pals_suspend_safe_search_path();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		bool		kept = false;
		Oid			save_user;
		int			save_sec;
		int			sec;
		Oid			run_as;

		if (st != NULL)
		{
			int			nestlevel = pals_safe_search_path();

			kept = apply_history_optin(rs, tid, st);
			pals_restore_search_path(nestlevel);
		}
		/*
		 * the write, and the ILS's triggers it fires, as the caller, or as
		 * the relation's owner (SET ROLE barred) where the caller is a superuser
		 * (ils_owner.c); an error's rollback of the subtransaction puts the
		 * role back
		 */
		GetUserIdAndSecContext(&save_user, &save_sec);
		sec = save_sec;
		run_as = pals_ils_role(relid, &sec);
		if (kept)
		{
			result = SEVER_KEPT;
			/* written again where its sever would have written it (rewrite_kept) */
			if (rewrite && rs->binding->sever_with != SEVER_DELETE)
			{
				rewriting = true;
				SetUserIdAndSecContext(run_as, sec);
				rewrite_kept(rs, relid, tid);
				SetUserIdAndSecContext(save_user, save_sec);
			}
		}
		else
		{
			SetUserIdAndSecContext(run_as, sec);
			result = sever_direct(rs, relid, tid, item, upto, st == NULL);
			SetUserIdAndSecContext(save_user, save_sec);
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			nestlevel;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (!sever_error_is_data(edata->sqlerrcode))
			ReThrowError(edata);	/* a cancel, a timeout, no memory: not the row's fault */
		if (rewriting)
		{
			/* a kept row that could not be written again stays where it is */
			FreeErrorData(edata);
			result = SEVER_KEPT;
		}
		else
		{
			nestlevel = pals_safe_search_path();
			record_pending(rs, relid, tid, item, edata->message);
			pals_restore_search_path(nestlevel);
			/* the SQLSTATE only: the message of an ILS trigger may quote the row */
			if (sever_warns)
				ereport(WARNING,
						(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
						 errmsg("a row of \"%s.%s\" was not severed",
								get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid)),
						 errdetail("Its sever failed with SQLSTATE %s (a trigger of the ILS that skipped or undid it, a constraint), "
								   "so the row still ties the former borrower to the item. It is recorded, with the reason, "
								   "in pals_privacy.sever_pending_rows.", unpack_sql_state(edata->sqlerrcode)),
						 errhint("Make the trigger or the constraint let the change through, or bind the relation with another sever_with. "
								 "Every maintenance run retries the row; purge_expired() does not purge its patron while it remains.")));
			FreeErrorData(edata);
			result = SEVER_PENDING;
		}
	}
	PG_END_TRY();
	pals_resume_safe_search_path();
	return result;
}

/*
 * Sever another row of the item (item NULL: any item).  It is locked first
 * without waiting: a row another transaction holds is left pending, which
 * also rules out deadlocks with a concurrent settlement of that row.
 */
static SeverResult
sever_other(RelSever *rs, Oid relid, ItemPointer tid, const char *item, bool rewrite)
{
	RowState	st;
	bool		locked_elsewhere;

	probe_row(rs, tid, true, &st, &locked_elsewhere);
	if (locked_elsewhere)
	{
		record_pending(rs, relid, tid, item, "row locked by another transaction");
		return SEVER_PENDING;
	}
	if (!st.found || (item != NULL && !same_item(st.item, item)))
		return SEVER_GONE;
	return sever_probed(rs, relid, tid, &st, rewrite);
}

/*
 * No trustworthy tracker entry for the item: search its closed, identified
 * rows once, keep the latest to close (row n wins ties), sever the settled
 * others, and track the latest.  When a class that reads history redacted
 * closed n, n is kept whatever its date: the tracker is stale after that
 * class re-opened or deleted the last borrower's row, and the dates it then
 * writes (a return closed again back-dated, a back-dated loan inserted) would
 * otherwise choose which hidden, still identified row of the item (history
 * kept in place, a pending sever, rows the backlog has not reached) becomes
 * the last borrower that it reads.  Where a row closed later than n keeps
 * its patron, the entry is pinned (tracker.c), so that a rebuild of the
 * tracker by the dates (rebuild_tracker(), sever_backlog(restart => true))
 * keeps n too while it is live.
 */
/*
 * The members of a last-borrower group are compared by item and ordered by
 * their closed values across the relations, every value read with the
 * closing member's types (search_item, on_change).  bind_loans makes the
 * types equal; an ALTER TABLE since may have changed one: fail rather than
 * compare values of different types (binding_problems() names it).
 */
static void
require_group_types(const RelSever *rs, const RelSever *other)
{
	Oid			a = rs->binding->relid;
	Oid			b = other->binding->relid;

	if (other->item_type == rs->item_type && other->closed_type == rs->closed_type)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("loan bindings \"%s\" and \"%s\" of one last-borrower group no longer have the same item and closed column types",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(a)), get_rel_name(a)),
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(b)), get_rel_name(b))),
			 errdetail("The first has item %s and closed %s, the second item %s and closed %s; their rows are compared across the group.",
					   format_type_be(rs->item_type), format_type_be(rs->closed_type),
					   format_type_be(other->item_type), format_type_be(other->closed_type)),
			 errhint("ALTER the column back to the group's type, or unbind the member and bind it again; "
					 "SELECT * FROM pals_privacy.binding_problems() names it.")));
}

/*
 * The same loan in two rows of an item (the ILS moved it into the archive of
 * its last-borrower group, inserting the archive row before deleting the
 * loan): the same patron and the same closed value.
 */
static bool
same_loan(RelSever *rs, const RowState *n, RelSever *prs, const RowState *p)
{
	if (n->patron_null || p->patron_null ||
		pals_closed_after(rs, n->closed_value, p->closed_value) ||
		pals_closed_after(rs, p->closed_value, n->closed_value))
		return false;
	return strcmp(OutputFunctionCall(&rs->patron_out, n->patron),
				  OutputFunctionCall(&prs->patron_out, p->patron)) == 0;
}

/*
 * The relations of the loan bindings that share b's tracker entries: b's
 * own, or every member of its last-borrower group (bind_loans'
 * last_borrower_group), copied out of the registry (reading a member's
 * state may reload it).
 */
static List *
tracker_members(const LoanBinding *b)
{
	List	   *members = NIL;
	ListCell   *lc;

	foreach(lc, pals_registry()->loans)
	{
		const LoanBinding *m = lfirst(lc);

		if (m->tracker == b->tracker && m->keep_last_borrower)
			members = lappend_oid(members, m->relid);
	}
	return members;
}

/*
 * The change is written by a class that reads the loans redacted (not the
 * ILS, not the extension itself): the dates it writes must not choose which
 * hidden row becomes the last borrower it reads.
 */
static bool
writer_is_redacted(void)
{
	return GetUserId() != pals_registry()->extension_owner &&
		pals_current_class() != PALS_CLASS_OPERATIONAL;
}

static void
search_item(RelSever *rs, Oid relid, ItemPointer tid, RowState *n, Datum item,
			const char *item_text)
{
	const LoanBinding *b = rs->binding;
	List	   *members = tracker_members(b);
	ListCell   *lc;
	RelSever   *last_rs = rs;
	uint64		count = 0;
	uint64		room = 16;
	Oid		   *relids;
	ItemPointerData *tids;
	Datum	   *closed;
	bool	   *settled;
	Oid			last_relid = relid;
	ItemPointerData last_tid = *tid;
	Datum		last_closed = n->closed_value;
	int			last = -1;
	int			prev = -1;		/* the latest to close but n: the previous last borrower */
	PalsTrackerPin pin = TRACKER_BY_DATE;
	bool		redacted_close = writer_is_redacted();

	relids = palloc(sizeof(Oid) * room);
	tids = palloc(sizeof(ItemPointerData) * room);
	closed = palloc(sizeof(Datum) * room);
	settled = palloc(sizeof(bool) * room);
	/* the item's closed, identified rows in every relation sharing its tracker entry */
	foreach(lc, members)
	{
		RelSever   *bound = pals_rel_sever(lfirst_oid(lc));
		Datum		key = item;

		if (bound == NULL || bound->search == NULL)
			continue;
		require_group_types(rs, bound);
		guard_owner_code(bound);
		pals_execute_as(pals_registry()->extension_owner, bound->search, &key, NULL);
		if (count + SPI_processed > room)
		{
			room = (count + SPI_processed) * 2;
			relids = repalloc(relids, sizeof(Oid) * room);
			tids = repalloc(tids, sizeof(ItemPointerData) * room);
			closed = repalloc(closed, sizeof(Datum) * room);
			settled = repalloc(settled, sizeof(bool) * room);
		}
		for (uint64 j = 0; j < SPI_processed; j++)
		{
			HeapTuple	t = SPI_tuptable->vals[j];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;

			relids[count] = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
			tids[count] = *DatumGetItemPointer(SPI_getbinval(t, d, 2, &isnull));
			closed[count] = datumCopy(SPI_getbinval(t, d, 3, &isnull), rs->closed_byval, rs->closed_len);
			settled[count] = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
			count++;
		}
	}
	for (uint64 i = 0; i < count; i++)
	{
		if (relids[i] == relid && ItemPointerEquals(&tids[i], tid))
			continue;
		if (prev < 0 || pals_closed_after(rs, closed[i], closed[prev]))
			prev = (int) i;
		if (!redacted_close && pals_closed_after(rs, closed[i], last_closed))
		{
			last = (int) i;
			last_relid = relids[i];
			last_tid = tids[i];
			last_closed = closed[i];
		}
	}
	for (uint64 i = 0; i < count; i++)
	{
		RelSever   *other;
		SeverResult r = SEVER_NOT_ELIGIBLE;

		if ((int) i == last || (relids[i] == relid && ItemPointerEquals(&tids[i], tid)))
			continue;
		other = settled[i] ? pals_rel_sever(relids[i]) : NULL;
		/*
		 * the previous last borrower, kept, is written again as a return
		 * does (rewrite_kept); the item's older rows kept in place were
		 * written again when they stopped being its last borrower, and stay
		 */
		if (other != NULL)
			r = sever_other(other, relids[i], &tids[i], item_text, (int) i == prev);
		/*
		 * a row closed later than n that keeps its patron: the dates would
		 * choose it, so a rebuild must not (the entry is pinned)
		 */
		if (redacted_close && r != SEVER_DONE && pals_closed_after(rs, closed[i], n->closed_value))
			pin = TRACKER_PIN;
	}
	if (last >= 0)
	{
		last_rs = pals_rel_sever(last_relid);
		if (n->settled)
			sever_probed(rs, relid, tid, n, false);
	}
	if (last_rs != NULL)
		pals_tracker_set(b, item_text, last_relid, &last_tid, pin);
}

/*
 * A closed, identified row n was written (closed, settled, or otherwise
 * updated).  Decide who is the item's last borrower and sever the rest.
 * Usually n is the newest: the tracker is pointed at it at once, and the
 * previous last borrower p is locked (never waited for) and severed.
 * oldtup: n's old version (an UPDATE), else NULL; was_closed: it was closed
 * and identified too.
 */
static void
on_change(RelSever *rs, Relation rel, HeapTuple tup, HeapTuple oldtup, bool was_closed,
		  Datum item)
{
	const LoanBinding *b = rs->binding;
	Oid			relid = RelationGetRelid(rel);
	ItemPointer new_tid = &tup->t_self;
	RowState	n;
	RowState	p;
	Oid			p_relid;
	ItemPointerData p_tid;
	RelSever   *prs;
	bool		locked_elsewhere;
	bool		fresh = false;
	bool		p_pinned = false;

	if (!tuple_state(rs, rel, tup, &n) || !n.closed || !n.identified)
		return;					/* changed again since, by this statement */
	/* a row without an item (a title-level hold) is no item's last borrower */
	if (!b->keep_last_borrower || n.item == NULL)
	{
		sever_probed(rs, relid, new_tid, &n, false);
		return;
	}
	if (!pals_tracker_swap(b, n.item, relid, new_tid, &p_relid, &p_tid, &p_pinned))
	{
		fresh = true;
		pals_tracker_claim(b, n.item);
		if (!pals_tracker_swap(b, n.item, relid, new_tid, &p_relid, &p_tid, &p_pinned))
			elog(ERROR, "pals_privacy: tracker row of item %s vanished", n.item);
	}
	if (p_relid == relid && (ItemPointerEquals(&p_tid, new_tid) ||
							 (oldtup != NULL && ItemPointerEquals(&p_tid, &oldtup->t_self))))
	{
		RowState	o;

		/*
		 * n was already the last borrower.  A redacted class moved its close
		 * earlier (a desk back-dating a return): the dates may now say
		 * another, hidden row of the item (history kept in place, a pending
		 * sever), and a rebuild by them (after VACUUM FULL or CLUSTER, a
		 * restore, rebuild_tracker()) would make that row the last borrower
		 * the desk reads.  Pinned, the entry keeps n.
		 */
		if (was_closed && writer_is_redacted())
		{
			read_row(rs, oldtup, RelationGetDescr(rel), &o);
			if (pals_closed_after(rs, o.closed_value, n.closed_value))
				pals_tracker_set(b, n.item, relid, new_tid, TRACKER_PIN);
		}
		return;
	}

	/*
	 * A tombstone (tombstone.c): the item's last-borrower row was deleted,
	 * re-opened or moved, and the item has no last borrower until a close.
	 * n closed now (an insert, or an open row closed): it is the last
	 * borrower, whatever its date (the entry points at it, the pin carried
	 * over).  n closed already (an earlier hidden row written again, or a
	 * closed row moved to this item): not a close; the tombstone stays and n
	 * is severed as any row but the last borrower is.  Never searched by the
	 * dates: they would choose the item's latest remaining row.
	 */
	if (p_relid == InvalidOid && p_pinned)
	{
		if (was_closed)
		{
			pals_tracker_bury(b, n.item, InvalidOid, NULL);
			sever_probed(rs, relid, new_tid, &n, false);
		}
		else
			pals_tracker_set(b, n.item, relid, new_tid, TRACKER_PIN);	/* and its key */
		return;
	}

	/*
	 * p may be a row of another binding of the item's last-borrower group
	 * (the archive a loan was moved into): severed by its own binding's
	 * strategy, in this transaction
	 */
	prs = pals_rel_sever(p_relid);
	if (prs != NULL && (prs->binding == b || prs->binding->tracker == b->tracker))
	{
		bool		p_stays;

		if (prs->binding != b)
			require_group_types(rs, prs);

		/*
		 * p was chosen against the dates (pinned: a close by a redacted
		 * class kept it, search_item) and n was closed and identified
		 * already: n is an earlier hidden row written again (by the ILS, or
		 * the backlog writing kept rows again), not a new close, and the
		 * dates must not bring it back: p stays the last borrower
		 */
		p_stays = p_pinned && was_closed;

		/* common case: p is older, settled, not opted in, not busy: one statement */
		if (!p_stays && !pals_row_locked_by_other(p_relid, &p_tid))
		{
			SeverResult r;

			r = sever_guarded(prs, p_relid, &p_tid, NULL, n.item, n.closed_value, false);
			if (r != SEVER_NOT_ELIGIBLE)
				return;
		}
		/* otherwise find out why, with the row locked if it can be */
		if (owner_code_refused(prs))
		{
			/* p stays the last borrower (pinned): n, written again, is the one to sever */
			if (p_stays)
			{
				pals_tracker_set(b, n.item, p_relid, &p_tid, TRACKER_CARRY);
				pending_for_owner_code(rs, relid, new_tid, n.item);
			}
			else
				pending_for_owner_code(prs, p_relid, &p_tid, n.item);
			return;
		}
		probe_row(prs, &p_tid, true, &p, &locked_elsewhere);
		if (locked_elsewhere)
			probe_row(prs, &p_tid, false, &p, NULL);
		if (p.found && p.closed && p.identified && same_item(p.item, n.item))
		{
			if (p_stays || pals_closed_after(rs, p.closed_value, n.closed_value))
			{
				/* n is an older row (a late or moved one): p stays the last */
				pals_tracker_set(b, n.item, p_relid, &p_tid, TRACKER_CARRY);
				sever_probed(rs, relid, new_tid, &n, false);
			}
			else if (p.settled && locked_elsewhere)
				record_pending(prs, p_relid, &p_tid, p.item, "row locked by another transaction");
			else if (p.settled)
			{
				/*
				 * p is the same loan as n (moved, the new row written
				 * first): its history goes with n, copied when n is severed
				 */
				p.history_elsewhere = same_loan(rs, &n, prs, &p);
				sever_probed(prs, p_relid, &p_tid, &p, true);	/* kept: written again */
			}
			return;
		}
	}
	/*
	 * An item's first return (its tracker entry new: the backlog, or an
	 * earlier return, would have made one for any closed, identified row
	 * of it) in a session whose search would run code of the ILS's as the
	 * owner (owner_code_guard.c): n is its last borrower, nothing to search.
	 */
	if (fresh && owner_code_refused(rs))
		return;
	/* the tracker pointed nowhere valid: search the item once */
	search_item(rs, relid, new_tid, &n, item, n.item);
}

/*
 * Row trigger (AFTER INSERT OR UPDATE, with a WHEN clause that lets through
 * only rows that are closed and identified after the change).
 */
Datum
pals_privacy_sever_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	HeapTuple volatile oldtup = NULL;
	Oid			relid;
	int			nestlevel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy_sever_row: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event))
		elog(ERROR, "pals_privacy_sever_row: must be fired AFTER INSERT OR UPDATE FOR EACH ROW");
	if (sever_depth > 0)
		return PointerGetDatum(NULL);

	relid = RelationGetRelid(td->tg_relation);
	desc = RelationGetDescr(td->tg_relation);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldtup = td->tg_trigtuple;
		newtup = td->tg_newtuple;
	}
	else
		newtup = td->tg_trigtuple;

	/*
	 * A row re-pointed to the placeholder (by severing, a purge, a backlog)
	 * passes the WHEN clause: leave before any set-up when we can tell.
	 */
	{
		RelSever   *known = pals_rel_sever_known(relid);

		if (known != NULL && !pals_tuple_identified(known, newtup, desc))
			return PointerGetDatum(NULL);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	/* a changed search_path re-parses saved plans: keep it safe while we run */
	nestlevel = pals_safe_search_path();
	sever_depth++;
	sever_warns = true;
	PG_TRY();
	{
		RelSever   *rs = pals_rel_sever(relid);

		prepare_pending_plan();
		if (rs != NULL && pals_tuple_closed(rs, newtup, desc) && pals_tuple_identified(rs, newtup, desc))
		{
			bool		isnull;
			Datum		item = heap_getattr(newtup, rs->item_attno, desc, &isnull);

			on_change(rs, td->tg_relation, newtup, oldtup,
					  oldtup != NULL && pals_tuple_closed(rs, oldtup, desc) &&
					  pals_tuple_identified(rs, oldtup, desc),
					  isnull ? (Datum) 0 : item);
		}
	}
	PG_FINALLY();
	{
		sever_depth--;
		sever_warns = false;
	}
	PG_END_TRY();
	pals_restore_search_path(nestlevel);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * Sever one row if it is closed, settled and identified; what happened.
 */
static SeverResult
sever_one(Oid binding, Oid relid, ItemPointer tid)
{
	RelSever   *rs;
	SeverResult r = SEVER_GONE;
	int			nestlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	sever_depth++;
	PG_TRY();
	{
		prepare_pending_plan();
		rs = pals_rel_sever(relid);
		if (rs == NULL || rs->binding->relid != binding)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation %u is not covered by loan binding %u", relid, binding)));
		if (owner_code_refused(rs))
		{
			/* a session's own (_sever_one_as, _history_optout): left to the maintenance run */
			record_pending(rs, relid, tid, NULL,
						   "its sever would run code of the ILS as the extension owner in a session with temporary objects");
			r = SEVER_PENDING;
		}
		else
			r = sever_other(rs, relid, tid, NULL, false);
	}
	PG_FINALLY();
	{
		sever_depth--;
	}
	PG_END_TRY();
	pals_restore_search_path(nestlevel);
	SPI_finish();
	return r;
}

/*
 * pals_privacy._sever_one(binding regclass, row_relid regclass, row_tid tid)
 * Used by the backlog and the maintenance pass, run by an administrator or
 * the maintenance worker: the ILS's triggers fire as that role, or, where it
 * is a superuser, as the table's owner (SET ROLE barred: sever_guarded,
 * ils_owner.c).
 */
Datum
pals_privacy_sever_one(PG_FUNCTION_ARGS)
{
	SeverResult r = sever_one(PG_GETARG_OID(0), PG_GETARG_OID(1), PG_GETARG_ITEMPOINTER(2));

	PG_RETURN_TEXT_P(cstring_to_text(sever_result_names[r]));
}

/*
 * pals_privacy._sever_one_as(binding, row_relid, row_tid, acting regrole)
 * The same, for a function of ours that runs as the extension owner
 * (SECURITY DEFINER) on behalf of a session's role: the row is written, and
 * the ILS's triggers on it and on its derived copies fire, as that role, as
 * for its own UPDATE.  Run as the owner, such a trigger naming a table
 * without its schema found a table of the session's temporary schema, and
 * that table's trigger ran as the owner (a patron withdrawing its
 * reading-history opt-in, _history_optout; test attack_session9).  Our own
 * statements inside still run as the owner (pals_execute_as).
 */
Datum
pals_privacy_sever_one_as(PG_FUNCTION_ARGS)
{
	Oid			save_user;
	int			save_sec;
	volatile SeverResult r = SEVER_GONE;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(PG_GETARG_OID(3), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		r = sever_one(PG_GETARG_OID(0), PG_GETARG_OID(1), PG_GETARG_ITEMPOINTER(2));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	PG_RETURN_TEXT_P(cstring_to_text(sever_result_names[r]));
}

void
pals_sever_init(void)
{
}

