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
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_statistic.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
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

bool
pals_placeholder_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
								VariableStatData *vardata)
{
	const LoanBinding *b = NULL;
	HeapTuple	stats;
	HeapTuple	copy;
	Form_pg_statistic form;
	bool		hide;
	bool		adjust;

	if (rte->rtekind != RTE_RELATION || attnum <= 0 || !pals_extension_ready())
		return false;
	hide = statistics_hidden(rte->relid);
	if (pals_get_placeholder_statistics())
		b = pals_loan_binding_for(rte->relid);
	adjust = b != NULL && b->sever_with == SEVER_PLACEHOLDER &&
		get_attnum(rte->relid, b->patron_column) == attnum;
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
		double		frequency = placeholder_frequency(stats, rte->relid, attnum, b->placeholder);

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

/* An index's own statistics (expression columns) of a bound relation. */
bool
pals_hidden_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum, VariableStatData *vardata)
{
	HeapTuple	stats;

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
