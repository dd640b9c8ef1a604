/*
 * placeholder_guard.c
 *     The placeholder patron of sever_with => 'patron:<id>', guarded, so that
 *     a return need not take a foreign-key lock on it.
 *
 *     Every return re-points the item's previous last borrower to the
 *     placeholder patron.  Through the loan table's foreign key, that update
 *     took a KEY SHARE lock on the one placeholder row, from every concurrent
 *     return: the row's lock became a MultiXact of all of them, rewritten at
 *     every return (a hot row: its page dirtied, MultiXact members written,
 *     truncation work for VACUUM).  The lock only keeps the row from being
 *     deleted, or its id changed, before the return commits.
 *
 *     The guard does that instead, for every session at once: an ENABLE
 *     ALWAYS row trigger on the patron table (pals_privacy_placeholder_guard,
 *     installed with the patron binding) refuses to delete a placeholder of a
 *     loan binding or to change its id.  When the guard is in force and the
 *     placeholder row exists, a sever leaves the foreign key's check trigger
 *     of its patron column out of that one update, and those of its
 *     more_patron_columns (a hold's requestor, re-pointed to the same
 *     placeholder in the same update) with it.  Otherwise (the guard
 *     dropped or disabled, the row gone, a foreign key of another shape) the
 *     check runs as before, and a failed check leaves the row pending.
 *
 *     The sever holds ROW EXCLUSIVE on the patron table to the end of its
 *     transaction: disabling or dropping the guard (SHARE ROW EXCLUSIVE or
 *     more) waits for it, and a sever after such a change sees it.
 *
 *     sever_backlog severs a batch by one statement per relation, which
 *     re-points every row it updates to the placeholder:
 *     _skip_placeholder_check(relation) arms the same leaving-out for the
 *     next statement this backend starts, if it updates that relation (the
 *     executor-start hook applies it to the statement's result relation).
 *     A row that a BEFORE trigger of the ILS gave another patron would go
 *     unchecked: the backlog rolls such a statement back and severs its rows
 *     one by one, with the check.  The severing trigger, which does nothing
 *     for a row re-pointed to the placeholder, is left out of that statement
 *     too.  _backlog_copies_in_statement(relation, copies) arms the same way
 *     for the triggers that sever the derived copies of the listed copy
 *     bindings (_sever_copies): the backlog's statement severs those copies
 *     itself, in one of its own parts, and their per-row firings are left
 *     out (any other binding's trigger still fires), and the tombstone
 *     trigger (its rows are not their items' last borrowers: tombstone.c).
 */
#include "pals_privacy.h"
#include "direct_write.h"
#include "hooks.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#define GUARD_TRIGGER	"pals_privacy_placeholder_guard"
#define GUARD_SYMBOL	"pals_privacy_placeholder_guard"

PG_FUNCTION_INFO_V1(pals_privacy_placeholder_guard);
PG_FUNCTION_INFO_V1(pals_privacy_skip_placeholder_check);
PG_FUNCTION_INFO_V1(pals_privacy_backlog_copies_in_statement);

/* armed by _skip_placeholder_check(): the relation whose next update skips the check */
static Oid	skip_relid = InvalidOid;
static bool skip_callbacks = false;
/* armed by _backlog_copies_in_statement(): the relation and the copies its statement severs */
static Oid	backlog_relid = InvalidOid;	/* its tombstone trigger left out */
static Oid	copies_relid = InvalidOid;
static Oid *copies_oids = NULL;
static int	copies_count = 0;
static int	copies_max = 0;

/* The one element of a one-element int2 or oid array column of pg_constraint, or 0. */
static Datum
single_element(HeapTuple tup, AttrNumber attnum, Oid elemtype)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(CONSTROID, tup, attnum, &isnull);
	ArrayType  *a;
	char	   *data;

	if (isnull)
		return (Datum) 0;
	a = DatumGetArrayTypeP(d);
	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != elemtype)
		return (Datum) 0;
	/* no nulls, one dimension: the data follows the fixed header */
	data = (char *) a + ARR_OVERHEAD_NONULLS(1);
	return elemtype == INT2OID ? Int16GetDatum(*(int16 *) data) : ObjectIdGetDatum(*(Oid *) data);
}

/* Is fn a C function of this library with that symbol? */
static bool
is_own_function(Oid fn, const char *symbol)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	bool		ok = false;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		src;

		if (proc->prolang == ClanguageId)
		{
			src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
			ok = !isnull && strcmp(TextDatumGetCString(src), symbol) == 0;
		}
		ReleaseSysCache(tup);
	}
	return ok;
}

/* Is fn this library's guard function? */
static bool
is_guard_function(Oid fn)
{
	return is_own_function(fn, GUARD_SYMBOL);
}

/* rri's triggers without those skip[i] says; their per-trigger caches start empty */
static void
rri_without(EState *estate, ResultRelInfo *rri, const bool *skip)
{
	TriggerDesc *td = rri->ri_TrigDesc;
	TriggerDesc *newtd;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

	newtd = palloc(sizeof(TriggerDesc));
	memcpy(newtd, td, sizeof(TriggerDesc));
	newtd->numtriggers = 0;
	newtd->triggers = palloc(sizeof(Trigger) * td->numtriggers);
	newtd->trig_update_after_row = false;
	newtd->trig_delete_after_row = false;
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (skip[i])
			continue;
		newtd->triggers[newtd->numtriggers++] = *t;
		if (TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_AFTER, TRIGGER_TYPE_UPDATE))
			newtd->trig_update_after_row = true;
		if (TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_AFTER, TRIGGER_TYPE_DELETE))
			newtd->trig_delete_after_row = true;
	}
	rri->ri_TrigDesc = newtd;
	rri->ri_TrigFunctions = palloc0(sizeof(FmgrInfo) * Max(newtd->numtriggers, 1));
	rri->ri_TrigWhenExprs = palloc0(sizeof(ExprState *) * Max(newtd->numtriggers, 1));
	MemoryContextSwitchTo(old);
}

/*
 * The guard is on the patron table, fires always (whatever
 * session_replication_role), before every UPDATE and DELETE of a row, with
 * no WHEN clause or column list that could let one through.
 */
static bool
guard_in_force(Relation patrons)
{
	TriggerDesc *td = patrons->trigdesc;

	if (td == NULL)
		return false;
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (strcmp(t->tgname, GUARD_TRIGGER) == 0 &&
			t->tgenabled == TRIGGER_FIRES_ALWAYS &&
			TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_BEFORE(t->tgtype) &&
			TRIGGER_FOR_DELETE(t->tgtype) && TRIGGER_FOR_UPDATE(t->tgtype) &&
			t->tgnattr == 0 && t->tgqual == NULL && is_guard_function(t->tgfoid))
			return true;
	}
	return false;
}

/* Does the placeholder row exist now (the latest committed state)? */
static bool
placeholder_exists(Relation patrons, Oid index_oid, AttrNumber id_attno, Oid eqop,
				   const char *placeholder)
{
	Relation	index = index_open(index_oid, AccessShareLock);
	Oid			idtype = TupleDescAttr(RelationGetDescr(patrons), id_attno - 1)->atttypid;
	Oid			typinput,
				typioparam;
	Snapshot	snap;
	ScanKeyData key;
	bool		found = false;

	if (index->rd_index->indnkeyatts == 1 && index->rd_index->indkey.values[0] == id_attno &&
		index->rd_index->indisvalid)
	{
		getTypeInputInfo(idtype, &typinput, &typioparam);
		ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
							   index->rd_indcollation[0], get_opcode(eqop),
							   OidInputFunctionCall(typinput, (char *) placeholder, typioparam, -1));
		snap = RegisterSnapshot(GetLatestSnapshot());
		found = pals_index_has(patrons, index, snap, &key, 1);
		UnregisterSnapshot(snap);
	}
	index_close(index, AccessShareLock);
	return found;
}

/*
 * Before the row of rri's relation is re-pointed to the placeholder: leave
 * the foreign key's check of each of its patron columns (the patron column
 * and more_patron_columns, patron_attnos: each a single-column foreign key to
 * the bound patron table's id) out of rri's triggers, if the guard is in
 * force and the placeholder exists.  rri's other triggers, the ILS's among
 * them (a foreign key of another shape, to another table, included), run as
 * before.  Allocates in estate's query context.
 */
void
pals_placeholder_skip_fk_check(EState *estate, ResultRelInfo *rri, int npatron,
							   const AttrNumber *patron_attnos, const char *placeholder)
{
	const PatronBinding *pb = pals_registry()->patrons;
	TriggerDesc *td = rri->ri_TrigDesc;
	Oid			relid = RelationGetRelid(rri->ri_RelationDesc);
	AttrNumber	id_attno;
	bool	   *mask;
	bool		any = false;
	Oid			index_oid = InvalidOid;
	Oid			eqop = InvalidOid;
	Relation	patrons;
	bool		ok;

	if (pb == NULL || td == NULL || !td->trig_update_after_row || placeholder == NULL)
		return;
	id_attno = get_attnum(pb->relid, pb->id_column);
	if (id_attno == InvalidAttrNumber)
		return;
	mask = palloc0(sizeof(bool) * td->numtriggers);
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		HeapTuple	tup;
		Form_pg_constraint con;
		AttrNumber	conkey;
		bool		patron_column = false;

		if (t->tgfoid != F_RI_FKEY_CHECK_UPD || !OidIsValid(t->tgconstraint))
			continue;
		tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(t->tgconstraint));
		if (!HeapTupleIsValid(tup))
			continue;
		con = (Form_pg_constraint) GETSTRUCT(tup);
		conkey = DatumGetInt16(single_element(tup, Anum_pg_constraint_conkey, INT2OID));
		for (int k = 0; k < npatron; k++)
			if (conkey != 0 && conkey == patron_attnos[k])
				patron_column = true;
		if (con->contype == CONSTRAINT_FOREIGN && con->conrelid == relid &&
			con->confrelid == pb->relid && patron_column &&
			DatumGetInt16(single_element(tup, Anum_pg_constraint_confkey, INT2OID)) == id_attno)
		{
			Oid			op = DatumGetObjectId(single_element(tup, Anum_pg_constraint_conpfeqop, OIDOID));

			/* the placeholder is looked up through the first one's index */
			if (OidIsValid(op) && OidIsValid(con->conindid))
			{
				if (!any)
				{
					eqop = op;
					index_oid = con->conindid;
				}
				mask[i] = any = true;
			}
		}
		ReleaseSysCache(tup);
	}
	if (!any)
	{
		pfree(mask);
		return;
	}

	/* held to the end of the transaction: the guard cannot go meanwhile */
	patrons = table_open(pb->relid, RowExclusiveLock);
	ok = patrons->rd_rel->relkind == RELKIND_RELATION && guard_in_force(patrons) &&
		placeholder_exists(patrons, index_oid, id_attno, eqop, placeholder);
	table_close(patrons, NoLock);
	/* rri's triggers without those */
	if (ok)
		rri_without(estate, rri, mask);
	pfree(mask);
}

/*
 * Leave triggers of our own out of rri's triggers, for a write of our own
 * (allocates in estate's query context); their WHEN clauses are then not
 * read, nor their events queued.  PALS_LEAVE_OUT_SEVER: the severing
 * trigger (pals_privacy_sever, _sever_row()), for a write it would do
 * nothing for (a row re-pointed to the placeholder by the backlog's
 * statement, or a sever made while severing, where it returns at once).
 * PALS_LEAVE_OUT_TOMBSTONE: the tombstone trigger (pals_privacy_tombstone,
 * _tombstone_row()), for a sever's write: the row it cuts is not the one
 * its item's entry names (tombstone.c).  Only for this write: a statement
 * that a trigger of the ILS runs inside it has its own executor state,
 * with every trigger.
 */
void
pals_leave_out_own_triggers(EState *estate, ResultRelInfo *rri, int which)
{
	TriggerDesc *td = rri->ri_TrigDesc;
	bool	   *mask;
	bool		any = false;

	if (td == NULL)
		return;
	mask = palloc0(sizeof(bool) * Max(td->numtriggers, 1));
	for (int i = 0; i < td->numtriggers; i++)
		if (((which & PALS_LEAVE_OUT_SEVER) && strcmp(td->triggers[i].tgname, "pals_privacy_sever") == 0 &&
			 is_own_function(td->triggers[i].tgfoid, "pals_privacy_sever_row")) ||
			((which & PALS_LEAVE_OUT_TOMBSTONE) && strcmp(td->triggers[i].tgname, "pals_privacy_tombstone") == 0 &&
			 is_own_function(td->triggers[i].tgfoid, "pals_privacy_tombstone_row")))
			mask[i] = any = true;
	if (any)
		rri_without(estate, rri, mask);
	pfree(mask);
}

/*
 * The guard trigger: BEFORE UPDATE OR DELETE on the patron table, for each
 * row.  Deleting the placeholder patron of a loan binding, or changing its
 * id, is refused while the binding uses it.
 */
Datum
pals_privacy_placeholder_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const PalsRegistry *reg;
	const PatronBinding *pb;
	TupleDesc	desc;
	AttrNumber	id_attno;
	bool		isnull;
	Datum		id;
	char	   *old_id = NULL;
	Oid			outfunc = InvalidOid;
	bool		isvarlena;
	ListCell   *lc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pals_privacy_placeholder_guard() must be a BEFORE UPDATE OR DELETE row trigger")));

	reg = pals_registry();
	pb = reg->patrons;
	if (pb == NULL || pb->relid != RelationGetRelid(td->tg_relation))
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
	desc = RelationGetDescr(td->tg_relation);
	id_attno = get_attnum(pb->relid, pb->id_column);
	foreach(lc, reg->loans)
	{
		const LoanBinding *b = lfirst(lc);

		if (b->sever_with != SEVER_PLACEHOLDER || b->placeholder == NULL || id_attno == InvalidAttrNumber)
			continue;
		if (old_id == NULL)
		{
			id = heap_getattr(td->tg_trigtuple, id_attno, desc, &isnull);
			if (isnull)
				break;
			getTypeOutputInfo(TupleDescAttr(desc, id_attno - 1)->atttypid, &outfunc, &isvarlena);
			old_id = OidOutputFunctionCall(outfunc, id);
		}
		if (strcmp(old_id, b->placeholder) != 0)
			continue;
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			Datum		new_id = heap_getattr(td->tg_newtuple, id_attno, desc, &isnull);

			if (!isnull &&
				strcmp(OidOutputFunctionCall(outfunc, new_id), old_id) == 0)
				break;			/* the id stays: any other change is the ILS's business */
		}
		ereport(ERROR,
				(errcode(ERRCODE_RESTRICT_VIOLATION),
				 errmsg("patron %s is the placeholder that severed rows of \"%s\" point to",
						old_id, get_rel_name(b->relid)),
				 errdetail("%s it would leave them pointing to no patron.",
						   TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "Deleting" : "Changing its id"),
				 errhint("Unbind the relation first (pals_privacy.unbind), or bind it with another placeholder.")));
	}
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
}

static void
skip_xact_callback(XactEvent event, void *arg)
{
	skip_relid = InvalidOid;
	backlog_relid = InvalidOid;
	copies_relid = InvalidOid;
}

static void
skip_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	/* armed inside sever_backlog's subtransaction of one statement: no further */
	if (event == SUBXACT_EVENT_ABORT_SUB || event == SUBXACT_EVENT_COMMIT_SUB)
	{
		skip_relid = InvalidOid;
		backlog_relid = InvalidOid;
		copies_relid = InvalidOid;
	}
}

static void
register_skip_callbacks(void)
{
	if (!skip_callbacks)
	{
		RegisterXactCallback(skip_xact_callback, NULL);
		RegisterSubXactCallback(skip_subxact_callback, NULL);
		skip_callbacks = true;
	}
}

/*
 * pals_privacy._skip_placeholder_check(relation regclass): the next
 * statement this backend starts leaves the foreign-key check of the patron
 * column out of its update of relation (a relation of a loan binding with
 * sever_with 'patron:<id>'), as a sever does (see the top of this file):
 * for sever_backlog's statement that re-points the rows of a batch to the
 * placeholder.  One statement only (the first that writes to relation);
 * forgotten at the end of the (sub)transaction.
 */
Datum
pals_privacy_skip_placeholder_check(PG_FUNCTION_ARGS)
{
	register_skip_callbacks();
	skip_relid = PG_GETARG_OID(0);
	PG_RETURN_VOID();
}

/*
 * pals_privacy._backlog_copies_in_statement(relation regclass, copies oid[]):
 * the next statement this backend starts that writes to relation is
 * sever_backlog's statement of one batch.  Its rows are not their items'
 * last borrowers (the walk passed over those): the tombstone trigger
 * (tombstone.c) is left out of its update or delete of relation.  It severs
 * the derived copies of the copy bindings listed (their relations) itself,
 * in a part of its own: the triggers that would sever them row by row
 * (_sever_copies with one of those copies as its first argument) are left
 * out too.  The triggers of any other copy binding, and every other
 * trigger, still fire.  One statement only; forgotten at the end of the
 * (sub)transaction.  A superuser or the extension's owner only (the
 * function's EXECUTE is theirs too): a session that armed it could delete
 * or re-open an item's last borrower without leaving a tombstone.
 */
Datum
pals_privacy_backlog_copies_in_statement(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (!superuser() && !is_member_of_role(GetUserId(), pals_registry()->extension_owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s", "_backlog_copies_in_statement"),
				 errdetail("Role %s is neither a superuser nor the owner of extension pals_privacy.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("It is sever_backlog()'s own; call sever_backlog() as a database administrator.")));
	deconstruct_array(a, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &nulls, &n);
	register_skip_callbacks();
	if (n > copies_max)
	{
		copies_oids = copies_oids == NULL
			? MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * n)
			: repalloc(copies_oids, sizeof(Oid) * n);
		copies_max = n;
	}
	copies_count = 0;
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			copies_oids[copies_count++] = DatumGetObjectId(elems[i]);
	copies_relid = copies_count > 0 ? PG_GETARG_OID(0) : InvalidOid;
	backlog_relid = PG_GETARG_OID(0);
	PG_RETURN_VOID();
}

/* Leave out of rri the copy triggers of the copies armed (see above). */
static void
leave_out_copy_triggers(EState *estate, ResultRelInfo *rri)
{
	TriggerDesc *td = rri->ri_TrigDesc;
	bool	   *mask;
	bool		any = false;

	if (td == NULL)
		return;
	mask = palloc0(sizeof(bool) * Max(td->numtriggers, 1));
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		Oid			copy;

		if (!TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_AFTER(t->tgtype) || t->tgnargs < 1 ||
			strncmp(t->tgname, "pals_privacy_copy_", 18) != 0 ||
			!is_own_function(t->tgfoid, "pals_privacy_sever_copies"))
			continue;
		copy = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(t->tgargs[0])));
		for (int k = 0; k < copies_count; k++)
			if (copies_oids[k] == copy)
				mask[i] = any = true;
	}
	if (any)
		rri_without(estate, rri, mask);
	pfree(mask);
}

/*
 * After a statement's executor has started (hooks.c): if it is the first
 * since _skip_placeholder_check() that writes to that relation, leave the
 * check out of its update of it, when the guard allows
 * (pals_placeholder_skip_fk_check); that uses the arming up.
 */
void
pals_placeholder_executor_start(QueryDesc *qd)
{
	ListCell   *lc;

	if ((!OidIsValid(skip_relid) && !OidIsValid(copies_relid) && !OidIsValid(backlog_relid)) ||
		qd->estate == NULL)
		return;
	foreach(lc, qd->estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);
		Oid			relid = RelationGetRelid(rri->ri_RelationDesc);
		const LoanBinding *b;
		AttrNumber	attno;
		AttrNumber	attnos[1 + PALS_MAX_MORE_PATRONS];
		int			n;

		if (relid == backlog_relid)
		{
			backlog_relid = InvalidOid;
			pals_leave_out_own_triggers(qd->estate, rri, PALS_LEAVE_OUT_TOMBSTONE);
		}
		if (relid == copies_relid)
		{
			copies_relid = InvalidOid;
			leave_out_copy_triggers(qd->estate, rri);
		}
		if (relid != skip_relid)
			continue;
		skip_relid = InvalidOid;
		b = pals_loan_binding_for(relid);
		if (b == NULL || b->sever_with != SEVER_PLACEHOLDER)
			return;
		/*
		 * the patron column and more_patron_columns: the statement sets
		 * them all (a column gone: every check runs)
		 */
		n = 0;
		for (int i = 0; i <= b->nmore; i++)
		{
			attno = get_attnum(relid, i == 0 ? b->patron_column : b->more_patron_columns[i - 1]);
			if (attno != InvalidAttrNumber)
				attnos[n++] = attno;
		}
		if (n == 1 + b->nmore)
			pals_placeholder_skip_fk_check(qd->estate, rri, n, attnos, b->placeholder);
		/*
		 * The severing trigger does nothing for a row re-pointed to the
		 * placeholder (and a row that does not end so undoes the
		 * statement): its events are not queued either.
		 */
		pals_leave_out_own_triggers(qd->estate, rri, PALS_LEAVE_OUT_SEVER);
		return;
	}
}
