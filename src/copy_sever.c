/*
 * copy_sever.c
 *     _sever_copies(): the row trigger that severs a loan row's derived
 *     copies (bind_copy, docs/binding.md) when the row loses its patron or
 *     is deleted.
 *
 *     It fires on every return that severs (the sever re-points the earlier
 *     row's patron), so it is on the circulation path.  Written in PL/pgSQL
 *     it built and planned its statement at every firing (EXECUTE of
 *     generated SQL, two SQL helper functions re-planned per transaction):
 *     more than the return itself.  Here the statement of each copy binding
 *     is generated once by the same SQL (_copy_sever_sql), prepared, and
 *     kept per backend until the binding, the copy relation or the relation
 *     the trigger is on changes (relcache invalidation; copy_binding sends
 *     one for itself on every change, as the other configuration tables do).
 *     It runs as the extension owner, as the SECURITY DEFINER function did.
 *
 *     The copies of a row are those whose key columns equal the row's source
 *     key columns, all of them (a unique key of the source, bind_copy).  A
 *     row whose key changes leaves the copies keyed by its old key to no
 *     row: they are severed too, else a row given that key later (a decoy)
 *     would take them over.
 *
 *     Batched (sever_backlog): between _copy_sever_collect() and
 *     _copy_sever_flush(), in the same subtransaction, a firing records the
 *     source row's key instead of running the statement, and the flush runs
 *     each binding's statement once for all the keys ($1 ... $n text[]
 *     arrays, one per key column): one statement per batch and copy binding
 *     instead of one per severed row, on the same rows, in the same
 *     subtransaction as the rows' sever.  Keys of a subtransaction that rolls
 *     back go with it; a transaction that would commit with keys not flushed
 *     fails (fail closed).
 *
 *     A copy with several sources (bind_copy once per source: Koha's issues
 *     and old_issues, one issue_id) has these triggers on each; those on a
 *     source after the first name it (TG_ARGV[1]), and the statement severs
 *     only copies no other source holds an identified row for, written in
 *     the same transaction (_copy_binding_as, _copy_sever_sql, _copy_held,
 *     _written_here below): a return that moves the loan (INSERT into
 *     old_issues, then DELETE from issues) keeps the fine's link, a decoy
 *     written before does not.
 */
#include "pals_privacy.h"
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

PG_FUNCTION_INFO_V1(pals_privacy_sever_copies);
PG_FUNCTION_INFO_V1(pals_privacy_copy_sever_collect);
PG_FUNCTION_INFO_V1(pals_privacy_copy_sever_flush);
PG_FUNCTION_INFO_V1(pals_privacy_written_here);

typedef struct CopyKey
{
	Oid			copy;			/* the copy relation (TG_ARGV[0]) */
	Oid			source;			/* the relation the trigger is on (a partition, a child) */
	Oid			via;			/* the source the trigger names (TG_ARGV[1]), or 0: the first */
} CopyKey;

typedef struct CopySever
{
	CopyKey		key;
	bool		bound;			/* false: no such copy binding (nothing to do) */
	bool		source_bound;	/* its source has a loan binding */
	int			nkeys;
	AttrNumber *key_attnos;		/* in the trigger's relation: the source key columns */
	AttrNumber	patron_attno;	/* in the trigger's relation: the loan binding's patron column */
	Oid		   *key_eq;			/* "=" of each key column's type, and its collation: */
	Oid		   *key_coll;		/* an update changed the key (IS DISTINCT FROM) */
	Oid			patron_eq;		/* the same for the patron column (source_bound) */
	Oid			patron_coll;
	char	   *placeholder;	/* sever_with 'patron:<id>': <id>; else NULL */
	char	   *sever_with;		/* the copy's strategy, for messages */
	char	   *copy_name;		/* the copy and its source, for messages */
	char	   *source_name;
	bool		checked;		/* the copy has BEFORE UPDATE/DELETE row triggers
								 * or rules of its own, which may skip or undo the
								 * sever: plan says (rows to sever, rows severed) */
	SPIPlanPtr	plan;			/* the severing statement, $1 ... $n the key as text */
	SPIPlanPtr	pending;		/* records what it left identified, $1 ... $n the key */
	int			ntree;			/* the copy's partitions and inheritance children */
	Oid		   *tree;			/* (their triggers decide checked) */
	SPIPlanPtr	batch_plan;		/* the same for many keys ($1 ... $n text[]), prepared at
								 * its first flush (batch_sql_query) */
	/*
	 * The probe (copy_may_hold): an index of the copy that finds the rows
	 * whose first key column equals a value exactly as the statement's
	 * "t.k1 = $1::type" does; InvalidOid: none, the statement always runs.
	 */
	Oid			probe_index;
	Oid			probe_type;		/* the first key column's type */
	Oid			probe_input;	/* its input function (the statement's cast from text) */
	Oid			probe_ioparam;
	RegProcedure probe_eqproc;	/* the equality the statement and the index share */
	Oid			probe_collation;
} CopySever;

/* The keys collected for one copy binding and source relation (batched). */
typedef struct CopyBatch
{
	CopyKey		key;
	int			nkeys;			/* key columns */
	int			nrows;
	int			maxrows;
	Datum	   *keys;			/* text, nrows x nkeys */
} CopyBatch;

static HTAB *copies = NULL;
static MemoryContext copies_context = NULL;
static List *retired_plans = NIL;	/* freed when no firing is under way */
static int	firing = 0;
static Oid	copy_binding_relid = InvalidOid;
static Oid	loan_binding_relid = InvalidOid;
static bool callback_registered = false;

/* batched: the keys collected, and the subtransaction collecting them */
static HTAB *batch = NULL;
static MemoryContext batch_context = NULL;
static SubTransactionId batch_subid = InvalidSubTransactionId;
static bool batch_flushing = false;	/* firings run at once while the flush runs */
static bool batch_callbacks = false;

static void
forget_copies(void)
{
	HASH_SEQ_STATUS seq;
	CopySever  *e;

	if (copies == NULL)
		return;
	hash_seq_init(&seq, copies);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (e->plan != NULL)
			retired_plans = lappend(retired_plans, e->plan);
		if (e->pending != NULL)
			retired_plans = lappend(retired_plans, e->pending);
		if (e->batch_plan != NULL)
			retired_plans = lappend(retired_plans, e->batch_plan);
		MemoryContextSwitchTo(old);
	}
	hash_destroy(copies);
	copies = NULL;
	MemoryContextReset(copies_context);
}

static void
copies_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	CopySever  *e;

	if (copies == NULL)
		return;
	if (relid == InvalidOid || relid == copy_binding_relid || relid == loan_binding_relid)
	{
		forget_copies();
		return;
	}
	hash_seq_init(&seq, copies);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		bool		hit = e->key.copy == relid || e->key.source == relid;

		for (int i = 0; !hit && i < e->ntree; i++)
			hit = e->tree[i] == relid;
		if (hit)
		{
			hash_seq_term(&seq);
			forget_copies();
			return;
		}
	}
}

static void
free_retired_plans(void)
{
	ListCell   *lc;

	if (firing > 0 || retired_plans == NIL)
		return;
	foreach(lc, retired_plans)
		SPI_freeplan((SPIPlanPtr) lfirst(lc));
	list_free(retired_plans);
	retired_plans = NIL;
}

/*
 * The function of the "=" that "a IS DISTINCT FROM b" applies to two values
 * of a column's type (pg_catalog's, as in the trigger's WHEN clause of old;
 * else the type's default equality), or InvalidOid: none, always distinct.
 */
static Oid
distinct_eq(Oid type)
{
	Oid			eqop = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")), type, type);

	if (!OidIsValid(eqop))
		eqop = lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr;
	return OidIsValid(eqop) ? get_opcode(eqop) : InvalidOid;
}

/* a IS DISTINCT FROM b, for column attno of both tuples */
static bool
column_distinct(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber attno, Oid eq, Oid coll)
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
static void
find_probe(CopySever *e, const char *first_key)
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
static bool
copy_may_hold(const CopySever *cs, const char *first_key)
{
	Relation	rel;
	Relation	index;
	TriggerDesc *trig;
	List	   *indexes;
	bool		usable;
	ScanKeyData key;
	Snapshot	snap;
	IndexScanDesc scan;
	TupleTableSlot *slot;
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
	scan = pals_index_beginscan(rel, index, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The batched statement of a copy binding (the same as the statement for
 * many keys: one text[] per key column), generated at the first flush that
 * needs it: a return never does.  $1 the copy, $2 the source named (or 0).
 */
static const char *batch_sql_query =
	"SELECT pals_privacy._copy_sever_sql(c, CASE WHEN cardinality(c.key_columns) = 1 "
	"           THEN format('t.%I = ANY ($1::%s[])', c.key_columns[1], "
	"                       pals_privacy._column_type_name(c.relation, c.key_columns[1])) "
	"           ELSE (SELECT format('(%s) IN (SELECT %s FROM unnest(%s) AS u (%s))', "
	"                               string_agg(format('t.%I', k.key), ', ' ORDER BY k.n), "
	"                               string_agg(format('u.k%s::%s', k.n, pals_privacy._column_type_name(c.relation, k.key)), "
	"                                          ', ' ORDER BY k.n), "
	"                               string_agg(format('$%s::text[]', k.n), ', ' ORDER BY k.n), "
	"                               string_agg(format('k%s', k.n), ', ' ORDER BY k.n)) "
	"                   FROM unnest(c.key_columns) WITH ORDINALITY AS k (key, n)) END), "
	"       cardinality(c.key_columns) "
	"  FROM pals_privacy._copy_binding_as($1, nullif($2, 0)) c "
	" WHERE c.relation = $1";

/* Read the copy binding and its source's loan binding; prepare the statement.  SPI connected. */
static void
load_copy(CopySever *e, Relation rel)
{
	/*
	 * Without a BEFORE UPDATE or DELETE row trigger or a rule on the copy
	 * (or a partition or child of it), the severing statement changes every
	 * row it picks: it runs as is.  With one, the statement also counts the
	 * rows it had to change (an index probe more per return), and what is
	 * left is recorded (record_left).  Creating or changing such a trigger
	 * or rule invalidates the relation, and this entry with it.  (The
	 * backlog's batched statement is not checked: sever_copies() at its end
	 * records what the ILS kept.)
	 */
	static const char *sql =
		"WITH RECURSIVE tree(rel) AS (SELECT $1 UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.rel) "
		"SELECT CASE WHEN k.checked THEN pals_privacy._copy_sever_checked_sql(c, pals_privacy._copy_key_match(c, NULL)) "
		"            ELSE pals_privacy._copy_sever_sql(c, pals_privacy._copy_key_match(c, NULL)) END, "
		"       c.source_keys::text[], b.patron_column, b.sever_with, "
		"       NULL, "	/* the batched statement: batch_sql_query, at the first flush */
		"       CASE WHEN k.checked THEN pals_privacy._copy_pending_sql(c, pals_privacy._copy_key_match(c, NULL)) END, "
		"       c.sever_with, "
		"       c.relation::text, c.source::text, k.checked, "
		"       (SELECT pg_catalog.array_agg(rel) FROM tree)::pg_catalog.text, c.key_columns[1] "
		"  FROM pals_privacy._copy_binding_as($1, nullif($2, 0)) c "
		"  CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t "
		"                      WHERE t.tgrelid IN (SELECT rel FROM tree) AND NOT t.tgisinternal "
		"                        AND t.tgtype & 3 = 3 AND t.tgtype & 24 <> 0) "  /* ROW, BEFORE, DELETE or UPDATE */
		"                   OR EXISTS (SELECT FROM pg_catalog.pg_rewrite r "
		"                      WHERE r.ev_class IN (SELECT rel FROM tree) AND r.ev_type IN ('2', '4')) AS checked) k "
		"  LEFT JOIN pals_privacy.loan_binding b ON b.relation = c.source "
		" WHERE c.relation = $1";
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(e->key.copy), ObjectIdGetDatum(e->key.via)};
	char	   *stmt;
	char	   *patron_column;
	char	   *sever_with;
	char	   *pending_stmt;
	char	   *copy_sever_with;
	char	   *copy_name;
	char	   *source_name;
	char	   *tree;
	char	   *first_key;
	SPIPlanPtr	pending;
	bool		isnull;
	Datum		keys;
	Datum	   *elems;
	int			nelems;
	Oid		   *texttypes;
	SPIPlanPtr	plan;
	MemoryContext old;

	pals_execute_sql_as(pals_registry()->extension_owner, sql, 2, argtypes, args);
	e->bound = SPI_processed == 1;
	if (!e->bound)
		return;
	stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	patron_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	pending_stmt = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	copy_sever_with = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7);
	copy_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8);
	source_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9);
	tree = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 11);
	first_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 12);
	if (first_key == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	e->checked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10, &isnull)) && !isnull;
	if ((e->checked && pending_stmt == NULL) || copy_sever_with == NULL || copy_name == NULL || source_name == NULL || tree == NULL)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (stmt == NULL || isnull)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);
	deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	if (nelems < 1)
		elog(ERROR, "pals_privacy: copy binding of %u is incomplete", e->key.copy);

	e->nkeys = nelems;
	e->key_attnos = MemoryContextAlloc(copies_context, sizeof(AttrNumber) * nelems);
	e->key_eq = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
	e->key_coll = MemoryContextAlloc(copies_context, sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *source_key = TextDatumGetCString(elems[i]);

		e->key_attnos[i] = SPI_fnumber(RelationGetDescr(rel), source_key);
		if (e->key_attnos[i] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the copy binding of %s is not in %s",
							source_key, get_rel_name(e->key.copy), RelationGetRelationName(rel)),
					 errhint("Bind the copy again with pals_privacy.bind_copy().")));
		e->key_eq[i] = distinct_eq(TupleDescAttr(RelationGetDescr(rel), e->key_attnos[i] - 1)->atttypid);
		e->key_coll[i] = TupleDescAttr(RelationGetDescr(rel), e->key_attnos[i] - 1)->attcollation;
	}
	e->source_bound = patron_column != NULL;
	if (e->source_bound)
	{
		e->patron_attno = SPI_fnumber(RelationGetDescr(rel), patron_column);
		if (e->patron_attno <= 0)
			elog(ERROR, "pals_privacy: patron column \"%s\" is not in %s",
				 patron_column, RelationGetRelationName(rel));
		if (sever_with != NULL && strncmp(sever_with, "patron:", 7) == 0)
			e->placeholder = MemoryContextStrdup(copies_context, sever_with + 7);
		e->patron_eq = distinct_eq(TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->atttypid);
		e->patron_coll = TupleDescAttr(RelationGetDescr(rel), e->patron_attno - 1)->attcollation;
	}
	texttypes = palloc(sizeof(Oid) * nelems);
	for (int i = 0; i < nelems; i++)
		texttypes[i] = TEXTOID;
	plan = pals_prepare_saved(stmt, nelems, texttypes);
	/* what a checked statement left is recorded; an unchecked one leaves nothing */
	pending = e->checked ? pals_prepare_saved(pending_stmt, nelems, texttypes) : NULL;
	old = MemoryContextSwitchTo(copies_context);
	e->plan = plan;
	e->pending = pending;
	e->sever_with = pstrdup(copy_sever_with);
	e->copy_name = pstrdup(copy_name);
	e->source_name = pstrdup(source_name);
	{
		/* "{16384,16390}" */
		char	   *p = tree;

		e->tree = palloc(sizeof(Oid) * (strlen(tree) / 2 + 1));
		e->ntree = 0;
		while (*p)
		{
			char	   *end;
			unsigned long v;

			if (*p < '0' || *p > '9')
			{
				p++;
				continue;
			}
			v = strtoul(p, &end, 10);
			e->tree[e->ntree++] = (Oid) v;
			p = end;
		}
	}
	MemoryContextSwitchTo(old);
	find_probe(e, first_key);
}

static CopySever *
copy_sever_for(Oid copy, Oid via, Relation rel)
{
	CopyKey		key;
	CopySever  *e;
	bool		found;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(copies_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (copies_context == NULL)
		copies_context = AllocSetContextCreate(CacheMemoryContext, "pals_privacy copy severing",
											   ALLOCSET_SMALL_SIZES);
	if (copies == NULL)
	{
		HASHCTL		ctl;
		Oid			nsp = get_namespace_oid("pals_privacy", false);

		ctl.keysize = sizeof(CopyKey);
		ctl.entrysize = sizeof(CopySever);
		ctl.hcxt = copies_context;
		copies = hash_create("pals_privacy copy severing", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		copy_binding_relid = get_relname_relid("copy_binding", nsp);
		loan_binding_relid = get_relname_relid("loan_binding", nsp);
	}
	memset(&key, 0, sizeof(key));
	key.copy = copy;
	key.source = RelationGetRelid(rel);
	key.via = via;
	e = hash_search(copies, &key, HASH_FIND, NULL);
	if (e != NULL)
		return e;

	{
		CopySever	fresh;

		memset(&fresh, 0, sizeof(fresh));
		fresh.key = key;
		load_copy(&fresh, rel);
		/* an invalidation may have arrived while loading: then the table is gone */
		if (copies == NULL)
		{
			if (fresh.plan != NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

				retired_plans = lappend(retired_plans, fresh.plan);
				if (fresh.pending != NULL)
					retired_plans = lappend(retired_plans, fresh.pending);
				MemoryContextSwitchTo(old);
			}
			return NULL;
		}
		e = hash_search(copies, &key, HASH_ENTER, &found);
		*e = fresh;
	}
	return e;
}

static char *
column_text(HeapTuple tup, TupleDesc desc, AttrNumber attno, bool *isnull)
{
	Datum		d = heap_getattr(tup, attno, desc, isnull);
	Oid			out;
	bool		varlena;

	if (*isnull)
		return NULL;
	getTypeOutputInfo(TupleDescAttr(desc, attno - 1)->atttypid, &out, &varlena);
	return OidOutputFunctionCall(out, d);
}

/* Drop the collected keys and stop collecting. */
static void
batch_reset(void)
{
	batch = NULL;
	batch_subid = InvalidSubTransactionId;
	batch_flushing = false;
	if (batch_context != NULL)
		MemoryContextDelete(batch_context);
	batch_context = NULL;
}

static bool
batch_has_keys(void)
{
	HASH_SEQ_STATUS seq;
	CopyBatch  *b;

	if (batch == NULL)
		return false;
	hash_seq_init(&seq, batch);
	while ((b = hash_seq_search(&seq)) != NULL)
		if (b->nrows > 0)
		{
			hash_seq_term(&seq);
			return true;
		}
	return false;
}

static void
batch_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (batch_has_keys())
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("derived copies of severed rows were collected and not severed"),
						 errhint("Call pals_privacy._copy_sever_flush() before the transaction ends; "
								 "sever_backlog() does.")));
			batch_reset();
			break;
		default:
			/* commit, abort: the memory is the transaction's, and gone */
			batch = NULL;
			batch_context = NULL;
			batch_subid = InvalidSubTransactionId;
			batch_flushing = false;
			break;
	}
}

static void
batch_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	/* the rows whose keys were collected are rolled back: so are the keys */
	if (event == SUBXACT_EVENT_ABORT_SUB && batch_subid != InvalidSubTransactionId &&
		mySubid == batch_subid)
		batch_reset();
}

/* The firing is collected (batched) rather than run. */
static bool
batch_collecting(void)
{
	return batch != NULL && !batch_flushing && batch_subid == GetCurrentSubTransactionId();
}

/* One row's key (nkeys text values, none NULL) into the batch of key. */
static void
batch_add(CopyKey *key, int nkeys, char **values)
{
	CopyBatch  *b;
	bool		found;
	MemoryContext old = MemoryContextSwitchTo(batch_context);

	b = hash_search(batch, key, HASH_ENTER, &found);
	if (!found)
	{
		b->nkeys = nkeys;
		b->nrows = 0;
		b->maxrows = 256;
		b->keys = palloc(sizeof(Datum) * nkeys * b->maxrows);
	}
	else if (b->nkeys != nkeys)
		elog(ERROR, "pals_privacy: the copy binding of relation %u changed its key while being collected", key->copy);
	else if (b->nrows == b->maxrows)
	{
		b->maxrows *= 2;
		b->keys = repalloc_huge(b->keys, sizeof(Datum) * nkeys * b->maxrows);
	}
	for (int i = 0; i < nkeys; i++)
		b->keys[b->nrows * nkeys + i] = CStringGetTextDatum(values[i]);
	b->nrows++;
	MemoryContextSwitchTo(old);
}

/*
 * Whether the row the trigger fired for takes its copies with it (gone, its
 * key changed, or its patron gone), and with what key (the row's key before
 * the change, as text; NULL where a column is NULL).  cs is a copy of the
 * cache entry, its key_attnos its own.
 */
static bool
copy_key(const CopySever *cs, TriggerData *td, TupleDesc desc, char **values, bool *anykey)
{
	bool		isnull;

	if (!cs->bound)
		return false;
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		bool		key_changed = false;
		bool		changed = false;

		/*
		 * The update trigger has no WHEN clause (read and compiled for every
		 * statement that updates the relation, it cost more than this): an
		 * update that leaves the key and the patron as they were is nothing
		 * to sever.
		 */
		for (int i = 0; i < cs->nkeys && !changed; i++)
			changed = column_distinct(td->tg_trigtuple, td->tg_newtuple, desc, cs->key_attnos[i],
									  cs->key_eq[i], cs->key_coll[i]);
		if (!changed && cs->source_bound)
			changed = column_distinct(td->tg_trigtuple, td->tg_newtuple, desc, cs->patron_attno,
									  cs->patron_eq, cs->patron_coll);
		if (!changed)
			return false;

		for (int i = 0; i < cs->nkeys && !key_changed; i++)
		{
			bool		oldnull;
			bool		newnull;
			char	   *o = column_text(td->tg_trigtuple, desc, cs->key_attnos[i], &oldnull);
			char	   *n = column_text(td->tg_newtuple, desc, cs->key_attnos[i], &newnull);

			key_changed = oldnull != newnull || (!oldnull && strcmp(o, n) != 0);
		}
		if (!key_changed)
		{
			char	   *newp;

			if (!cs->source_bound)
				return false;
			newp = column_text(td->tg_newtuple, desc, cs->patron_attno, &isnull);
			/* still identified: nothing to do */
			if (!(isnull || (cs->placeholder != NULL && strcmp(newp, cs->placeholder) == 0)))
				return false;
		}
	}
	/* the copies keyed by the row's key before the change */
	*anykey = false;
	for (int i = 0; i < cs->nkeys; i++)
	{
		values[i] = column_text(td->tg_trigtuple, desc, cs->key_attnos[i], &isnull);
		*anykey |= !isnull;
	}
	return true;
}

/* A copy of a cache entry that outlives the entry (an invalidation may free it). */
static void
copy_entry(CopySever *cs, const CopySever *e)
{
	*cs = *e;
	if (cs->placeholder != NULL)
		cs->placeholder = pstrdup(cs->placeholder);
	if (cs->sever_with != NULL)
		cs->sever_with = pstrdup(cs->sever_with);
	if (cs->copy_name != NULL)
		cs->copy_name = pstrdup(cs->copy_name);
	if (cs->source_name != NULL)
		cs->source_name = pstrdup(cs->source_name);
	cs->tree = NULL;			/* the entry's: not needed here */
	cs->ntree = 0;
	if (cs->bound)
	{
		cs->key_attnos = palloc(sizeof(AttrNumber) * cs->nkeys);
		memcpy(cs->key_attnos, e->key_attnos, sizeof(AttrNumber) * cs->nkeys);
		cs->key_eq = palloc(sizeof(Oid) * cs->nkeys);
		memcpy(cs->key_eq, e->key_eq, sizeof(Oid) * cs->nkeys);
		cs->key_coll = palloc(sizeof(Oid) * cs->nkeys);
		memcpy(cs->key_coll, e->key_coll, sizeof(Oid) * cs->nkeys);
	}
}

/* The severing statement just run severed fewer rows than there were to sever. */
static bool
copy_rows_left(void)
{
	bool		isnull;
	int64		expected = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	int64		done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	return done < expected;
}

/*
 * Rows of the copy that the severing statement left identified (a BEFORE
 * trigger of the ILS returned NULL, or put the patron back): recorded as
 * pending severs, which the maintenance run retries and purge_expired()
 * heeds, and reported to the client that severed the source.  Never an
 * error: the return or the sever of the source row goes through, as a
 * source row that cannot be severed does (sever.c).
 */
static void
record_left(CopySever *cs, Datum *key, const char *nulls)
{
	uint64		n;

	pals_execute_as(pals_registry()->extension_owner, cs->pending, key, nulls);
	n = SPI_processed;
	if (n == 0)
		return;
	ereport(WARNING,
			(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
			 errmsg_plural("%llu row of \"%s\" was not severed with its source row of \"%s\"",
						   "%llu rows of \"%s\" were not severed with their source row of \"%s\"",
						   (unsigned long) n, (unsigned long long) n, cs->copy_name, cs->source_name),
			 errdetail("A trigger of \"%s\" skipped or undid the change of sever_with '%s' (a BEFORE trigger returned NULL), "
					   "so the rows still tie the former borrower to the item. They are recorded in pals_privacy.sever_pending_rows.",
					   cs->copy_name, cs->sever_with),
			 errhint("Make the trigger let the change through, make the source's settled_when wait for what the trigger waits for, "
					 "or bind the copy with another sever_with. Every maintenance run retries the rows; "
					 "purge_expired() does not purge their patron while they remain.")));
}

/* Collect a row's key (batched); a key with a NULL column matches no copy row. */
static void
collect(CopySever *cs, char **values)
{
	for (int i = 0; i < cs->nkeys; i++)
		if (values[i] == NULL)
			return;
	batch_add(&cs->key, cs->nkeys, values);
}

Datum
pals_privacy_sever_copies(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	Oid			copy;
	volatile Oid via = InvalidOid;
	CopySever  *e;
	CopySever	cs;
	char	  **values;
	bool		anykey;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs < 1)
		elog(ERROR, "pals_privacy: _sever_copies() must be an AFTER ROW trigger with the copy relation as argument");
	copy = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(td->tg_trigger->tgargs[0])));
	/* a source of the copy after its first (bind_copy once per source) */
	if (td->tg_trigger->tgnargs >= 2)
		via = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(td->tg_trigger->tgargs[1])));
	desc = RelationGetDescr(td->tg_relation);

	/*
	 * Batched (sever_backlog), the binding already read: the key is
	 * collected, no SQL runs (from a copy of the entry, as below).
	 */
	if (batch_collecting() && copies != NULL)
	{
		CopyKey		k;

		memset(&k, 0, sizeof(k));
		k.copy = copy;
		k.source = RelationGetRelid(td->tg_relation);
		k.via = via;
		e = hash_search(copies, &k, HASH_FIND, NULL);
		if (e != NULL)
		{
			copy_entry(&cs, e);
			values = palloc0(sizeof(char *) * Max(cs.nkeys, 1));
			if (copy_key(&cs, td, desc, values, &anykey))
				collect(&cs, values);
			return PointerGetDatum(NULL);
		}
	}

	free_retired_plans();
	SPI_connect();
	firing++;
	PG_TRY();
	{
		/* NULL: invalidated while loading, load again; never skip the copies */
		for (int attempt = 0; (e = copy_sever_for(copy, via, td->tg_relation)) == NULL; attempt++)
			if (attempt >= 3)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the copy binding of relation %u changed while it was being read", copy),
						 errhint("Retry the statement.")));
		/*
		 * A catalog lookup below (an output function) may take in an
		 * invalidation that frees the cache: work from a copy of the entry.
		 * Its plan stays valid (retired plans are freed only between
		 * firings).
		 */
		copy_entry(&cs, e);
		values = palloc0(sizeof(char *) * Max(cs.nkeys, 1));
		if (copy_key(&cs, td, desc, values, &anykey))
		{
			if (batch_collecting())
				collect(&cs, values);
			/*
			 * a row without a key has no copies (NULL equals nothing), nor
			 * one whose first key no copy row has
			 */
			else if (anykey && copy_may_hold(&cs, values[0]))
			{
				Datum	   *args = palloc(sizeof(Datum) * cs.nkeys);
				char	   *nulls = palloc(cs.nkeys + 1);

				for (int i = 0; i < cs.nkeys; i++)
				{
					args[i] = values[i] == NULL ? (Datum) 0 : CStringGetTextDatum(values[i]);
					nulls[i] = values[i] == NULL ? 'n' : ' ';
				}
				nulls[cs.nkeys] = '\0';
				pals_execute_as(pals_registry()->extension_owner, cs.plan, args, nulls);
				if (cs.checked && SPI_processed == 1 && copy_rows_left())
					record_left(&cs, args, nulls);
			}
		}
	}
	PG_FINALLY();
	{
		firing--;
	}
	PG_END_TRY();
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * pals_privacy._copy_sever_collect(): from now on, in this subtransaction,
 * the copies of rows severed or deleted are collected, not severed, until
 * _copy_sever_flush() (sever_backlog, one batch).
 */
Datum
pals_privacy_copy_sever_collect(PG_FUNCTION_ARGS)
{
	HASHCTL		ctl;

	if (!batch_callbacks)
	{
		RegisterXactCallback(batch_xact_callback, NULL);
		RegisterSubXactCallback(batch_subxact_callback, NULL);
		batch_callbacks = true;
	}
	if (batch != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("derived copies are already being collected"),
				 errhint("Call pals_privacy._copy_sever_flush() first.")));
	batch_context = AllocSetContextCreate(TopTransactionContext, "pals_privacy copy severing batch",
										  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(CopyKey);
	ctl.entrysize = sizeof(CopyBatch);
	ctl.hcxt = batch_context;
	batch = hash_create("pals_privacy copy severing batch", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	batch_subid = GetCurrentSubTransactionId();
	PG_RETURN_VOID();
}

/*
 * pals_privacy._copy_sever_flush() returns bigint: sever the copies of the
 * keys collected since _copy_sever_collect(), one statement per copy
 * binding and source relation, stop collecting; the number of copy rows
 * changed.
 */
Datum
pals_privacy_copy_sever_flush(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	CopyBatch  *b;
	List	   *volatile todo = NIL;
	ListCell   *lc;
	volatile int64 total = 0;

	if (batch == NULL || batch_flushing || batch_subid != GetCurrentSubTransactionId())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("derived copies are not being collected in this subtransaction"),
				 errhint("Call pals_privacy._copy_sever_collect() first, in the same subtransaction.")));
	hash_seq_init(&seq, batch);
	while ((b = hash_seq_search(&seq)) != NULL)
		if (b->nrows > 0)
			todo = lappend(todo, b);

	/*
	 * from here on, firings (of triggers on the copies, say) run at once; if
	 * the flush fails, the subtransaction's rollback drops the keys
	 */
	batch_flushing = true;

	free_retired_plans();
	SPI_connect();
	firing++;
	PG_TRY();
	{
		foreach(lc, todo)
		{
			CopyBatch  *cb = (CopyBatch *) lfirst(lc);
			Relation	rel = relation_open(cb->key.source, AccessShareLock);
			CopySever  *e;
			SPIPlanPtr	plan;
			Datum	   *args;
			Oid		   *types;
			Datum	   *column;
			char	   *sql;

			for (int attempt = 0; (e = copy_sever_for(cb->key.copy, cb->key.via, rel)) == NULL; attempt++)
				if (attempt >= 3)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
							 errhint("Retry the statement.")));
			if (e->bound)
			{
				int			nkeys = e->nkeys;

				if (nkeys != cb->nkeys)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
							 errhint("Retry the statement.")));
				/*
				 * Preparing may take in an invalidation that frees the
				 * cache (and e): the plan goes into the entry found again,
				 * or is retired (freed after this flush).
				 */
				plan = e->batch_plan;
				types = palloc(sizeof(Oid) * nkeys);
				for (int i = 0; i < nkeys; i++)
					types[i] = TEXTARRAYOID;
				if (plan == NULL)
				{
					Oid			qtypes[2] = {OIDOID, OIDOID};
					Datum		qargs[2] = {ObjectIdGetDatum(cb->key.copy), ObjectIdGetDatum(cb->key.via)};
					bool		isnull;

					/* as the binding is now: of the same number of key columns, or changed */
					pals_execute_sql_as(pals_registry()->extension_owner, batch_sql_query, 2, qtypes, qargs);
					if (SPI_processed != 1 ||
						DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) != nkeys ||
						(sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) == NULL)
						ereport(ERROR,
								(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
								 errmsg("the copy binding of relation %u changed while it was being read", cb->key.copy),
								 errhint("Retry the statement.")));
					plan = pals_prepare_saved(sql, nkeys, types);
					e = copies != NULL ? hash_search(copies, &cb->key, HASH_FIND, NULL) : NULL;
					if (e != NULL && e->batch_plan == NULL)
						e->batch_plan = plan;
					else
					{
						MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

						retired_plans = lappend(retired_plans, plan);
						MemoryContextSwitchTo(old);
					}
				}
				/* one text[] per key column */
				args = palloc(sizeof(Datum) * nkeys);
				column = palloc(sizeof(Datum) * cb->nrows);
				for (int i = 0; i < nkeys; i++)
				{
					for (int r = 0; r < cb->nrows; r++)
						column[r] = cb->keys[r * nkeys + i];
					args[i] = PointerGetDatum(construct_array(column, cb->nrows, TEXTOID, -1, false, TYPALIGN_INT));
				}
				pals_execute_as(pals_registry()->extension_owner, plan, args, NULL);
				total += SPI_processed;
			}
			relation_close(rel, NoLock);
		}
	}
	PG_FINALLY();
	{
		firing--;
	}
	PG_END_TRY();
	SPI_finish();
	batch_reset();
	PG_RETURN_INT64(total);
}

/*
 * pals_privacy._written_here(xid) returns boolean: was a row with this xmin
 * written by the current transaction (or one of its subtransactions, not
 * rolled back)?  With several sources, a source's sever leaves the copy
 * alone only for a row of another source written in the same transaction:
 * the row moved there (Koha's return, INSERT into old_issues then DELETE
 * from issues), never a row written before by someone else (a decoy with
 * the key, _copy_held).  A row visible to the statement whose xmin is in
 * progress is the transaction's own.
 */
Datum
pals_privacy_written_here(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(TransactionIdIsCurrentTransactionId(DatumGetTransactionId(PG_GETARG_DATUM(0))));
}
