/*
 * placeholder_stats.c
 *     What the planner believes about a patron column severed to a
 *     placeholder.
 *
 *     Severing to a placeholder ('patron:0') moves most of a table's closed
 *     history onto one patron id.  ANALYZE counts that id as one distinct
 *     value among the few hundred patrons with open rows, and the planner
 *     estimates "patron = $1" for an unknown $1, which is how a prepared
 *     statement's generic plan is costed, as the table's rows divided by the
 *     distinct count: an average the placeholder's rows dominate.  The ILS
 *     never asks for the placeholder, so that estimate is high by the
 *     placeholder's weight.  On the sample consortium (94 % of holds severed)
 *     it made the generic plan of the desk's holds query cost more than its
 *     custom plans, and every execution of the prepared query was planned
 *     anew.
 *
 *     This hook gives the planner the column's statistics with one number
 *     changed: the distinct count is raised until rows / distinct is the
 *     average number of rows of a real patron, (rows - placeholder rows -
 *     nulls) / (distinct - 1).  Estimates for a known value, the placeholder
 *     included, come from the most-common-values list and do not change;
 *     neither does the skew a hash join is costed with (the placeholder's
 *     frequency over the average frequency scales with it).  Join and
 *     group-count estimates that divide by the distinct count see more
 *     values than ANALYZE found.  pals_privacy.placeholder_statistics = off
 *     gives the planner ANALYZE's numbers.
 *
 *     The same hooks keep per-patron information out of a redacted class's
 *     estimates: for a bound relation (or an inheritance parent of one,
 *     whose statistics include its children's values) and its indexes, the
 *     planner of a redacted class gets no most-common values and no
 *     histograms (EXPLAIN's rows=20 for patron_id = 217 was exact), only the
 *     null fraction, width, distinct count and correlation; and no leaky
 *     operator may see even those.  Whether a leaky operator may see the
 *     statistics otherwise is decided as PostgreSQL decides it, through the
 *     topmost parent of an inheritance child or partition
 *     (all_rows_selectable).
 *
 *     What the hook needs of a relation (its patron column severed to a
 *     placeholder, and the placeholder's frequency in ANALYZE's common
 *     values) is worked out once per relation and kept: until a relcache
 *     invalidation of the relation (a column renamed, the relation attached
 *     under a bound parent), a new registry (a binding changed), or, for the
 *     frequency, any change of pg_statistic (ANALYZE).
 *
 *     Masked columns.  A redacted class's planner sees a masked column as
 *     CASE WHEN <may see> THEN column END, an expression it has no
 *     statistics for; it estimates it from the columns it reads, among them
 *     the row's own identity (the last-borrower check reads ctid), so as
 *     unique.  A join from history to the patron table on the masked patron
 *     column was then costed as if every loan had its own patron: no
 *     Memoize, the whole patron table hashed at every execution (2x base's
 *     CPU time per read on the sample consortium).  PostgreSQL looks for an
 *     expression's statistics in the expression indexes of its relation;
 *     for a redacted planning the masks of a bound relation are put there as
 *     columns of a placeholder index (InvalidOid, hypothetical, no access
 *     method: no scan can use it; added after the relation's own paths are
 *     built) and the index statistics hook answers for them with the
 *     column's statistics as they are: its distinct count, null fraction and
 *     width, and no value statistics (no common values, no histogram: no
 *     estimate depends on which values are stored, hidden or not), never for
 *     leaky operators.  The distinct count is ANALYZE's over every row, hidden
 *     ones included: how many patrons, never which, as the column's own
 *     (placeholder-adjusted) count in the estimate of "patron = $1" already
 *     told.  No other estimate changes; estimates of a relation's own
 *     conditions are made before its paths, so they are as before.
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_statistic.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

/* Statistics that describe values, not their number: no longer to be found. */
static void
strip_value_statistics(HeapTuple tuple)
{
	Form_pg_statistic form = (Form_pg_statistic) GETSTRUCT(tuple);
	int16	   *kinds[STATISTIC_NUM_SLOTS] = {&form->stakind1, &form->stakind2, &form->stakind3,
		&form->stakind4, &form->stakind5};

	for (int i = 0; i < STATISTIC_NUM_SLOTS; i++)
		if (*kinds[i] != STATISTIC_KIND_CORRELATION)
			*kinds[i] = 0;
}

/* Are the statistics of relid hidden from the current user's planner? */
static bool
statistics_hidden(Oid relid)
{
	return pals_redaction_in_force() && pals_statistics_of_bound(relid);
}

/* The frequency ANALYZE found for the placeholder, or -1 if it is not a common value. */
static double
placeholder_frequency(HeapTuple stats, Oid relid, AttrNumber attnum, const char *placeholder)
{
	AttStatsSlot sslot;
	Oid			type,
				collation,
				typinput,
				typioparam;
	int32		typmod;
	int16		typlen;
	bool		typbyval;
	Datum		value;
	double		result = -1;

	if (!get_attstatsslot(&sslot, stats, STATISTIC_KIND_MCV, InvalidOid,
						  ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
		return -1;
	get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
	if (sslot.valuetype == type)
	{
		getTypeInputInfo(type, &typinput, &typioparam);
		get_typlenbyval(type, &typlen, &typbyval);
		value = OidInputFunctionCall(typinput, (char *) placeholder, typioparam, typmod);
		for (int i = 0; i < sslot.nvalues && i < sslot.nnumbers; i++)
			if (datum_image_eq(sslot.values[i], value, typbyval, typlen))
			{
				result = sslot.numbers[i];
				break;
			}
	}
	free_attstatsslot(&sslot);
	return result;
}

/*
 * The distinct count under which rows / distinct is a real patron's share:
 * stadistinct > 0 counts values, < 0 is minus a fraction of the rows.
 */
static float4
distinct_without_placeholder(float4 stadistinct, double nullfrac, double frequency, double tuples)
{
	double		real = 1.0 - nullfrac - frequency;
	double		result;

	if (real <= 0.0)
		return -1.0;			/* no real patron has a row: estimate one row */
	if (stadistinct > 0)
	{
		result = Max(stadistinct - 1.0, 1.0) * (1.0 - nullfrac) / real;
		if (tuples > 0 && result > tuples)
			result = tuples;
		return (float4) result;
	}
	result = stadistinct * (1.0 - nullfrac) / real;
	return (float4) Max(result, -1.0);
}

/* ----------------------------------------------------------------------
 * What the hook needs of a relation, kept per relation
 * ---------------------------------------------------------------------- */

typedef struct SeveredColumn
{
	Oid			relid;			/* hash key */
	uint64		generation;		/* of the registry it was worked out under */
	AttrNumber	attnum;			/* the patron column severed to a placeholder; 0: none */
	bool		known[2];		/* frequency[inh] worked out (since the last ANALYZE)? */
	double		frequency[2];	/* the placeholder's frequency, -1: not a common value */
} SeveredColumn;

static HTAB *severed_columns = NULL;

/* A relation changed (or every one may have): work its column out again. */
static void
severed_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	SeveredColumn *c;

	if (severed_columns == NULL)
		return;
	if (OidIsValid(relid))
	{
		hash_search(severed_columns, &relid, HASH_REMOVE, NULL);
		return;
	}
	hash_seq_init(&seq, severed_columns);
	while ((c = hash_seq_search(&seq)) != NULL)
		hash_search(severed_columns, &c->relid, HASH_REMOVE, NULL);
}

/* pg_statistic changed (ANALYZE): the frequencies may have. */
static void
severed_statistics_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS seq;
	SeveredColumn *c;

	if (severed_columns == NULL)
		return;
	hash_seq_init(&seq, severed_columns);
	while ((c = hash_seq_search(&seq)) != NULL)
		c->known[0] = c->known[1] = false;
}

/*
 * The attribute number of relid's patron column if its binding severs to a
 * placeholder, else 0.  Catalog reads can process invalidations, which may
 * remove entries: the entry is written after them.
 */
static AttrNumber
severed_column(Oid relid)
{
	uint64		generation = pals_registry()->generation;
	const LoanBinding *b;
	SeveredColumn *c;
	AttrNumber	attnum = InvalidAttrNumber;

	if (severed_columns == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(SeveredColumn);
		ctl.hcxt = CacheMemoryContext;
		severed_columns = hash_create("pals_privacy severed columns", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(severed_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(STATRELATTINH, severed_statistics_callback, (Datum) 0);
	}
	c = hash_search(severed_columns, &relid, HASH_FIND, NULL);
	if (c != NULL && c->generation == generation)
		return c->attnum;

	b = pals_loan_binding_for(relid);
	if (b != NULL && b->sever_with == SEVER_PLACEHOLDER)
		attnum = get_attnum(relid, b->patron_column);
	c = hash_search(severed_columns, &relid, HASH_ENTER, NULL);
	c->generation = generation;
	c->attnum = attnum;
	c->known[0] = c->known[1] = false;
	return attnum;
}

/* The placeholder's frequency in stats (relid's patron column's), kept. */
static double
severed_frequency(HeapTuple stats, Oid relid, AttrNumber attnum, bool inh)
{
	SeveredColumn *c = hash_search(severed_columns, &relid, HASH_FIND, NULL);
	double		frequency;

	if (c != NULL && c->attnum == attnum && c->known[inh])
		return c->frequency[inh];
	frequency = placeholder_frequency(stats, relid, attnum, pals_loan_binding_for(relid)->placeholder);
	c = hash_search(severed_columns, &relid, HASH_FIND, NULL);
	if (c != NULL && c->attnum == attnum)
	{
		c->frequency[inh] = frequency;
		c->known[inh] = true;
	}
	return frequency;
}

bool
pals_placeholder_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
								VariableStatData *vardata)
{
	HeapTuple	stats;
	HeapTuple	copy;
	Form_pg_statistic form;
	bool		hide;
	bool		adjust;

	if (rte->rtekind != RTE_RELATION || attnum <= 0 || !pals_extension_ready())
		return false;
	hide = statistics_hidden(rte->relid);
	adjust = pals_get_placeholder_statistics() && severed_column(rte->relid) == attnum;
	if (!hide && !adjust)
		return false;

	stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(rte->relid),
							Int16GetDatum(attnum), BoolGetDatum(rte->inh));
	if (!HeapTupleIsValid(stats))
		return false;
	copy = heap_copytuple(stats);
	form = (Form_pg_statistic) GETSTRUCT(copy);
	if (adjust)
	{
		double		frequency = severed_frequency(stats, rte->relid, attnum, rte->inh);

		if (frequency > 0 && form->stadistinct != 0)
			form->stadistinct = distinct_without_placeholder(form->stadistinct, form->stanullfrac, frequency,
															 vardata->rel ? vardata->rel->tuples : 0);
	}
	ReleaseSysCache(stats);
	if (hide)
		strip_value_statistics(copy);
	vardata->statsTuple = copy;
	vardata->freefunc = heap_freetuple;

	/*
	 * May leaky operators see these statistics?  Never for a redacted class;
	 * otherwise as the planner decides it (all_rows_selectable looks at the
	 * topmost parent of an inheritance child or partition, its security
	 * quals and its privileges).
	 */
	vardata->acl_ok = !hide && vardata->var != NULL && IsA(vardata->var, Var) &&
		all_rows_selectable(root, ((Var *) vardata->var)->varno,
							bms_make_singleton(attnum - FirstLowInvalidHeapAttributeNumber));
	return true;
}

/* ----------------------------------------------------------------------
 * Masked columns: statistics for CASE WHEN <may see> THEN column END
 * ---------------------------------------------------------------------- */

/* Is index the placeholder index of masks (see the top of this file)? */
static bool
is_mask_index(IndexOptInfo *index)
{
	return index->indexoid == InvalidOid && index->hypothetical && index->relam == InvalidOid &&
		!index->amhasgettuple && !index->amhasgetbitmap;
}

typedef struct MaskSearch
{
	PlannerInfo *root;
	Index		varno;
	List	   *masks;
} MaskSearch;

/* The masks of one relation in the expressions of the query level being planned. */
static bool
find_masks_walker(Node *node, MaskSearch *s)
{
	Index		varno;
	AttrNumber	attno;
	int			only;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return false;			/* another level, planned on its own */
	if (pals_masked_column(node, &varno, &attno))
	{
		if (varno == s->varno && bms_get_singleton_member(pull_varnos(s->root, node), &only) &&
			only == (int) varno && list_length(s->masks) < INDEX_MAX_KEYS)
			s->masks = list_append_unique(s->masks, node);
		return false;
	}
	return expression_tree_walker(node, find_masks_walker, s);
}

/*
 * set_rel_pathlist_hook: after the relation's own paths are built, its
 * masks become the columns of a placeholder index, where examine_variable
 * looks for an expression's statistics.
 */
void
pals_mask_statistics_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	MaskSearch	s;
	IndexOptInfo *index;
	int			n;

	if (rte->rtekind != RTE_RELATION || rel->reloptkind != RELOPT_BASEREL || !pals_extension_ready() ||
		!statistics_hidden(rte->relid))
		return;
	s.root = root;
	s.varno = rti;
	s.masks = NIL;
	query_tree_walker(root->parse, find_masks_walker, &s, QTW_IGNORE_RANGE_TABLE);
	if (s.masks == NIL)
		return;
	n = list_length(s.masks);
	index = makeNode(IndexOptInfo);
	index->indexoid = InvalidOid;
	index->reltablespace = rel->reltablespace;
	index->rel = rel;
	index->tree_height = -1;
	index->ncolumns = index->nkeycolumns = n;
	index->indexkeys = palloc0(sizeof(int) * n);	/* 0: an expression */
	index->indexcollations = palloc0(sizeof(Oid) * n);
	index->opfamily = palloc0(sizeof(Oid) * n);
	index->opcintype = palloc0(sizeof(Oid) * n);
	index->canreturn = palloc0(sizeof(bool) * n);
	index->indexprs = s.masks;
	index->hypothetical = true;
	rel->indexlist = lappend(rel->indexlist, index);
}

/* The statistics of a mask: its column's distinct count, null fraction and width. */
static bool
mask_index_stats(PlannerInfo *root, AttrNumber indexattnum, VariableStatData *vardata)
{
	RelOptInfo *rel = vardata->rel;
	IndexOptInfo *index = NULL;
	ListCell   *lc;
	Index		varno;
	AttrNumber	attnum;
	RangeTblEntry *rte;
	HeapTuple	stats;

	if (rel == NULL)
		return false;
	foreach(lc, rel->indexlist)
		if (is_mask_index(lfirst(lc)))
			index = lfirst(lc);
	if (index == NULL || indexattnum < 1 || indexattnum > list_length(index->indexprs) ||
		!pals_masked_column(list_nth(index->indexprs, indexattnum - 1), &varno, &attnum) ||
		varno != rel->relid)
		return false;
	rte = planner_rt_fetch(varno, root);
	stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(rte->relid),
							Int16GetDatum(attnum), BoolGetDatum(rte->inh));
	if (HeapTupleIsValid(stats))
	{
		vardata->statsTuple = heap_copytuple(stats);
		ReleaseSysCache(stats);
		strip_value_statistics(vardata->statsTuple);
		vardata->freefunc = heap_freetuple;
	}
	vardata->acl_ok = false;
	return true;
}

/* An index's own statistics (expression columns) of a bound relation. */
bool
pals_hidden_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum, VariableStatData *vardata)
{
	HeapTuple	stats;

	if (!OidIsValid(indexOid))
		return mask_index_stats(root, indexattnum, vardata);
	if (!pals_extension_ready() || !statistics_hidden(IndexGetRelation(indexOid, false)))
		return false;
	stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(indexOid),
							Int16GetDatum(indexattnum), BoolGetDatum(false));
	if (!HeapTupleIsValid(stats))
		return false;
	vardata->statsTuple = heap_copytuple(stats);
	ReleaseSysCache(stats);
	strip_value_statistics(vardata->statsTuple);
	vardata->freefunc = heap_freetuple;
	vardata->acl_ok = false;
	return true;
}
