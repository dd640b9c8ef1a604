/*
 * sever_plan.c
 *     The severing state of each relation that holds loan rows (the bound
 *     table, each partition, each inheritance child): the binding that covers
 *     it, the attribute numbers, types and comparison of its columns, its
 *     closed_when / settled_when conditions ready to evaluate on a tuple, the
 *     patron table's unique index for the opt-in lookup, and the statements
 *     generated from the binding that act on one of its rows by TID (probe,
 *     lock, copy to the private history, search an item), prepared once and
 *     saved.
 *
 *     Built on first use per relation and dropped whenever the registry
 *     changes (its generation moves on); a return under way may still hold
 *     pointers into the old state, so that is retired to the end of the
 *     transaction, its saved plans freed with it.
 */
#include "pals_privacy.h"
#include "sever_plan.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

static MemoryContext sever_context = NULL;
static HTAB *rel_severs = NULL;
static uint64 rel_severs_generation = 0;

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
 * may hold pointers into it (search_item() calls pals_rel_sever() once per
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
	sever_context = NULL;		/* pals_rel_sever() makes a new one */
	rel_severs = NULL;
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
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

/* Any patron column (the patron column, more_patron_columns) names a patron. */
static void
append_identified(StringInfo sql, const LoanBinding *b)
{
	appendStringInfoChar(sql, '(');
	for (int i = 0; i <= b->nmore; i++)
	{
		const char *p = quote_identifier(i == 0 ? b->patron_column : b->more_patron_columns[i - 1]);

		if (i > 0)
			appendStringInfoString(sql, " OR ");
		if (b->sever_with == SEVER_PLACEHOLDER)
			appendStringInfo(sql, "(t.%s IS NOT NULL AND t.%s::text <> %s)", p, p,
							 quote_literal_cstr(b->placeholder));
		else
			appendStringInfo(sql, "(t.%s IS NOT NULL)", p);
	}
	appendStringInfoChar(sql, ')');
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
		appendStringInfo(&probe, ", (SELECT %s FROM %s p WHERE p.%s = t.%s)",
						 pals_patron_optin_sql(reg->patrons, "p"),
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
		StringInfoData others;
		ListCell   *lc;

		/*
		 * The same loan copied from another member of the binding's
		 * last-borrower group (the ILS moved it into the archive, the loans
		 * row's sever failed and was retried later, after or before the
		 * archived row's): the loan's history is there already (same patron,
		 * item and closed columns), so it is not copied again, whichever row
		 * is severed first.  Rows of one relation are never taken for one
		 * another (two loans closed the same day).
		 */
		initStringInfo(&others);
		foreach(lc, reg->loans)
		{
			const LoanBinding *m = lfirst(lc);

			if (m->tracker == b->tracker && m->relid != b->relid)
				appendStringInfo(&others, "%s%u", others.len ? ", " : "", m->relid);
		}
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO pals_privacy.private_history (patron, relation, item, row_data) "
						 "SELECT t.%s::text, $2, t.%s::text, to_jsonb(t) FROM ONLY %s t WHERE t.ctid = $1",
						 pcol, icol, rel);
		if (others.len > 0)
		{
			appendStringInfo(&sql,
							 " AND NOT EXISTS (SELECT FROM pals_privacy.private_history h"
							 " WHERE h.patron = t.%s::text AND h.item IS NOT DISTINCT FROM t.%s::text"
							 " AND h.relation::oid IN (%s)",
							 pcol, icol, others.data);
			for (int i = 0; i < b->nclosed; i++)
				appendStringInfo(&sql, " AND h.row_data -> %s IS NOT DISTINCT FROM to_jsonb(t.%s)",
								 quote_literal_cstr(b->closed_columns[i]),
								 quote_identifier(b->closed_columns[i]));
			appendStringInfoChar(&sql, ')');
		}
		pfree(others.data);
		rs->copy = pals_prepare_saved(sql.data, 2, tidtype);

		resetStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s FROM %s p WHERE p.%s = $1",
						 pals_patron_optin_sql(reg->patrons, "p"),
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
	/* a condition (keep_history_when) is evaluated by SQL, not read from the index probe */
	if (p == NULL || p->keep_history_column == NULL || p->keep_history_when != NULL)
		return;
	id_attno = pals_bound_attnum(p->relid, p->id_column);
	rs->keep_history_attno = pals_bound_attnum(p->relid, p->keep_history_column);
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
RelSever *
pals_rel_sever(Oid relid)
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
		rs->patron_attno = pals_bound_attnum(relid, b->patron_column);
		rs->item_attno = pals_bound_attnum(relid, b->item_column);
		rs->settled_attno = b->settled_column ? pals_bound_attnum(relid, b->settled_column)
			: InvalidAttrNumber;
		for (int i = 0; i < b->nclosed; i++)
			rs->closed_attnos[i] = pals_bound_attnum(relid, b->closed_columns[i]);
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
		rs->ncut = 1 + b->nmore;
		for (int i = 0; i < rs->ncut; i++)
		{
			rs->cut_attnos[i] = i == 0 ? rs->patron_attno
				: pals_bound_attnum(relid, b->more_patron_columns[i - 1]);
			rs->cut_values[i] = rs->placeholder;
			rs->cut_nulls[i] = b->sever_with != SEVER_PLACEHOLDER;
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
RelSever *
pals_rel_sever_known(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	RelSever   *rs;

	if (rel_severs == NULL || rel_severs_generation != reg->generation)
		return NULL;
	rs = hash_search(rel_severs, &relid, HASH_FIND, NULL);
	return rs != NULL && rs->binding != NULL ? rs : NULL;
}


/* A condition (closed_when, settled_when) on a row; NULL counts as false. */
bool
pals_sever_eval_condition(const RelSever *rs, ExprState *state, HeapTuple tup)
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

bool
pals_tuple_closed(const RelSever *rs, HeapTuple tup, TupleDesc desc)
{
	if (rs->closed_state)
		return pals_sever_eval_condition(rs, rs->closed_state, tup);
	for (int i = 0; i < rs->binding->nclosed; i++)
		if (!heap_attisnull(tup, rs->closed_attnos[i], desc))
			return true;
	return false;
}

/* A value of a patron column names a patron (not NULL, not the placeholder). */
bool
pals_value_identified(const RelSever *rs, Datum v, bool isnull)
{
	if (isnull)
		return false;
	if (rs->binding->sever_with == SEVER_PLACEHOLDER)
		return strcmp(OutputFunctionCall((FmgrInfo *) &rs->patron_out, v), rs->binding->placeholder) != 0;
	return true;
}

/* Any patron column of the row (patron column, more_patron_columns) names a patron. */
bool
pals_tuple_identified(RelSever *rs, HeapTuple tup, TupleDesc desc)
{
	for (int i = 0; i < rs->ncut; i++)
	{
		bool		isnull;
		Datum		v = heap_getattr(tup, rs->cut_attnos[i], desc, &isnull);

		if (pals_value_identified(rs, v, isnull))
			return true;
	}
	return false;
}

bool
pals_closed_after(RelSever *rs, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(&rs->closed_cmp, rs->closed_collation, a, b)) > 0;
}

bool
pals_slot_identified(RelSever *rs, TupleTableSlot *slot)
{
	for (int i = 0; i < rs->ncut; i++)
	{
		bool		isnull;
		Datum		v = slot_getattr(slot, rs->cut_attnos[i], &isnull);

		if (pals_value_identified(rs, v, isnull))
			return true;
	}
	return false;
}
