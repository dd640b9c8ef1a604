/*
 * copy_sever_probe.c
 *     The comparisons copy severing makes without SQL: whether a copy may
 *     hold rows the severing statement would change for a key (one index
 *     probe instead of a whole statement, for the many severed rows that
 *     have no copy), and whether an update changed a key or patron column
 *     (IS DISTINCT FROM, instead of a WHEN clause on the trigger).
 */
#include "copy_sever.h"
#include "direct_write.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/*
 * The function of the "=" that "a IS DISTINCT FROM b" applies to two values
 * of a column's type (pg_catalog's, as in the trigger's WHEN clause of old;
 * else the type's default equality), or InvalidOid: none, always distinct.
 */
Oid
copy_distinct_eq(Oid type)
{
	Oid			eqop = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")), type, type);

	if (!OidIsValid(eqop))
		eqop = lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr;
	return OidIsValid(eqop) ? get_opcode(eqop) : InvalidOid;
}

/* a IS DISTINCT FROM b, for column attno of both tuples */
bool
copy_column_distinct(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber attno, Oid eq, Oid coll)
{
	bool		anull;
	bool		bnull;
	Datum		ad = heap_getattr(a, attno, desc, &anull);
	Datum		bd = heap_getattr(b, attno, desc, &bnull);
	FmgrInfo	f;

	if (anull || bnull)
		return anull != bnull;
	if (!OidIsValid(eq))
		return true;
	fmgr_info(eq, &f);
	return !DatumGetBool(FunctionCall2Coll(&f, coll, ad, bd));
}

/*
 * The probe of a copy binding's statement.  Most severed rows have no copy
 * (a fine, a notice) at all, and the statement costs a whole executor
 * start and end even when it changes nothing: where an index of the copy
 * finds every row the statement could change, one index probe tells
 * whether to run it.  The index must be a valid, non-partial btree index
 * of the copy whose first column is the first key column, under the very
 * equality the statement applies ("t.k1 = $1::type": the type's "="
 * operator of pg_catalog, which the statement finds under our safe
 * search_path; the cast from text is the type's input function, there
 * being no cast of its own), in a deterministic collation.  Anything else
 * leaves probe_index invalid: the statement runs every time, as before.
 */
void
copy_find_probe(CopySever *e, const char *first_key)
{
	Relation	rel = relation_open(e->key.copy, AccessShareLock);
	AttrNumber	attno = get_attnum(e->key.copy, first_key);
	Form_pg_attribute att;
	HeapTuple	typtup;
	bool		base;
	Oid			eqop;
	List	   *indexes;
	ListCell   *lc;

	e->probe_index = InvalidOid;
	if (rel->rd_rel->relkind != RELKIND_RELATION || attno <= 0)
	{
		relation_close(rel, AccessShareLock);
		return;
	}
	att = TupleDescAttr(RelationGetDescr(rel), attno - 1);
	typtup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(att->atttypid));
	if (!HeapTupleIsValid(typtup))
		elog(ERROR, "cache lookup failed for type %u", att->atttypid);
	base = ((Form_pg_type) GETSTRUCT(typtup))->typtype == TYPTYPE_BASE;
	ReleaseSysCache(typtup);
	eqop = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")),
							att->atttypid, att->atttypid);
	if (!base || !OidIsValid(eqop) ||
		(att->atttypid != TEXTOID &&
		 SearchSysCacheExists2(CASTSOURCETARGET, ObjectIdGetDatum(TEXTOID), ObjectIdGetDatum(att->atttypid))) ||
		(OidIsValid(att->attcollation) && !get_collation_isdeterministic(att->attcollation)))
	{
		relation_close(rel, AccessShareLock);
		return;
	}
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		bool		fits;

		fits = index->rd_rel->relam == BTREE_AM_OID && index->rd_index->indisvalid &&
			index->rd_index->indkey.values[0] == attno &&
			index->rd_indcollation[0] == att->attcollation &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			get_opfamily_member(index->rd_opfamily[0], att->atttypid, att->atttypid,
								BTEqualStrategyNumber) == eqop;
		index_close(index, AccessShareLock);
		if (fits)
		{
			e->probe_index = lfirst_oid(lc);
			break;
		}
	}
	list_free(indexes);
	if (OidIsValid(e->probe_index))
	{
		e->probe_type = att->atttypid;
		e->probe_collation = att->attcollation;
		e->probe_eqproc = get_opcode(eqop);
		getTypeInputInfo(att->atttypid, &e->probe_input, &e->probe_ioparam);
	}
	relation_close(rel, AccessShareLock);
}

/*
 * Whether the copy may hold rows the statement would change for this key
 * (first_key: the first key column's value as text): false only when the
 * probe shows that no row of the copy has that first key, as the statement
 * would see it now (a snapshot taken as SPI takes the statement's, with
 * this command's changes), and the statement could do nothing else: the
 * copy is still a plain table without inheritance children, rules or
 * statement triggers, and the index is still its own.
 */
bool
copy_may_hold(const CopySever *cs, const char *first_key)
{
	Relation	rel;
	Relation	index;
	TriggerDesc *trig;
	List	   *indexes;
	bool		usable;
	ScanKeyData key;
	Snapshot	snap;
	bool		found;

	if (!OidIsValid(cs->probe_index))
		return true;
	if (first_key == NULL)
		return false;			/* "t.k1 = NULL" matches no row */
	rel = table_open(cs->key.copy, AccessShareLock);
	trig = rel->trigdesc;
	indexes = RelationGetIndexList(rel);
	usable = rel->rd_rel->relkind == RELKIND_RELATION && !rel->rd_rel->relhassubclass &&
		rel->rd_rules == NULL && list_member_oid(indexes, cs->probe_index) &&
		(trig == NULL ||
		 !(trig->trig_update_before_statement || trig->trig_update_after_statement ||
		   trig->trig_delete_before_statement || trig->trig_delete_after_statement));
	list_free(indexes);
	if (!usable)
	{
		table_close(rel, AccessShareLock);
		return true;
	}
	index = index_open(cs->probe_index, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, cs->probe_type, cs->probe_collation,
						   cs->probe_eqproc,
						   OidInputFunctionCall(cs->probe_input, (char *) first_key, cs->probe_ioparam, -1));
	CommandCounterIncrement();
	snap = pals_statement_snapshot();
	found = pals_index_has(rel, index, snap, &key, 1);
	UnregisterSnapshot(snap);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}
