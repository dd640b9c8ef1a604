/*
 * sever.c
 *     Severing: when a loan-like row closes, the same transaction cuts the
 *     patron from the item's earlier closed, settled rows, so that each item
 *     keeps one identified closed row, its last borrower.
 *
 *     The last borrower of each item is tracked in pals_privacy.last_borrower
 *     (binding, item -> relation and TID of the row), so a return touches one
 *     earlier row instead of searching the item's whole history.  The tracker
 *     row is locked FOR UPDATE by every return or settlement of that item,
 *     which serialises them and keeps the tracker true under concurrency.  A
 *     stale entry (the row moved or vanished: VACUUM FULL, a cross-partition
 *     update, a delete) is detected by probing the row, and the item is then
 *     searched once.
 *
 *     A row that cannot be severed (an error from a foreign key, a trigger of
 *     the ILS, ...) never fails the return: the attempt runs in a
 *     subtransaction and the row is recorded in pals_privacy.sever_pending
 *     for the maintenance pass.
 */
#include "pals_privacy.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "access/heapam.h"
#include "access/multixact.h"
#include "storage/procarray.h"
#include "storage/bufmgr.h"
#include "utils/snapmgr.h"
#include "utils/datum.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "access/genam.h"
#include "utils/fmgroids.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "access/sysattr.h"
#include "access/relation.h"

PG_FUNCTION_INFO_V1(pals_privacy_sever_row);
PG_FUNCTION_INFO_V1(pals_privacy_sever_one);

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

/* Per relation that holds rows (the bound table, a partition or a child). */
typedef struct RelSever
{
	Oid			relid;			/* hash key */
	const LoanBinding *binding;
	AttrNumber	patron_attno;
	AttrNumber	item_attno;
	AttrNumber	settled_attno;	/* InvalidAttrNumber: always settled */
	AttrNumber	closed_attnos[PALS_MAX_CLOSED];
	Oid			patron_type;
	Oid			item_type;
	FmgrInfo	item_out;
	FmgrInfo	patron_out;
	bool		patron_byval;
	int16		patron_len;
	Oid			closed_type;	/* type of the closed columns */
	bool		closed_byval;
	int16		closed_len;
	FmgrInfo	closed_cmp;		/* its btree comparison */
	Oid			closed_collation;
	SPIPlanPtr	probe;
	SPIPlanPtr	lock;
	Datum		placeholder;	/* the placeholder patron (SEVER_PLACEHOLDER) */
	Oid			patron_index;	/* unique index on the patron table's id, or 0 */
	RegProcedure patron_eq;		/* its equality function */
	AttrNumber	keep_history_attno; /* of the patron table */
	SPIPlanPtr	copy;
	SPIPlanPtr	search;			/* only on the bound relation itself */
	SPIPlanPtr	optin;			/* patron's keep-history flag, or NULL */
	ExprState  *closed_state;	/* closed_when, or NULL: a closed column set */
	ExprState  *settled_state;	/* settled_when, or NULL: settled_column */
	ExprContext *econtext;		/* to evaluate them on a tuple */
	TupleTableSlot *slot;
} RelSever;

static MemoryContext sever_context = NULL;
static HTAB *rel_severs = NULL;
static uint64 rel_severs_generation = 0;

/* plans on the extension's own tables */
static SPIPlanPtr plan_tracker_set = NULL;
static SPIPlanPtr plan_tracker_claim = NULL;
static SPIPlanPtr plan_pending = NULL;


/* > 0 while we are severing: our own updates must not re-enter */
static int	sever_depth = 0;


/* The saved plans of a retired severing state, freed with it at the end of the transaction. */
typedef struct RetiredPlans
{
	MemoryContextCallback callback;
	int			nplans;
	SPIPlanPtr	plans[FLEXIBLE_ARRAY_MEMBER];
} RetiredPlans;

static void
free_retired_plans(void *arg)
{
	RetiredPlans *r = (RetiredPlans *) arg;

	for (int i = 0; i < r->nplans; i++)
		SPI_freeplan(r->plans[i]);
}

/*
 * Forget the per-relation state (the registry changed).  A return under way
 * may hold pointers into it (search_item() calls rel_sever() once per
 * partition), so it is retired with pals_retire_context(), its saved plans
 * freed by a callback when the memory goes.
 */
static void
free_rel_severs(void)
{
	HASH_SEQ_STATUS status;
	RelSever   *rs;
	RetiredPlans *r;

	if (rel_severs == NULL)
		return;
	r = MemoryContextAllocZero(sever_context, offsetof(RetiredPlans, plans) +
							   5 * hash_get_num_entries(rel_severs) * sizeof(SPIPlanPtr));
	hash_seq_init(&status, rel_severs);
	while ((rs = hash_seq_search(&status)) != NULL)
	{
		SPIPlanPtr	plans[] = {rs->probe, rs->lock, rs->copy, rs->search, rs->optin};

		for (int i = 0; i < (int) lengthof(plans); i++)
			if (plans[i] != NULL)
				r->plans[r->nplans++] = plans[i];
	}
	r->callback.func = free_retired_plans;
	r->callback.arg = r;
	MemoryContextRegisterResetCallback(sever_context, &r->callback);
	pals_retire_context(sever_context);
	sever_context = NULL;		/* rel_sever() makes a new one */
	rel_severs = NULL;
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static AttrNumber
required_attnum(Oid relid, const char *name)
{
	AttrNumber	attno = get_attnum(relid, name);

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of bound relation \"%s\" does not exist",
						name, get_rel_name(relid)),
				 errhint("Re-bind the relation with pals_privacy.unbind() and bind_loans().")));
	return attno;
}

/* SQL boolean expressions over a row alias "t" of the relation relid. */
static void
append_closed(StringInfo sql, const LoanBinding *b, Oid relid)
{
	if (b->closed_when)
	{
		appendStringInfoString(sql, pals_loan_condition_sql(b, true, relid, "t"));
		return;
	}
	appendStringInfoChar(sql, '(');
	for (int i = 0; i < b->nclosed; i++)
		appendStringInfo(sql, "%st.%s IS NOT NULL", i ? " OR " : "",
						 quote_identifier(b->closed_columns[i]));
	appendStringInfoChar(sql, ')');
}

static void
append_settled(StringInfo sql, const LoanBinding *b, Oid relid)
{
	if (b->settled_when)
		appendStringInfoString(sql, pals_loan_condition_sql(b, false, relid, "t"));
	else if (b->settled_column)
		appendStringInfo(sql, "(t.%s IS NOT NULL)", quote_identifier(b->settled_column));
	else
		appendStringInfoString(sql, "true");
}

static void
append_identified(StringInfo sql, const LoanBinding *b)
{
	const char *p = quote_identifier(b->patron_column);

	if (b->sever_with == SEVER_PLACEHOLDER)
		appendStringInfo(sql, "(t.%s IS NOT NULL AND t.%s::text <> %s)", p, p,
						 quote_literal_cstr(b->placeholder));
	else
		appendStringInfo(sql, "(t.%s IS NOT NULL)", p);
}

/* The closed value that orders an item's rows: the greatest closed column. */
static void
append_closed_value(StringInfo sql, const LoanBinding *b)
{
	if (b->nclosed == 1)
	{
		appendStringInfo(sql, "t.%s", quote_identifier(b->closed_columns[0]));
		return;
	}
	appendStringInfoString(sql, "GREATEST(");
	for (int i = 0; i < b->nclosed; i++)
		appendStringInfo(sql, "%st.%s", i ? ", " : "", quote_identifier(b->closed_columns[i]));
	appendStringInfoChar(sql, ')');
}

/* Prepare the statements that act on one row of a relation, by TID. */
static void
prepare_rel_plans(RelSever *rs)
{
	const LoanBinding *b = rs->binding;
	const PalsRegistry *reg = pals_registry();
	char	   *rel = qualified_name(rs->relid);
	const char *pcol = quote_identifier(b->patron_column);
	const char *icol = quote_identifier(b->item_column);
	Oid			tidtype[2] = {TIDOID, REGCLASSOID};
	StringInfoData sql;
	StringInfoData probe;

	/* item, closed, settled, identified, patron, closed value, patron opted in */
	initStringInfo(&probe);
	appendStringInfo(&probe, "SELECT t.%s::text, ", icol);
	append_closed(&probe, b, rs->relid);
	appendStringInfoString(&probe, ", ");
	append_settled(&probe, b, rs->relid);
	appendStringInfoString(&probe, ", ");
	append_identified(&probe, b);
	appendStringInfo(&probe, ", t.%s, ", pcol);
	append_closed_value(&probe, b);
	if (reg->patrons && reg->patrons->keep_history_column)
		appendStringInfo(&probe, ", (SELECT p.%s FROM %s p WHERE p.%s = t.%s)",
						 quote_identifier(reg->patrons->keep_history_column),
						 qualified_name(reg->patrons->relid),
						 quote_identifier(reg->patrons->id_column), pcol);
	else
		appendStringInfoString(&probe, ", false");
	appendStringInfo(&probe, " FROM ONLY %s t WHERE t.ctid = $1", rel);
	rs->probe = pals_prepare_saved(probe.data, 1, tidtype);

	/* the same, locking the row, but never waiting for another transaction */
	initStringInfo(&sql);
	appendStringInfo(&sql, "%s FOR %s OF t SKIP LOCKED", probe.data,
					 b->sever_with == SEVER_DELETE ? "UPDATE" : "NO KEY UPDATE");
	rs->lock = pals_prepare_saved(sql.data, 1, tidtype);

	if (reg->patrons && reg->patrons->keep_history_column)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO pals_privacy.private_history (patron, relation, item, row_data) "
						 "SELECT t.%s::text, $2, t.%s::text, to_jsonb(t) FROM ONLY %s t WHERE t.ctid = $1",
						 pcol, icol, rel);
		rs->copy = pals_prepare_saved(sql.data, 2, tidtype);

		resetStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s FROM %s WHERE %s = $1",
						 quote_identifier(reg->patrons->keep_history_column),
						 qualified_name(reg->patrons->relid),
						 quote_identifier(reg->patrons->id_column));
		rs->optin = pals_prepare_saved(sql.data, 1, &rs->patron_type);
	}

	if (rs->relid == b->relid)
	{
		/* every closed, identified row of an item: relation, TID, closed value, settled */
		resetStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT t.tableoid, t.ctid, ");
		append_closed_value(&sql, b);
		appendStringInfoString(&sql, ", ");
		append_settled(&sql, b, rs->relid);
		appendStringInfo(&sql, " FROM %s t WHERE t.%s = $1 AND ", rel, icol);
		append_closed(&sql, b, rs->relid);
		appendStringInfoString(&sql, " AND ");
		append_identified(&sql, b);
		rs->search = pals_prepare_saved(sql.data, 1, &rs->item_type);
	}
	pfree(sql.data);
	pfree(probe.data);
}

static void
prepare_tracker_plans(void)
{
	Oid			get_types[2] = {OIDOID, TEXTOID};
	Oid			set_types[4] = {OIDOID, TEXTOID, OIDOID, TIDOID};
	Oid			pending_types[5] = {OIDOID, OIDOID, TIDOID, TEXTOID, TEXTOID};

	if (plan_tracker_set != NULL)
		return;
	plan_tracker_set = pals_prepare_saved(
		"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (binding, item) DO UPDATE"
		" SET row_relid = EXCLUDED.row_relid, row_tid = EXCLUDED.row_tid", 4, set_types);
	plan_tracker_claim = pals_prepare_saved(
		"INSERT INTO pals_privacy.last_borrower (binding, item, row_relid, row_tid)"
		" VALUES ($1, $2, 0, '(0,0)') ON CONFLICT (binding, item) DO NOTHING", 2, get_types);
	plan_pending = pals_prepare_saved(
		"INSERT INTO pals_privacy.sever_pending (binding, row_relid, row_tid, item, reason)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (binding, row_relid, row_tid) DO UPDATE"
		" SET reason = EXCLUDED.reason, attempts = sever_pending.attempts + 1,"
		" last_attempt = now()", 5, pending_types);
}

/*
 * A unique btree index on the patron table's id alone, for the opt-in
 * lookup at every sever (left unset, the lookup goes through SQL).
 */
static void
find_patron_index(RelSever *rs)
{
	const PatronBinding *p = pals_registry()->patrons;
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	AttrNumber	id_attno;

	rs->patron_index = InvalidOid;
	if (p == NULL || p->keep_history_column == NULL)
		return;
	id_attno = required_attnum(p->relid, p->id_column);
	rs->keep_history_attno = required_attnum(p->relid, p->keep_history_column);
	rel = table_open(p->relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ind = index->rd_index;

		if (index->rd_rel->relam == BTREE_AM_OID && ind->indisunique && ind->indisvalid &&
			ind->indnkeyatts == 1 && ind->indkey.values[0] == id_attno &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			index->rd_opcintype[0] == rs->patron_type)
		{
			Oid			op = get_opfamily_member(index->rd_opfamily[0], rs->patron_type,
												 rs->patron_type, BTEqualStrategyNumber);

			if (OidIsValid(op))
			{
				rs->patron_index = RelationGetRelid(index);
				rs->patron_eq = get_opcode(op);
			}
		}
		index_close(index, AccessShareLock);
		if (OidIsValid(rs->patron_index))
			break;
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
}

/*
 * Severing state of a relation that holds loan rows, or NULL if no loan
 * binding covers it.  Rebuilt whenever the registry changes.
 */
static RelSever *
rel_sever(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	const LoanBinding *b;
	RelSever   *rs;
	bool		found;
	MemoryContext old;
	Oid			outfunc;
	bool		isvarlena;

	if (rel_severs != NULL && rel_severs_generation != reg->generation)
		free_rel_severs();
	if (rel_severs == NULL)
	{
		HASHCTL		ctl;

		if (sever_context == NULL)
			sever_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy sever",
												  ALLOCSET_SMALL_SIZES);
		MemoryContextReset(sever_context);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelSever);
		ctl.hcxt = sever_context;
		rel_severs = hash_create("pals_privacy severing", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		rel_severs_generation = reg->generation;
	}
	rs = hash_search(rel_severs, &relid, HASH_FIND, NULL);
	if (rs != NULL)
		return rs->binding ? rs : NULL;

	b = pals_loan_binding_for(relid);
	old = MemoryContextSwitchTo(sever_context);
	rs = hash_search(rel_severs, &relid, HASH_ENTER, &found);
	memset(((char *) rs) + sizeof(Oid), 0, sizeof(RelSever) - sizeof(Oid));
	if (b == NULL)
	{
		MemoryContextSwitchTo(old);
		return NULL;
	}
	PG_TRY();
	{
		rs->binding = NULL;		/* set once everything below succeeded */
		rs->patron_attno = required_attnum(relid, b->patron_column);
		rs->item_attno = required_attnum(relid, b->item_column);
		rs->settled_attno = b->settled_column ? required_attnum(relid, b->settled_column)
			: InvalidAttrNumber;
		for (int i = 0; i < b->nclosed; i++)
			rs->closed_attnos[i] = required_attnum(relid, b->closed_columns[i]);
		rs->patron_type = get_atttype(relid, rs->patron_attno);
		rs->item_type = get_atttype(relid, rs->item_attno);
		getTypeOutputInfo(rs->item_type, &outfunc, &isvarlena);
		fmgr_info_cxt(outfunc, &rs->item_out, sever_context);
		getTypeOutputInfo(rs->patron_type, &outfunc, &isvarlena);
		fmgr_info_cxt(outfunc, &rs->patron_out, sever_context);
		get_typlenbyval(rs->patron_type, &rs->patron_len, &rs->patron_byval);
		{
			Oid			closed_type = get_atttype(relid, rs->closed_attnos[0]);
			TypeCacheEntry *tc = lookup_type_cache(closed_type, TYPECACHE_CMP_PROC_FINFO);

			if (!OidIsValid(tc->cmp_proc))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FUNCTION),
						 errmsg("closed columns of \"%s\" have type %s, which has no ordering",
								get_rel_name(relid), format_type_be(closed_type))));
			fmgr_info_cxt(tc->cmp_proc, &rs->closed_cmp, sever_context);
			get_typlenbyval(closed_type, &rs->closed_len, &rs->closed_byval);
			rs->closed_type = closed_type;
			rs->closed_collation = get_typcollation(closed_type);
		}
		if (b->sever_with == SEVER_PLACEHOLDER)
		{
			Oid			typinput,
						typioparam;

			getTypeInputInfo(rs->patron_type, &typinput, &typioparam);
			rs->placeholder = datumCopy(OidInputFunctionCall(typinput, b->placeholder, typioparam, -1),
										rs->patron_byval, rs->patron_len);
		}
		if (b->closed_when || b->settled_when)
		{
			Relation	rel = relation_open(relid, AccessShareLock);
			Expr	   *closed = pals_loan_condition(b, true, relid, 1);
			Expr	   *settled = pals_loan_condition(b, false, relid, 1);

			rs->closed_state = closed ? ExecInitExpr(closed, NULL) : NULL;
			rs->settled_state = settled ? ExecInitExpr(settled, NULL) : NULL;
			rs->econtext = CreateStandaloneExprContext();
			rs->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
												&TTSOpsHeapTuple);
			relation_close(rel, AccessShareLock);
		}
		rs->binding = b;
		find_patron_index(rs);
		prepare_rel_plans(rs);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		hash_search(rel_severs, &relid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return rs;
}

/* The severing state of a relation if it is already built (no set-up). */
static RelSever *
rel_sever_known(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	RelSever   *rs;

	if (rel_severs == NULL || rel_severs_generation != reg->generation)
		return NULL;
	rs = hash_search(rel_severs, &relid, HASH_FIND, NULL);
	return rs != NULL && rs->binding != NULL ? rs : NULL;
}


/* A condition (closed_when, settled_when) on a row; NULL counts as false. */
static bool
eval_condition(const RelSever *rs, ExprState *state, HeapTuple tup)
{
	bool		isnull;
	Datum		d;

	ExecStoreHeapTuple(tup, rs->slot, false);
	rs->econtext->ecxt_scantuple = rs->slot;
	d = ExecEvalExprSwitchContext(state, rs->econtext, &isnull);
	ResetExprContext(rs->econtext);
	ExecClearTuple(rs->slot);
	return !isnull && DatumGetBool(d);
}

static bool
tuple_closed(const RelSever *rs, HeapTuple tup, TupleDesc desc)
{
	if (rs->closed_state)
		return eval_condition(rs, rs->closed_state, tup);
	for (int i = 0; i < rs->binding->nclosed; i++)
		if (!heap_attisnull(tup, rs->closed_attnos[i], desc))
			return true;
	return false;
}

static bool
tuple_identified(RelSever *rs, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		v = heap_getattr(tup, rs->patron_attno, desc, &isnull);

	if (isnull)
		return false;
	if (rs->binding->sever_with == SEVER_PLACEHOLDER)
		return strcmp(OutputFunctionCall(&rs->patron_out, v), rs->binding->placeholder) != 0;
	return true;
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
} RowState;

static bool
spi_bool(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* true if a closed later than b (a and b closed rows of the same binding) */
static bool
closed_after(RelSever *rs, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(&rs->closed_cmp, rs->closed_collation, a, b)) > 0;
}

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
		if (!st->closed || closed_after(rs, d, st->closed_value))
			st->closed_value = d;
		st->closed = true;
	}
	if (st->closed && rs->closed_state)
		st->closed = eval_condition(rs, rs->closed_state, tup);
	if (rs->settled_state)
		st->settled = eval_condition(rs, rs->settled_state, tup);
	else
		st->settled = rs->settled_attno == InvalidAttrNumber ||
			!heap_attisnull(tup, rs->settled_attno, desc);
	st->identified = tuple_identified(rs, tup, desc);
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
	HeapTupleData fetched;
	Buffer		buffer;
	bool		current;

	fetched.t_self = tup->t_self;
	current = heap_fetch(rel, SnapshotSelf, &fetched, &buffer, false);
	if (BufferIsValid(buffer))
		ReleaseBuffer(buffer);
	memset(st, 0, sizeof(RowState));
	if (!current)
		return false;
	read_row(rs, tup, RelationGetDescr(rel), st);
	return true;
}

/* Has the patron of this loan row opted in to keeping their history? */
static bool
patron_opted_in(RelSever *rs, Datum patron)
{
	const PatronBinding *p = pals_registry()->patrons;
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;
	Snapshot	snap;
	bool		optin = false;
	bool		isnull;

	if (rs->optin == NULL)
		return false;
	if (!OidIsValid(rs->patron_index))
	{
		int			nestlevel = pals_safe_search_path();

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
	scan = pals_index_beginscan(rel, index, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Datum		d = slot_getattr(slot, rs->keep_history_attno, &isnull);

		optin = !isnull && DatumGetBool(d);
	}
	index_endscan(scan);
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
	{
		Datum		values[2] = {ItemPointerGetDatum(tid), ObjectIdGetDatum(rs->binding->relid)};

		pals_execute_as(pals_registry()->extension_owner, rs->copy, values, NULL);
	}
	return false;
}

static SeverResult sever_guarded(RelSever *rs, Oid relid, ItemPointer tid, RowState *st,
								 const char *item, Datum upto);

/*
 * Sever a row already read (and locked, or ours) if it is closed, settled
 * and identified.  A failure never escapes: the row is recorded as pending.
 */
static SeverResult
sever_probed(RelSever *rs, Oid relid, ItemPointer tid, RowState *st)
{
	if (!st->found)
		return SEVER_GONE;
	if (!st->closed || !st->settled || !st->identified)
		return SEVER_NOT_ELIGIBLE;
	return sever_guarded(rs, relid, tid, st, st->item, st->closed_value);
}

/*
 * What a statement starting now would see (the transaction's snapshot under
 * REPEATABLE READ and SERIALIZABLE), with this command's own changes; a
 * registered copy, for UnregisterSnapshot.
 */
static Snapshot
statement_snapshot(void)
{
	Snapshot	snap;

	PushCopiedSnapshot(IsolationUsesXactSnapshot() ? GetTransactionSnapshot() : GetLatestSnapshot());
	UpdateActiveSnapshotCommandId();
	snap = RegisterSnapshot(GetActiveSnapshot());
	PopActiveSnapshot();
	return snap;
}

/*
 * A change to one relation made through the executor without SQL, as an
 * UPDATE of a row would make it: constraints, indexes, and (with triggers)
 * the table's row triggers, whose AFTER events fire at direct_end.  No
 * permission is checked: the extension decides these changes.
 */
typedef struct DirectWrite
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epqstate;
	bool		triggers;
} DirectWrite;

static void
direct_begin(DirectWrite *w, Oid relid, AclMode perms, AttrNumber updated, bool triggers)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	Bitmapset  *cols = updated != InvalidAttrNumber ?
		bms_make_singleton(updated - FirstLowInvalidHeapAttributeNumber) : NULL;

	w->rel = table_open(relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	w->triggers = triggers;
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	pals_init_range_table(w->estate, rte, perms, cols);	/* cols: for UPDATE OF triggers */
	CommandCounterIncrement();	/* like a statement of its own: earlier changes are seen */
	w->estate->es_output_cid = GetCurrentCommandId(true);
	w->estate->es_snapshot = GetActiveSnapshot();
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	/* where the trigger machinery looks for it (else it opens the table again) */
	w->estate->es_opened_result_relations = list_make1(w->rri);
	ExecOpenIndices(w->rri, false);
	pals_epq_init(&w->epqstate, w->estate, NULL, NIL, -1);
	if (triggers)
		AfterTriggerBeginQuery();
}

static TupleTableSlot *
direct_slot(DirectWrite *w)
{
	return table_slot_create(w->rel, &w->estate->es_tupleTable);
}

/* A copy of a row with the given columns changed, for an update. */
static TupleTableSlot *
direct_changed(DirectWrite *w, TupleTableSlot *old, int ncols, AttrNumber *attnos,
			   Datum *values, bool *nulls)
{
	TupleTableSlot *new = direct_slot(w);
	int			natts = RelationGetDescr(w->rel)->natts;

	slot_getallattrs(old);
	ExecClearTuple(new);
	memcpy(new->tts_values, old->tts_values, sizeof(Datum) * natts);
	memcpy(new->tts_isnull, old->tts_isnull, sizeof(bool) * natts);
	for (int i = 0; i < ncols; i++)
	{
		new->tts_values[attnos[i] - 1] = values[i];
		new->tts_isnull[attnos[i] - 1] = nulls[i];
	}
	return ExecStoreVirtualTuple(new);
}

static void
direct_end(DirectWrite *w)
{
	if (w->triggers)
		AfterTriggerEndQuery(w->estate);
	EvalPlanQualEnd(&w->epqstate);
	ExecCloseResultRelations(w->estate);	/* its indexes, and relations the triggers opened */
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
}

/* Two rows' items are the same (a row without an item matches only another one). */
static bool
same_item(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL;
	return strcmp(a, b) == 0;
}

/* The patron column of a row in a slot is set and not the placeholder. */
static bool
slot_identified(RelSever *rs, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		v = slot_getattr(slot, rs->patron_attno, &isnull);

	if (isnull)
		return false;
	if (rs->binding->sever_with == SEVER_PLACEHOLDER)
		return strcmp(OutputFunctionCall(&rs->patron_out, v), rs->binding->placeholder) != 0;
	return true;
}

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

	direct_begin(&w, relid, b->sever_with == SEVER_DELETE ? ACL_DELETE : ACL_UPDATE,
				 b->sever_with == SEVER_DELETE ? InvalidAttrNumber : rs->patron_attno, true);
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
	check = direct_slot(&w);
	if (!table_tuple_fetch_row_version(w.rel, tid, SnapshotAny, check))
		goto done;

	/*
	 * Lock the row without waiting: a row another transaction holds (a
	 * payment settling it, say) is left to the caller, which records it as
	 * pending, so a return never waits for it and cannot deadlock with it.
	 */
	old = direct_slot(&w);
	res = table_tuple_lock(w.rel, tid, w.estate->es_snapshot, old, w.estate->es_output_cid,
						   b->sever_with == SEVER_DELETE ? LockTupleExclusive : LockTupleNoKeyExclusive,
						   LockWaitSkip, 0, &tmfd);
	if (res != TM_Ok)
		goto done;				/* busy, gone or moved */
	snap = statement_snapshot();
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
		!st.closed || closed_after(rs, st.closed_value, upto) || !st.settled || !st.identified)
		goto done;
	if (check_optin && patron_opted_in(rs, st.patron))
		goto done;

	pals_stats_record(b, rs->patron_type, st.patron, st.item, rs->closed_type, st.closed_value, !st.closed);
	if (b->sever_with == SEVER_DELETE)
		ExecSimpleRelationDelete(w.rri, w.estate, &w.epqstate, old);
	else
	{
		bool		null = b->sever_with != SEVER_PLACEHOLDER;
		TupleTableSlot *new = direct_changed(&w, old, 1, &rs->patron_attno, &rs->placeholder, &null);

		/*
		 * see placeholder_guard.c: the foreign-key check of a guarded
		 * placeholder is left out (a BEFORE trigger that put another
		 * patron in is refused just below, so the row gets the placeholder
		 * or nothing)
		 */
		if (!null)
			pals_placeholder_skip_fk_check(w.estate, w.rri, rs->patron_attno, b->placeholder);
		ExecSimpleRelationUpdate(w.rri, w.estate, &w.epqstate, old, new);
		/* a BEFORE UPDATE trigger of the ILS may have put the patron back */
		if (!TTS_EMPTY(new) && slot_identified(rs, new))
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
	if (table_tuple_fetch_row_version(w.rel, tid, SnapshotSelf, direct_slot(&w)))
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
	direct_end(&w);
	return result;
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
 * history of a patron who opted in is copied or kept first; without,
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
			  const char *item, Datum upto)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile SeverResult result = SEVER_DONE;

	pals_suspend_safe_search_path();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		bool		kept = false;

		if (st != NULL)
		{
			int			nestlevel = pals_safe_search_path();

			kept = apply_history_optin(rs, tid, st);
			pals_restore_search_path(nestlevel);
		}
		if (kept)
			result = SEVER_KEPT;
		else
			result = sever_direct(rs, relid, tid, item, upto, st == NULL);
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
		nestlevel = pals_safe_search_path();
		record_pending(rs, relid, tid, item, edata->message);
		pals_restore_search_path(nestlevel);
		FreeErrorData(edata);
		result = SEVER_PENDING;
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
sever_other(RelSever *rs, Oid relid, ItemPointer tid, const char *item)
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
	return sever_probed(rs, relid, tid, &st);
}

/*
 * The item has no tracker row yet: create one (pointing nowhere) so that it
 * can be locked.  A concurrent first return of the same item waits here for
 * this one to commit, then sees what it decided.
 */
static void
tracker_claim(const LoanBinding *b, const char *item)
{
	Datum		values[2] = {ObjectIdGetDatum(b->relid), CStringGetTextDatum(item)};

	pals_execute_as(pals_registry()->extension_owner, plan_tracker_claim, values, NULL);
}

/* The item's tracker row as a statement starting now sees it; false if none. */
static bool
tracker_lookup(Relation rel, Oid key_index, Oid binding, const char *item, TupleTableSlot *slot)
{
	Relation	index = index_open(key_index, RowExclusiveLock);
	Snapshot	snap = statement_snapshot();
	IndexScanDesc scan = pals_index_beginscan(rel, index, snap, 2, 0);
	ScanKeyData key[2];
	bool		found;

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(binding));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(item));
	key[1].sk_collation = index->rd_indcollation[1];
	index_rescan(scan, key, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
		ExecMaterializeSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(index, NoLock);
	return found;
}

/*
 * Point the item's tracker row at the given row (which locks it until the end
 * of the transaction) and return where it pointed before; false if the item
 * has no tracker row.  Under concurrency the UPDATE waits and re-reads the
 * row, so the previous pointer is always the latest committed one.
 */
static bool
tracker_swap(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid,
			 Oid *old_relid, ItemPointer old_tid)
{
	DirectWrite w;
	TupleTableSlot *row;
	bool		found;
	Oid			tracker;
	Oid			tracker_key;

	pals_tracker(&tracker, &tracker_key);
	direct_begin(&w, tracker, ACL_UPDATE, InvalidAttrNumber, false);
	row = direct_slot(&w);
	for (;;)
	{
		AttrNumber	cols[2] = {3, 4};	/* row_relid, row_tid */
		Datum		values[2] = {ObjectIdGetDatum(relid), ItemPointerGetDatum(tid)};
		bool		nulls[2] = {false, false};
		bool		isnull;
		TupleTableSlot *new;
		TM_FailureData tmfd;
		LockTupleMode lockmode;
		PalsUpdateIndexes update_indexes;
		TM_Result	res;

		found = tracker_lookup(w.rel, tracker_key, b->relid, item, row);
		if (!found)
			break;
		*old_relid = DatumGetObjectId(slot_getattr(row, 3, &isnull));
		*old_tid = *DatumGetItemPointer(slot_getattr(row, 4, &isnull));
		new = direct_changed(&w, row, 2, cols, values, nulls);
		/* waits for a concurrent return of the item; then reads its outcome */
		res = table_tuple_update(w.rel, &row->tts_tid, new, w.estate->es_output_cid,
								 w.estate->es_snapshot, InvalidSnapshot, true,
								 &tmfd, &lockmode, &update_indexes);
		if (res == TM_Ok)
		{
			if (pals_update_needs_indexes(update_indexes))
				list_free(pals_insert_index_tuples(w.rri, new, w.estate, true, false, NULL, NIL,
												   update_indexes));
			break;
		}
		if (res != TM_Updated && res != TM_Deleted)
			elog(ERROR, "pals_privacy: unexpected result %d updating the tracker", (int) res);
		/* as an UPDATE statement would: read committed follows, others fail */
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
	}
	direct_end(&w);
	return found;
}

static void
tracker_set(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid)
{
	Datum		values[4] = {ObjectIdGetDatum(b->relid), CStringGetTextDatum(item),
	ObjectIdGetDatum(relid), ItemPointerGetDatum(tid)};

	pals_execute_as(pals_registry()->extension_owner, plan_tracker_set, values, NULL);
}

/*
 * No trustworthy tracker entry for the item: search its closed, identified
 * rows once, keep the latest to close (row n wins ties), sever the settled
 * others, and track the latest.
 */
static void
search_item(RelSever *rs, Oid relid, ItemPointer tid, RowState *n, Datum item,
			const char *item_text)
{
	const LoanBinding *b = rs->binding;
	RelSever   *bound = rel_sever(b->relid);
	RelSever   *last_rs = rs;
	uint64		count;
	Oid		   *relids;
	ItemPointerData *tids;
	Datum	   *closed;
	bool	   *settled;
	Oid			last_relid = relid;
	ItemPointerData last_tid = *tid;
	Datum		last_closed = n->closed_value;
	int			last = -1;

	pals_execute_as(pals_registry()->extension_owner, bound->search, &item, NULL);
	count = SPI_processed;
	relids = palloc(sizeof(Oid) * Max(count, 1));
	tids = palloc(sizeof(ItemPointerData) * Max(count, 1));
	closed = palloc(sizeof(Datum) * Max(count, 1));
	settled = palloc(sizeof(bool) * Max(count, 1));
	for (uint64 i = 0; i < count; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		relids[i] = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		tids[i] = *DatumGetItemPointer(SPI_getbinval(t, d, 2, &isnull));
		closed[i] = datumCopy(SPI_getbinval(t, d, 3, &isnull), rs->closed_byval, rs->closed_len);
		settled[i] = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	}
	for (uint64 i = 0; i < count; i++)
	{
		if (relids[i] == relid && ItemPointerEquals(&tids[i], tid))
			continue;
		if (closed_after(rs, closed[i], last_closed))
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

		if ((int) i == last || (relids[i] == relid && ItemPointerEquals(&tids[i], tid)) || !settled[i])
			continue;
		other = rel_sever(relids[i]);
		if (other != NULL)
			sever_other(other, relids[i], &tids[i], item_text);
	}
	if (last >= 0)
	{
		last_rs = rel_sever(last_relid);
		if (n->settled)
			sever_probed(rs, relid, tid, n);
	}
	if (last_rs != NULL)
		tracker_set(b, item_text, last_relid, &last_tid);
}

/*
 * Whether another transaction in progress holds a lock on (or is updating)
 * the row: then it must not be waited for.  Reads the tuple header only.
 */
static bool
row_locked_by_other(Oid relid, ItemPointer tid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	HeapTupleData tuple;
	Buffer		buffer = InvalidBuffer;
	bool		busy = false;

	tuple.t_self = *tid;
	/* a stale TID may name a block VACUUM truncated away */
	if (ItemPointerGetBlockNumber(tid) < RelationGetNumberOfBlocks(rel) &&
		heap_fetch(rel, SnapshotAny, &tuple, &buffer, true))
	{
		uint16		infomask;
		TransactionId xmax;

		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		infomask = tuple.t_data->t_infomask;
		xmax = HeapTupleHeaderGetRawXmax(tuple.t_data);
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		if (!(infomask & HEAP_XMAX_INVALID))
		{
			if (infomask & HEAP_XMAX_IS_MULTI)
				busy = MultiXactIdIsRunning(xmax, HEAP_XMAX_IS_LOCKED_ONLY(infomask));
			else
				busy = !TransactionIdIsCurrentTransactionId(xmax) &&
					TransactionIdIsInProgress(xmax);
		}
	}
	if (BufferIsValid(buffer))
		ReleaseBuffer(buffer);
	table_close(rel, AccessShareLock);
	return busy;
}

/*
 * A closed, identified row n was written (closed, settled, or otherwise
 * updated).  Decide who is the item's last borrower and sever the rest.
 * Usually n is the newest: the tracker is pointed at it at once, and the
 * previous last borrower p is locked (never waited for) and severed.
 */
static void
on_change(RelSever *rs, Relation rel, HeapTuple tup, ItemPointer old_tid,
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

	if (!tuple_state(rs, rel, tup, &n) || !n.closed || !n.identified)
		return;					/* changed again since, by this statement */
	/* a row without an item (a title-level hold) is no item's last borrower */
	if (!b->keep_last_borrower || n.item == NULL)
	{
		sever_probed(rs, relid, new_tid, &n);
		return;
	}
	if (!tracker_swap(b, n.item, relid, new_tid, &p_relid, &p_tid))
	{
		tracker_claim(b, n.item);
		if (!tracker_swap(b, n.item, relid, new_tid, &p_relid, &p_tid))
			elog(ERROR, "pals_privacy: tracker row of item %s vanished", n.item);
	}
	if (p_relid == relid && (ItemPointerEquals(&p_tid, new_tid) ||
							 (old_tid != NULL && ItemPointerEquals(&p_tid, old_tid))))
		return;					/* n was already the last borrower */

	prs = rel_sever(p_relid);
	if (prs != NULL && prs->binding == b)
	{
		/* common case: p is older, settled, not opted in, not busy: one statement */
		if (!row_locked_by_other(p_relid, &p_tid))
		{
			SeverResult r;

			r = sever_guarded(prs, p_relid, &p_tid, NULL, n.item, n.closed_value);
			if (r != SEVER_NOT_ELIGIBLE)
				return;
		}
		/* otherwise find out why, with the row locked if it can be */
		probe_row(prs, &p_tid, true, &p, &locked_elsewhere);
		if (locked_elsewhere)
			probe_row(prs, &p_tid, false, &p, NULL);
		if (p.found && p.closed && p.identified && same_item(p.item, n.item))
		{
			if (closed_after(rs, p.closed_value, n.closed_value))
			{
				/* n is an older row (a late or moved one): p stays the last */
				tracker_set(b, n.item, p_relid, &p_tid);
				sever_probed(rs, relid, new_tid, &n);
			}
			else if (p.settled && locked_elsewhere)
				record_pending(prs, p_relid, &p_tid, p.item, "row locked by another transaction");
			else if (p.settled)
				sever_probed(prs, p_relid, &p_tid, &p);
			return;
		}
	}
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
		RelSever   *known = rel_sever_known(relid);

		if (known != NULL && !tuple_identified(known, newtup, desc))
			return PointerGetDatum(NULL);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	/* a changed search_path re-parses saved plans: keep it safe while we run */
	nestlevel = pals_safe_search_path();
	sever_depth++;
	PG_TRY();
	{
		RelSever   *rs = rel_sever(relid);

		prepare_tracker_plans();
		if (rs != NULL && tuple_closed(rs, newtup, desc) && tuple_identified(rs, newtup, desc))
		{
			bool		isnull;
			Datum		item = heap_getattr(newtup, rs->item_attno, desc, &isnull);

			on_change(rs, td->tg_relation, newtup, oldtup ? &oldtup->t_self : NULL,
					  isnull ? (Datum) 0 : item);
		}
	}
	PG_FINALLY();
	{
		sever_depth--;
	}
	PG_END_TRY();
	pals_restore_search_path(nestlevel);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * pals_privacy._sever_one(binding regclass, row_relid regclass, row_tid tid)
 * Sever one row if it is closed, settled and identified (used by the
 * backlog and the maintenance pass).  Returns what happened.
 */
Datum
pals_privacy_sever_one(PG_FUNCTION_ARGS)
{
	Oid			binding = PG_GETARG_OID(0);
	Oid			relid = PG_GETARG_OID(1);
	ItemPointer tid = PG_GETARG_ITEMPOINTER(2);
	RelSever   *rs;
	SeverResult r = SEVER_GONE;
	int			nestlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	sever_depth++;
	PG_TRY();
	{
		prepare_tracker_plans();
		rs = rel_sever(relid);
		if (rs == NULL || rs->binding->relid != binding)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation %u is not covered by loan binding %u", relid, binding)));
		r = sever_other(rs, relid, tid, NULL);
	}
	PG_FINALLY();
	{
		sever_depth--;
	}
	PG_END_TRY();
	pals_restore_search_path(nestlevel);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(sever_result_names[r]));
}

void
pals_sever_init(void)
{
}
