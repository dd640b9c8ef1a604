/*
 * redact_policy.c
 *     What each privacy class reads of one relation: which bindings cover
 *     it (its own, or its nearest bound ancestor's), and the rules the class
 *     reads it under (masks by column, row filters), from the class table
 *     of docs/redaction.md.  Both are worked out once per registry
 *     generation (and again when the relation changes) and kept in one
 *     memory context; the rules are built for range table index 1 and
 *     copied for each use.  The query rewrite (redact_rewrite.c) applies
 *     them.  The files of the mechanism: redact_internal.h.
 */
#include "redact_internal.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "rewrite/rewriteManip.h"
#include "rewrite/rowsecurity.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/* ----------------------------------------------------------------------
 * Per-relation policy: which bindings cover a relation (its own, or its
 * nearest bound ancestor's).  Memoised per registry generation.
 * ---------------------------------------------------------------------- */

static MemoryContext derived_context = NULL;
static Derived derived;

int
redact_relation_natts(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			natts;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	natts = ((Form_pg_class) GETSTRUCT(tup))->relnatts;
	ReleaseSysCache(tup);
	return natts;
}

bool
redact_is_sql_function(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	bool		sql;

	if (!HeapTupleIsValid(tup))
		return false;
	sql = ((Form_pg_proc) GETSTRUCT(tup))->prolang == SQLlanguageId;
	ReleaseSysCache(tup);
	return sql;
}

static Oid
own_function(const char *name, int nargs, Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString("pals_privacy"), makeString(pstrdup(name))),
						  nargs, argtypes, false);
}

/* _coarse_time(x, unit[, zone]): InvalidOid under an older script (0.1.0) */
static Oid
coarse_function(int nargs, Oid type)
{
	Oid			args[3] = {type, TEXTOID, TEXTOID};

	return LookupFuncName(list_make2(makeString("pals_privacy"), makeString("_coarse_time")),
						  nargs, args, true);
}

/*
 * The statistics counters: pg_catalog's functions, the same for the life of
 * the backend, so found once, apart from the registry's Derived (whose
 * lookups of the extension's own functions fail while an older version of
 * the extension is installed: a PL/pgSQL expression asks about counters
 * before any binding exists, see redact_hooks.c).
 */
static struct Counters
{
	int			ncounters;		/* statistics counters keyed by an OID (see mask_counters) */
	Oid		   *counters;		/* sorted */
	int			nio_counters;	/* I/O and WAL statistics, WAL positions: refused */
	Oid			io_counters[8];
} *counter_set = NULL;

/*
 * The cumulative statistics functions that take one OID (a relation, an
 * index, a database): pg_stat_get_tuples_fetched(oid) and the rest, which
 * pg_stat_user_tables, pg_stat_user_indexes, pg_statio_* and
 * pg_stat_database are made of.  Found by name, so every version's set is.
 */
static const struct Counters *
counters(void)
{
	struct Counters *d;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	int			size = 128;

	if (counter_set != NULL)
		return counter_set;
	d = MemoryContextAllocZero(TopMemoryContext, sizeof(struct Counters));
	rel = table_open(ProcedureRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	d->counters = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * size);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_proc f = (Form_pg_proc) GETSTRUCT(tup);

		/*
		 * The I/O statistics of the cluster and of one backend (16 and
		 * later): blocks hit and read, counted the moment a scan fetches a
		 * hidden row's page, whatever the quals do next.  WAL too: a page
		 * a probe fetches is pruned (or, with checksums, hint bits set),
		 * and the WAL that writes moves the WAL position and statistics.
		 */
		if (f->pronamespace == PG_CATALOG_NAMESPACE && d->nio_counters < (int) lengthof(d->io_counters) &&
			(strcmp(NameStr(f->proname), "pg_stat_get_io") == 0 ||
			 strcmp(NameStr(f->proname), "pg_stat_get_backend_io") == 0 ||
			 strcmp(NameStr(f->proname), "pg_stat_get_wal") == 0 ||
			 strcmp(NameStr(f->proname), "pg_stat_get_backend_wal") == 0 ||
			 strcmp(NameStr(f->proname), "pg_current_wal_lsn") == 0 ||
			 strcmp(NameStr(f->proname), "pg_current_wal_insert_lsn") == 0 ||
			 strcmp(NameStr(f->proname), "pg_current_wal_flush_lsn") == 0))
			d->io_counters[d->nio_counters++] = f->oid;

		/*
		 * (scalar results only: pg_stat_get_subscription(oid) and the like
		 * return rows, which a CASE cannot, and count no tuples)
		 */
		if (f->pronamespace != PG_CATALOG_NAMESPACE || f->pronargs != 1 ||
			f->proargtypes.values[0] != OIDOID || f->proretset || f->prorettype == RECORDOID ||
			strncmp(NameStr(f->proname), "pg_stat_get_", 12) != 0)
			continue;
		if (d->ncounters == size)
			d->counters = repalloc(d->counters, sizeof(Oid) * (size *= 2));
		d->counters[d->ncounters++] = f->oid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(d->counters, d->ncounters, sizeof(Oid), oid_cmp);
	counter_set = d;
	return d;
}

bool
redact_is_io_counter(Oid fn)
{
	const struct Counters *d = counters();

	for (int i = 0; i < d->nio_counters; i++)
		if (fn == d->io_counters[i])
			return true;
	return false;
}

bool
redact_is_counter(Oid fn)
{
	const struct Counters *d = counters();

	return bsearch(&fn, d->counters, d->ncounters, sizeof(Oid), oid_cmp) != NULL;
}

const Derived *
redact_derived(void)
{
	const PalsRegistry *reg = pals_registry();

	if (derived_context == NULL || derived.generation != reg->generation)
	{
		HASHCTL		ctl;
		Oid			t1[1] = {TEXTOID};
		Oid			t3[3] = {TEXTOID, TEXTOID, TEXTOID};
		Oid			lb[4] = {OIDOID, TEXTOID, OIDOID, TIDOID};
		Oid			o1[1] = {OIDOID};

		/* a rewrite under way may hold policies of the old registry */
		if (derived_context != NULL)
			pals_retire_context(derived_context);
		derived_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy redaction",
												ALLOCSET_SMALL_SIZES);
		memset(&derived, 0, sizeof(derived));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelPolicy);
		ctl.hcxt = derived_context;
		derived.policies = hash_create("pals_privacy policies", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		derived.fn_session_patron = own_function("session_patron", 0, NULL);
		derived.fn_last_borrower = own_function("_last_borrower", 4, lb);
		derived.fn_collectible = own_function("_collectible", 1, t1);
		derived.fn_contact_visible = own_function("_contact_visible", 3, t3);
		derived.fn_stats_visible = own_function("_stats_visible", 1, o1);
		derived.fn_stats_ext_visible = own_function("_stats_ext_visible", 1, o1);
		derived.fn_acknowledged = own_function("_acknowledged", 0, NULL);
		derived.fn_wards = own_function("_wards", 0, NULL);
		derived.fn_own_row_security = own_function("_own_row_security_only", 1, o1);
		derived.fn_preloaded = own_function("_preloaded", 0, NULL);
		derived.fn_coarse_time[0] = coarse_function(3, TIMESTAMPTZOID);
		derived.fn_coarse_time[1] = coarse_function(2, TIMEOID);
		derived.fn_coarse_time[2] = coarse_function(2, TIMETZOID);
		derived.generation = reg->generation;
	}
	return &derived;
}

/*
 * A relation we hold a policy for changed (attached as a partition, made an
 * inheritance child, a column added): work its policy out again.
 */
void
redact_relcache_callback(Datum arg, Oid relid)
{
	if (derived_context == NULL || derived.policies == NULL)
		return;
	if (relid == InvalidOid || hash_search(derived.policies, &relid, HASH_FIND, NULL) != NULL)
		derived.generation = 0;
}

static const ColumnBinding *
column_binding_for(List *bindings, List *ancestors)
{
	ListCell   *la,
			   *lb;

	foreach(la, ancestors)
		foreach(lb, bindings)
			if (((ColumnBinding *) lfirst(lb))->relid == lfirst_oid(la))
				return lfirst(lb);
	return NULL;
}

const RelPolicy *
redact_policy_for(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	const Derived *d = redact_derived();
	RelPolicy  *p;
	bool		found;
	List	   *ancestors = NIL;
	ListCell   *la,
			   *lb;
	MemoryContext old;

	p = hash_search(d->policies, &relid, HASH_ENTER, &found);
	if (found)
		return p;
	old = MemoryContextSwitchTo(derived_context);
	memset(((char *) p) + sizeof(Oid), 0, sizeof(RelPolicy) - sizeof(Oid));
	pals_ancestors(relid, &ancestors);
	foreach(la, ancestors)
	{
		Oid			r = lfirst_oid(la);

		if (p->patrons == NULL && reg->patrons != NULL && reg->patrons->relid == r)
			p->patrons = reg->patrons;
		if (p->outbox == NULL)
			foreach(lb, reg->outboxes)
				if (((OutboxBinding *) lfirst(lb))->relid == r)
					p->outbox = lfirst(lb);
		foreach(lb, reg->contacts)
			if (((ColumnBinding *) lfirst(lb))->relid == r)
				p->contacts = lappend(p->contacts, lfirst(lb));
	}
	p->loan = pals_loan_binding_for(relid);
	p->card = column_binding_for(reg->cards, ancestors);
	p->balance = column_binding_for(reg->balances, ancestors);
	p->history = column_binding_for(reg->histories, ancestors);
	p->guardian = column_binding_for(reg->guardians, ancestors);
	p->account = column_binding_for(reg->accounts, ancestors);
	foreach(la, ancestors)
		foreach(lb, reg->copies)
			if (p->copy == NULL && ((CopyBinding *) lfirst(lb))->relid == lfirst_oid(la))
				p->copy = lfirst(lb);
	p->bound = p->patrons || p->loan || p->card || p->balance || p->history ||
		p->outbox || p->contacts || p->guardian || p->copy || p->account;
	if (!p->bound && has_subclass(relid))
	{
		List	   *below = find_all_inheritors(relid, NoLock, NULL);

		/* redact_policy_for() may grow the table: look the descendants up first */
		MemoryContextSwitchTo(old);
		foreach(la, below)
			if (lfirst_oid(la) != relid && redact_policy_for(lfirst_oid(la))->bound)
			{
				p = hash_search(redact_derived()->policies, &relid, HASH_FIND, NULL);
				p->bound_below = true;
				break;
			}
		list_free(ancestors);
		return p;
	}
	MemoryContextSwitchTo(old);
	list_free(ancestors);
	return p;
}

/* Is relid an unbound ancestor of a bound relation (an inheritance parent)? */
bool
redact_bound_below(Oid relid)
{
	return redact_policy_for(relid)->bound_below;
}

/* Do relid's statistics describe a bound relation's rows (its own, or its children's)? */
bool
pals_statistics_of_bound(Oid relid)
{
	const RelPolicy *p = redact_policy_for(relid);

	return p->bound || p->bound_below;
}

/*
 * Is the relation's row security only pals_privacy's (its pass-through and
 * the preload guard)?  See copy_from_bound (redact_hooks.c) and
 * pals_privacy_own_row_security_only (redact_runtime.c).
 */
bool
redact_only_our_row_security(Relation rel)
{
	ListCell   *lc;

	if (rel->rd_rsdesc == NULL)
		return true;
	foreach(lc, rel->rd_rsdesc->policies)
	{
		const char *name = ((RowSecurityPolicy *) lfirst(lc))->policy_name;

		if (strcmp(name, "pals_privacy_redaction") != 0 && strcmp(name, "pals_privacy_guard") != 0)
			return false;
	}
	return true;
}

/* ----------------------------------------------------------------------
 * Expression builders
 * ---------------------------------------------------------------------- */

static Var *
column_var(RteRules *r, const char *column)
{
	return pals_bound_var(r->relid, column, r->rti, 0);
}

static Expr *
coerce_io(Expr *e, Oid type)
{
	CoerceViaIO *c;

	if (exprType((Node *) e) == type)
		return e;
	c = makeNode(CoerceViaIO);
	c->arg = e;
	c->resulttype = type;
	c->resultcollid = get_typcollation(type);
	c->coerceformat = COERCE_EXPLICIT_CAST;
	c->location = -1;
	return (Expr *) c;
}

Expr *
redact_call(Oid fn, List *args)
{
	return (Expr *) makeFuncExpr(fn, BOOLOID, args, InvalidOid, DEFAULT_COLLATION_OID,
								 COERCE_EXPLICIT_CALL);
}

static Expr *
text_const(const char *s)
{
	return (Expr *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
							  CStringGetTextDatum(s), false, false);
}

static Expr *
equal_to(Expr *a, Expr *b)
{
	Oid			type = exprType((Node *) a);
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	OpExpr	   *op;

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("pals_privacy: type %s has no equality operator", format_type_be(type))));
	op = (OpExpr *) make_opclause(tc->eq_opr, BOOLOID, false, a, b, InvalidOid,
								  exprCollation((Node *) a));
	op->inputcollid = exprCollation((Node *) a);
	set_opfuncid(op);
	return (Expr *) op;
}

static Expr *
is_null(Expr *e, bool isnull)
{
	NullTest   *n = makeNode(NullTest);

	n->arg = e;
	n->nulltesttype = isnull ? IS_NULL : IS_NOT_NULL;
	n->argisrow = false;
	n->location = -1;
	return (Expr *) n;
}

/* column = the logged-in patron (NULL before login: no row matches) */
static Expr *
own_rows(RteRules *r, const char *column)
{
	Var		   *v = column_var(r, column);
	Expr	   *patron = (Expr *) makeFuncExpr(redact_derived()->fn_session_patron, TEXTOID, NIL,
											  DEFAULT_COLLATION_OID, InvalidOid,
											  COERCE_EXPLICIT_CALL);

	return equal_to((Expr *) v, coerce_io(patron, v->vartype));
}

/*
 * The logged-in patron's rows; with guardian access also those of the minors
 * they are guardian of (where also holds, if given).  Written as
 * column = ANY(wards) so that an index on the column still serves.
 */
static Expr *
patron_rows(RteRules *r, const char *column, bool wards, Expr *also)
{
	Expr	   *own = own_rows(r, column);
	Var		   *v;
	Oid			array_type;
	ScalarArrayOpExpr *any;
	Expr	   *ward;

	if (!wards)
		return own;
	v = column_var(r, column);
	array_type = get_array_type(v->vartype);
	if (!OidIsValid(array_type))
		return own;
	any = makeNode(ScalarArrayOpExpr);
	any->opno = lookup_type_cache(v->vartype, TYPECACHE_EQ_OPR)->eq_opr;
	any->opfuncid = get_opcode(any->opno);
	any->useOr = true;
	any->inputcollid = v->varcollid;
	any->args = list_make2(v, coerce_io((Expr *) makeFuncExpr(redact_derived()->fn_wards, TEXTARRAYOID, NIL,
															  DEFAULT_COLLATION_OID, InvalidOid,
															  COERCE_EXPLICIT_CALL),
										array_type));
	any->location = -1;
	ward = also ? makeBoolExpr(AND_EXPR, list_make2(any, also), -1) : (Expr *) any;
	return makeBoolExpr(OR_EXPR, list_make2(own, ward), -1);
}

/* the patron owes more than pals_privacy.collections_threshold */
static Expr *
collectible(RteRules *r, const char *column)
{
	return redact_call(redact_derived()->fn_collectible,
				list_make1(coerce_io((Expr *) column_var(r, column), TEXTOID)));
}

/*
 * Mask a column: NULL always (show == NULL), or unless show is true.  Rules
 * add up: every condition must hold, and "always" beats any condition.
 */
static void
mask(RteRules *r, const char *column, Expr *show)
{
	AttrNumber	attno = column_var(r, column)->varattno;

	r->nrules[attno]++;
	if (show == NULL)
		r->hidden[attno] = true;
	else
		r->shows[attno] = lappend(r->shows[attno], show);
}

/*
 * Mask a column that dates a loan's closing or settlement: where it is
 * masked, a stored time reads '-infinity' and NULL stays NULL, so "closed"
 * and "settled" keep meaning what they mean (a report counting open loans
 * by "xact_finish IS NULL" counts the same rows as the ILS) and only the
 * time, the quasi-identifier, is hidden.  Only for date and timestamp
 * columns, and only while no other rule masks the column (another rule's
 * NULL hides whether it is set, which this would show).
 */
static void
mask_dated(RteRules *r, const char *column, Expr *show)
{
	Var		   *v = column_var(r, column);

	mask(r, column, show);
	if (v->vartype == DATEOID || v->vartype == TIMESTAMPOID || v->vartype == TIMESTAMPTZOID)
		r->ndated[v->varattno]++;
}

/*
 * Mask a patron column of a loan the way severing cuts it: where it is
 * masked, it reads what severing writes there (the placeholder patron of
 * sever_with => 'patron:<id>', a Const), so that a row kept identified (an
 * opted-in patron's history kept in place, a sever pending, history the
 * backlog has not reached) reads as it will once severed, and a purge or a
 * withdrawn opt-in that severs it changes nothing a class reads.  Only while
 * every rule on the column is such a rule: another rule's NULL (a policy not
 * acknowledged) hides the severed rows too.
 */
static void write_needs(RteRules *r, const char *column, Expr *cond);

static void
mask_severed(RteRules *r, const char *column, Expr *show, Expr *severed)
{
	Var		   *v = column_var(r, column);

	mask(r, column, show);
	r->nsevered[v->varattno]++;
	r->severed[v->varattno] = severed;
	/*
	 * A row severed to the placeholder reads whole, a kept one reads the
	 * same placeholder masked: writes reach neither (see write_needs).
	 */
	write_needs(r, column, makeBoolExpr(OR_EXPR,
										list_make2(is_null((Expr *) copyObject(v), true),
												   makeBoolExpr(NOT_EXPR,
																list_make1(equal_to((Expr *) copyObject(v),
																					copyObject(severed))), -1)), -1));
}

/*
 * A further condition for a write (UPDATE, DELETE, a row lock, the row in an
 * ON CONFLICT) to reach a row where column is masked, on top of its being
 * shown: that its stored value is not what severing writes there (NULL) on
 * a row severing would have reached.  Such a row reads whole (there is
 * nothing left to hide), while a row kept identified reads the same NULL
 * masked, which writes never reach: a write that reached only the former
 * (UPDATE ... WHERE patron_id IS NULL RETURNING id) would tell them apart
 * (attack_writesplit).  For 'patron:<id>' bindings the same holds of the
 * placeholder (mask_severed).
 */
static void
write_needs(RteRules *r, const char *column, Expr *cond)
{
	AttrNumber	attno = column_var(r, column)->varattno;

	r->writes[attno] = r->writes[attno] == NULL ? cond
		: makeBoolExpr(AND_EXPR, list_make2(r->writes[attno], cond), -1);
}

/*
 * Mask a closed time of a loan (closed_columns) the way a report by day
 * still reads it: where masked, the stored time reads truncated to the
 * binding's closed_precision (the start of its day, by default) in the
 * binding's time zone, and NULL stays NULL.  On a row whose patron the
 * class does not read (severed, or hidden), the exact return time is a
 * quasi-identifier: the ILS writes it again, to the second, next to the
 * patron, wherever something happens at the return (a charge made then,
 * a receipt, a notice), so an exact-time join gives the severed row its
 * patron back (shelf_shape's charge-time join).  Truncated, it pairs with
 * every return of that day.  The zone is fixed at binding: truncated in
 * the reading session's TimeZone, a time would move across the day's edge
 * as the reader changes the zone, and reading it under many zones would
 * find it to the second.  Only while every rule on the column is such a
 * rule or mask_dated's (which hides more, and wins: see masked_value).
 *
 * By the column's type, looked through its domains (a domain over
 * timestamptz was read exact before, attack round 11's HOLE 2):
 * - timestamptz: _coarse_time(x, unit, zone) (redact_coarse.c), the value of
 *   timezone(zone, date_trunc(unit, timezone(zone, x))) in one call (that
 *   expression itself under an older script without the function);
 *   timestamp: date_trunc(unit, x); date: the same through a timestamp, and
 *   left alone at 'hour' and 'day' (a date is read to the day already);
 *   time, timetz: _coarse_time(x, unit), to the hour or midnight;
 * - a domain over one of them: truncated as its base type and relabelled
 *   back to the domain (pg_typeof is unchanged; a relabelling checks
 *   nothing); a domain with constraints reads NULL instead: a truncated
 *   value might violate its CHECK (read unchecked, a value the domain does
 *   not allow; checked, an error that tells the rows apart);
 * - an array, range, multirange or composite (of times, or of anything):
 *   NULL, with no rule for its elements;
 * - any other type (a bigint epoch, a text): left as stored, and bind_loans
 *   and health() say so ("closed columns are times"): hide_columns hides it.
 * ncoarse/coarse count and hold only the truncated columns (a NULL one is a
 * plain mask).
 */
static void
mask_coarse(RteRules *r, const LoanBinding *b, const char *column, Expr *show)
{
	Var		   *v = column_var(r, column);
	const Derived *d = redact_derived();
	int32		typmod = v->vartypmod;
	Oid			base = getBaseTypeAndTypmod(v->vartype, &typmod);
	bool		domain = base != v->vartype;
	Expr	   *t = (Expr *) copyObject(v);
	Expr	   *unit = text_const(b->closed_precision);
	Expr	   *zone = text_const(b->closed_zone);
	Oid			fn = InvalidOid;

	switch (base)
	{
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case TIMEOID:
		case TIMETZOID:
			break;
		case DATEOID:
			if (strcmp(b->closed_precision, "hour") == 0 || strcmp(b->closed_precision, "day") == 0)
				return;			/* a date read to the day already */
			break;
		default:
			if (type_is_array(base) || type_is_range(base) || type_is_multirange(base) ||
				type_is_rowtype(base))
				mask(r, column, show);	/* NULL where hidden */
			return;				/* no time: as stored (bind_loans warns) */
	}
	if (base == TIMEOID || base == TIMETZOID)
		fn = d->fn_coarse_time[base == TIMEOID ? 1 : 2];
	if ((domain && DomainHasConstraints(v->vartype)) ||
		((base == TIMEOID || base == TIMETZOID) && !OidIsValid(fn)))
	{
		mask(r, column, show);	/* NULL where hidden */
		return;
	}
	if (domain)
		t = (Expr *) makeRelabelType(t, base, typmod, InvalidOid, COERCE_IMPLICIT_CAST);
	if (base == TIMESTAMPTZOID && OidIsValid(d->fn_coarse_time[0]))
		t = (Expr *) makeFuncExpr(d->fn_coarse_time[0], TIMESTAMPTZOID, list_make3(t, unit, zone),
								  InvalidOid, DEFAULT_COLLATION_OID, COERCE_EXPLICIT_CALL);
	else if (base == TIMESTAMPTZOID)
	{
		/* timezone(zone, date_trunc(unit, timezone(zone, x))): immutable */
		t = (Expr *) makeFuncExpr(F_TIMEZONE_TEXT_TIMESTAMPTZ, TIMESTAMPOID, list_make2(zone, t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		t = (Expr *) makeFuncExpr(F_DATE_TRUNC_TEXT_TIMESTAMP, TIMESTAMPOID, list_make2(unit, t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		t = (Expr *) makeFuncExpr(F_TIMEZONE_TEXT_TIMESTAMP, TIMESTAMPTZOID,
								  list_make2(copyObject(zone), t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	}
	else if (base == TIMESTAMPOID)
		t = (Expr *) makeFuncExpr(F_DATE_TRUNC_TEXT_TIMESTAMP, TIMESTAMPOID, list_make2(unit, t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	else if (base == DATEOID)
	{
		t = (Expr *) makeFuncExpr(F_TIMESTAMP_DATE, TIMESTAMPOID, list_make1(t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		t = (Expr *) makeFuncExpr(F_DATE_TRUNC_TEXT_TIMESTAMP, TIMESTAMPOID, list_make2(unit, t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		t = (Expr *) makeFuncExpr(F_DATE_TIMESTAMP, DATEOID, list_make1(t),
								  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	}
	else
		t = (Expr *) makeFuncExpr(fn, base, list_make2(t, unit),
								  InvalidOid, DEFAULT_COLLATION_OID, COERCE_EXPLICIT_CALL);
	if (domain)
		t = (Expr *) makeRelabelType(t, v->vartype, v->vartypmod, InvalidOid, COERCE_IMPLICIT_CAST);
	mask(r, column, show);
	r->ncoarse[v->varattno]++;
	r->coarse[v->varattno] = t;
}

/*
 * A type that holds a time: a date or time type, a domain over one, an
 * array, range or multirange of one, a composite with one among its fields.
 * mask_hidden_times coarsens only these beyond the closed columns (which
 * mask_coarse hides whatever their shape; an array, range or composite
 * reads NULL where hidden): an array of tags or a composite address without
 * a time is no time, and stays as stored.
 */
static bool
holds_time(Oid type)
{
	Oid			base = getBaseType(type);
	Oid			elem;

	switch (base)
	{
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case TIMEOID:
		case TIMETZOID:
		case DATEOID:
			return true;
		default:
			break;
	}
	if (OidIsValid(elem = get_element_type(base)))
		return holds_time(elem);
	if (type_is_range(base))
		return holds_time(get_range_subtype(base));
	if (type_is_multirange(base))
		return holds_time(get_range_subtype(get_multirange_range(base)));
	if (type_is_rowtype(base) && base != RECORDOID)
	{
		/* a composite with a time among its fields (attack round 12) */
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);
		bool		found = false;

		for (int i = 0; i < desc->natts && !found; i++)
			found = !TupleDescAttr(desc, i)->attisdropped && holds_time(TupleDescAttr(desc, i)->atttypid);
		ReleaseTupleDesc(desc);
		return found;
	}
	return false;
}

static bool
is_closed_column(const LoanBinding *b, const char *name)
{
	for (int i = 0; i < b->nclosed; i++)
		if (strcmp(b->closed_columns[i], name) == 0)
			return true;
	return false;
}

/*
 * Every time of a loan row read coarsened where show is false (NULL:
 * always), not only the closed ones: the ILS writes the checkout time, the
 * due time, a renewal's time again, to the second, next to the patron,
 * wherever something happens then (a rental fee charged at checkout, a
 * receipt, a notice, the next loan's checkout by the same visit), so an
 * exact checkout time gives a hidden row its patron back as an exact return
 * time does (identity_hidden_times).  Every closed column and every column
 * that holds a time (holds_time) that no other rule masks, as mask_coarse
 * reads it: called after the patron columns, mask_settled and
 * mask_hidden_loan_columns, whose rules hide more (NULL, '-infinity')
 * under the same condition and win (masked_value).
 */
static void
mask_hidden_times(RteRules *r, const LoanBinding *b, Expr *show)
{
	for (AttrNumber a = 1; a <= r->natts; a++)
	{
		HeapTuple	tup;
		char	   *name = NULL;

		if (r->nrules[a] > 0)
			continue;
		tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(r->relid), Int16GetDatum(a));
		if (!HeapTupleIsValid(tup))
			continue;
		if (!((Form_pg_attribute) GETSTRUCT(tup))->attisdropped)
		{
			Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);

			name = pstrdup(NameStr(att->attname));
			if (!holds_time(att->atttypid) && !is_closed_column(b, name))
				name = NULL;
		}
		ReleaseSysCache(tup);
		if (name != NULL)
			mask_coarse(r, b, name, show ? copyObject(show) : NULL);
	}
}

/*
 * What a masked column reads where it is not shown: NULL, or see
 * mask_dated, mask_severed, mask_coarse.  A closed time that is both
 * dated (hide_columns, settled_when) and coarsened reads '-infinity'.
 */
static Expr *
masked_value(RteRules *r, AttrNumber a, Var *v)
{
	Expr	   *null = (Expr *) makeNullConst(v->vartype, v->vartypmod, v->varcollid);
	NullTest   *set;
	CaseWhen   *w;
	CaseExpr   *c;
	Datum		never;

	if (r->nsevered[a] > 0 && r->nsevered[a] == r->nrules[a])
		return (Expr *) copyObject(r->severed[a]);
	if (r->ncoarse[a] > 0 && r->ncoarse[a] == r->nrules[a])
		return (Expr *) copyObject(r->coarse[a]);
	if (r->ndated[a] == 0 || r->ndated[a] + r->ncoarse[a] != r->nrules[a])
		return null;
	never = v->vartype == DATEOID ? DateADTGetDatum(DATEVAL_NOBEGIN) : TimestampGetDatum(DT_NOBEGIN);
	set = makeNode(NullTest);
	set->arg = (Expr *) copyObject(v);
	set->nulltesttype = IS_NOT_NULL;
	set->argisrow = false;
	set->location = -1;
	w = makeNode(CaseWhen);
	w->expr = (Expr *) set;
	w->result = (Expr *) makeConst(v->vartype, -1, InvalidOid, v->vartype == DATEOID ? 4 : 8,
								   never, false, FLOAT8PASSBYVAL || v->vartype == DATEOID);
	w->location = -1;
	c = makeNode(CaseExpr);
	c->casetype = v->vartype;
	c->casecollid = InvalidOid;
	c->args = list_make1(w);
	c->defresult = null;
	c->location = -1;
	return (Expr *) c;
}

/*
 * Does column a's mask read NULL exactly where the stored value is NULL?
 * So it does where every rule on it is mask_coarse's (a truncated time) or
 * mask_dated's ('-infinity'), and only there: a NULL mask (hide_columns on
 * another column, a policy not acknowledged) hides whether a value is set,
 * mask_severed reads a placeholder.  Where it does, "column IS NULL" tells
 * the class nothing the mask does not, and the rewrite tests the stored
 * column (redact_rewrite.c, mask_mutator): a partial index WHERE
 * returned_at IS NULL and partition pruning serve a desk's open loans.
 * Judged from the rules' bookkeeping, not from what the mask reads.
 */
bool
redact_mask_keeps_nulls(const RteRules *r, AttrNumber a)
{
	return a >= 1 && a <= r->natts && r->masks[a] != NULL && r->nrules != NULL &&
		r->nrules[a] > 0 && r->ncoarse[a] > 0 && r->ncoarse[a] + r->ndated[a] == r->nrules[a];
}

static bool
is_pals_mask(Expr *e)
{
	return e != NULL && IsA(e, CaseExpr) && ((CaseExpr *) e)->location == PALS_MASK_LOCATION;
}

/* Turn the rules of each column into its replacement expression. */
static void
finish_masks(RteRules *r)
{
	for (AttrNumber a = 1; a <= r->natts; a++)
	{
		char	   *name;
		Var		   *v;
		Expr	   *hidden;
		CaseWhen   *w;
		CaseExpr   *c;

		if (!r->hidden[a] && r->shows[a] == NIL)
			continue;
		name = get_attname(r->relid, a, false);
		v = column_var(r, name);
		hidden = masked_value(r, a, v);
		if (r->hidden[a])
		{
			r->masks[a] = hidden;
			continue;
		}
		w = makeNode(CaseWhen);
		w->expr = list_length(r->shows[a]) == 1 ? linitial(r->shows[a])
			: makeBoolExpr(AND_EXPR, r->shows[a], -1);
		w->result = (Expr *) v;
		w->location = -1;
		c = makeNode(CaseExpr);
		c->casetype = v->vartype;
		c->casecollid = v->varcollid;
		c->args = list_make1(w);
		c->defresult = hidden;
		c->location = PALS_MASK_LOCATION;
		r->masks[a] = (Expr *) c;
	}
}

static void
filter(RteRules *r, Expr *qual)
{
	r->filters = lappend(r->filters, qual);
}

/*
 * A row filter on what the class reads, and so on the rows its UPDATE,
 * DELETE and row locks reach, but not on what it writes: a row it may change
 * may become one it does not read (a desk settling a loan).
 */
static void
filter_reads(RteRules *r, Expr *qual)
{
	r->read_filters = lappend(r->read_filters, qual);
}

/*
 * Staff see who borrowed while the loan is open or a fine is owed, and the
 * item's last borrower; every other closed row reads without its patron.
 * Severed rows (NULL or the placeholder) reveal nothing either way.
 */
/* The loan is open, or closed with a fine still owed: the current account. */
static List *
loan_current(RteRules *r, const LoanBinding *b)
{
	List	   *open = NIL;
	List	   *current = pals_loan_current_quals(b, r->relid, r->rti);	/* closed_when, settled_when */

	if (current != NIL)
		return current;
	for (int i = 0; i < b->nclosed; i++)
		open = lappend(open, is_null((Expr *) column_var(r, b->closed_columns[i]), true));
	current = lappend(current, list_length(open) == 1 ? linitial(open) : makeBoolExpr(AND_EXPR, open, -1));
	if (b->settled_column != NULL)
		current = lappend(current, is_null((Expr *) column_var(r, b->settled_column), true));
	return current;
}

/* The row names a patron and is its item's last borrower. */
static Expr *
last_borrower_arm(RteRules *r, const LoanBinding *b)
{
	/* the tracker key: a last-borrower group answers for all its members */
	List	   *args = list_make4(makeConst(OIDOID, -1, InvalidOid, sizeof(Oid),
											ObjectIdGetDatum(b->tracker), false, true),
								  coerce_io((Expr *) column_var(r, b->item_column), TEXTOID),
								  makeVar(r->rti, TableOidAttributeNumber, OIDOID, -1, InvalidOid, 0),
								  makeVar(r->rti, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0));

	return makeBoolExpr(AND_EXPR,
						list_make2(is_null((Expr *) column_var(r, b->patron_column), false),
								   redact_call(redact_derived()->fn_last_borrower, args)),
						-1);
}

/* The placeholder patron of sever_with => 'patron:<id>', as a value of column. */
static Expr *
loan_placeholder(RteRules *r, const LoanBinding *b, const char *column)
{
	Var		   *patron = column_var(r, column);
	Oid			typinput,
				typioparam;

	getTypeInputInfo(patron->vartype, &typinput, &typioparam);
	return (Expr *) makeConst(patron->vartype, patron->vartypmod, patron->varcollid,
							  get_typlen(patron->vartype),
							  OidInputFunctionCall(typinput, b->placeholder, typioparam,
												   patron->vartypmod),
							  false, get_typbyval(patron->vartype));
}

/* The column names nobody: NULL, or the placeholder of sever_with => 'patron:<id>'. */
static Expr *
loan_column_cut(RteRules *r, const LoanBinding *b, const char *column)
{
	Var		   *patron = column_var(r, column);

	if (b->sever_with != SEVER_PLACEHOLDER)
		return is_null((Expr *) patron, true);
	return makeBoolExpr(OR_EXPR, list_make2(is_null((Expr *) patron, true),
											equal_to((Expr *) copyObject(patron),
													 loan_placeholder(r, b, column))), -1);
}

/*
 * Where staff read a patron column of a loan (column: the patron column or
 * one of more_patron_columns): the row is current, that column is already
 * cut (NULL, the placeholder), or the row is its item's last borrower.
 */
static Expr *
loan_who_visible(RteRules *r, const LoanBinding *b, const char *column)
{
	List	   *show = loan_current(r, b);
	Expr	   *cut = loan_column_cut(r, b, column);

	/*
	 * A severed row hides nothing (and stays writable: see "Writes").  A
	 * further patron column (a hold's requestor) counts as cut only on a
	 * row whose patron column is cut too: on a row kept identified (an
	 * opted-in patron's history), its turning into the placeholder when
	 * the requestor alone is purged (a staff account can bring the purge
	 * about by setting the card's expiry) would tell which masked rows
	 * named them.
	 */
	if (strcmp(column, b->patron_column) != 0)
		cut = makeBoolExpr(AND_EXPR, list_make2(cut, loan_column_cut(r, b, b->patron_column)), -1);
	show = lappend(show, cut);
	if (b->keep_last_borrower)
		show = lappend(show, last_borrower_arm(r, b));
	return makeBoolExpr(OR_EXPR, show, -1);
}

/*
 * The time a closed loan was settled (settled_column) is a quasi-identifier:
 * a payment taken at the desk carries it (payments.paid_at =
 * loans.fines_settled_at), and the payment names its patron.  It is shown
 * where the row's patron is, as a patron (the current account, the item's
 * last borrower), not on rows severed to NULL or the placeholder, whose
 * patron "shows" only because there is nothing left to hide.  A row whose
 * settled column reads NULL is then either unsettled (its patron shows) or
 * one whose patron the class does not read.
 */
static Expr *
loan_settled_visible(RteRules *r, const LoanBinding *b)
{
	List	   *show = loan_current(r, b);

	if (b->keep_last_borrower)
		show = lappend(show, last_borrower_arm(r, b));
	return list_length(show) == 1 ? linitial(show) : makeBoolExpr(OR_EXPR, show, -1);
}

/*
 * The columns that say when a loan was settled, masked alike (show: the
 * condition, NULL for always): settled_column, or every column settled_when
 * reads but the patron and the item (xact_finish in 'xact_finish IS NOT
 * NULL', the amounts in 'paid >= billed').  A condition stands for the
 * column it replaces, and what it reads is the payment's time and amount,
 * which a payment row carries next to its patron (payments.paid_at =
 * device_loans.xact_finish).  A closed column the condition reads is masked
 * too (Evergreen's xact_finish closes a lost loan and dates its payment);
 * the columns only closed_when reads stay as closed columns do.  Only what
 * the class reads is masked: the rules' own conditions (current, last
 * borrower) read the stored values.
 */
static void
mask_settled(RteRules *r, const LoanBinding *b, Expr *show)
{
	Expr	   *settled;
	Bitmapset  *attnos = NULL;
	int			k = -1;

	if (b->settled_column != NULL)
	{
		mask_dated(r, b->settled_column, show);
		return;
	}
	settled = pals_loan_condition(b, false, r->relid, 1);
	if (settled == NULL)
		return;
	pull_varattnos((Node *) settled, 1, &attnos);
	while ((k = bms_next_member(attnos, k)) >= 0)
	{
		AttrNumber	attno = k + FirstLowInvalidHeapAttributeNumber;
		char	   *name;

		if (attno <= 0)
			continue;
		name = get_attname(r->relid, attno, false);
		if (strcmp(name, b->patron_column) == 0 || strcmp(name, b->item_column) == 0)
			continue;
		mask_dated(r, name, show ? copyObject(show) : NULL);
	}
}

/*
 * The columns a loan row shares with other rows of its patron (hide_columns:
 * the checkout time of a visit, the workstation, a due date computed from
 * the checkout).  A patron who borrows several items at one visit leaves
 * rows with one checkout time; when one of them stays its item's last
 * borrower and the others are severed, the severed rows would find their
 * patron again by that time.  So such a column reads as the settled time
 * does (loan_settled_visible): where the row's patron is read as a patron
 * (the current account, the item's last borrower), not on severed rows, nor
 * on closed rows whose patron the class does not read (show NULL: always
 * masked, for classes that read no loan's patron).  A closed column listed
 * here (the return time copies of one visit share) reads as a hidden
 * settled time does (mask_dated), so it still tells an open loan from a
 * closed one; the others read NULL, so that a duration a report computes
 * from them (return time minus checkout time) is NULL, not an error.
 */
static void
mask_hidden_loan_columns(RteRules *r, const LoanBinding *b, Expr *show)
{
	ListCell   *lc;

	foreach(lc, b->hide_columns)
	{
		const char *column = lfirst(lc);
		bool		closed = false;

		for (int i = 0; i < b->nclosed; i++)
			closed |= strcmp(b->closed_columns[i], column) == 0;
		if (closed)
			mask_dated(r, column, show ? copyObject(show) : NULL);
		else
			mask(r, column, show ? copyObject(show) : NULL);
	}
}

/* Contact fields read under a purpose only for patrons who consented. */
static void
narrow_contacts(RteRules *r, const RelPolicy *p, const char *purpose)
{
	ListCell   *lc;

	if (purpose == NULL)
		return;
	foreach(lc, p->contacts)
	{
		const ColumnBinding *c = lfirst(lc);
		List	   *args = list_make3(coerce_io((Expr *) column_var(r, c->patron_column), TEXTOID),
									  text_const(purpose), text_const(c->channel));

		mask(r, c->column, redact_call(redact_derived()->fn_contact_visible, args));
	}
}

static bool
column_listed(const char *name, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(name, (const char *) lfirst(lc)) == 0)
			return true;
	return false;
}

/* Mask every column of the relation but those listed. */
static void
mask_all_but(RteRules *r, List *keep, Expr *show)
{
	for (AttrNumber a = 1; a <= r->natts; a++)
	{
		char	   *name = get_attname(r->relid, a, true);

		if (name != NULL && !column_listed(name, keep))
			mask(r, name, show ? copyObject(show) : NULL);
	}
}

/* Mask a loan's patron column and more_patron_columns with show (NULL: always masked). */
static void
mask_loan_patrons(RteRules *r, const LoanBinding *b, Expr *show)
{
	mask(r, b->patron_column, show ? copyObject(show) : NULL);
	for (int i = 0; i < b->nmore; i++)
		mask(r, b->more_patron_columns[i], show ? copyObject(show) : NULL);
}

/*
 * Staff who have not acknowledged the policy within a year (when that is
 * required) read every patron column masked.
 */
static void
require_acknowledgment(RteRules *r, const RelPolicy *p)
{
	Expr	   *ack = redact_call(redact_derived()->fn_acknowledged, NIL);
	ListCell   *lc;

	if (p->patrons)
		mask_all_but(r, list_make1(p->patrons->id_column), ack);
	if (p->loan)
		mask_loan_patrons(r, p->loan, ack);
	if (p->card)
		mask(r, p->card->column, copyObject(ack));
	foreach(lc, p->contacts)
		mask(r, ((ColumnBinding *) lfirst(lc))->column, copyObject(ack));
}

/*
 * Account records (bind_account) and the patron column of a copy: read as
 * the patron's current account (staff all, a patron their own, collections
 * those of patrons who owe, auditors masked).
 */
static void
account_rules(RteRules *r, const char *column, const Redaction *red)
{
	switch (red->class)
	{
		case PALS_CLASS_PATRON:
			filter(r, patron_rows(r, column, pals_get_guardian_access() != GUARDIAN_NONE, NULL));
			break;
		case PALS_CLASS_COLLECTIONS:
			filter(r, collectible(r, column));
			break;
		case PALS_CLASS_AUDITOR:
			mask(r, column, NULL);
			break;
		default:
			break;
	}
}

redact_copy_visible_type redact_copy_visible = NULL;

/*
 * The columns that link a copy row to its source: the key columns, and every
 * column of the (widest) foreign key one of them is part of (fines(loan_id,
 * loan_checked_out_at): a checkout time alone finds the loan again).  The
 * same columns sever_with => 'unlink' sets to NULL (_copy_link_set).
 */
static List *
copy_link_columns(const CopyBinding *c, Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	ForeignKeyCacheInfo *best = NULL;
	List	   *out = NIL;
	ListCell   *lc;
	ListCell   *lk;

	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst(lc);

		for (int i = 0; i < fk->nkeys; i++)
			foreach(lk, c->key_columns)
				if (fk->conkey[i] == get_attnum(relid, lfirst(lk)) &&
					(best == NULL || fk->nkeys > best->nkeys))
					best = fk;
	}
	foreach(lk, c->key_columns)
		out = list_append_unique(out, makeString(pstrdup(lfirst(lk))));
	if (best != NULL)
		for (int i = 0; i < best->nkeys; i++)
			out = list_append_unique(out, makeString(get_attname(relid, best->conkey[i], false)));
	relation_close(rel, NoLock);
	return out;
}

/*
 * A copy of a loan row's identity follows the source row: where the class
 * reads the source's patron as hidden (masked, severed, or the row not
 * visible at all), the copy reads without what severing would take from it:
 * its patron, its link to the source, or the whole row.
 */
static void
copy_rules(RteRules *r, const CopyBinding *c, const Redaction *red)
{
	/* a row not linked to any source row is no copy of one: nothing to hide */
	Expr	   *source = redact_copy_visible ? redact_copy_visible(c, r->relid, r->rti, red)
		: (Expr *) makeBoolConst(false, false);	/* fail closed */
	Expr	   *source_only;
	List	   *unlinked = NIL;
	Expr	   *visible;
	/* current_when: rows of the current account (a fine still owed) keep their patron */
	Expr	   *current = c->current_when == NULL ? NULL
		: pals_row_condition(c->current_when, "current_when", r->relid, r->rti);
	ListCell   *lc;

	/*
	 * copy_when: a row for which it is false is no copy (a grocery's row in
	 * a summary of circulations): it reads as if its source were visible,
	 * so nothing of the copy rule hides or masks it.  NULL counts as a copy
	 * (fail closed), as in the severing statements (_copy_when_sql).
	 */
	if (c->copy_when != NULL)
	{
		BooleanTest *notcopy = makeNode(BooleanTest);

		notcopy->arg = pals_row_condition(c->copy_when, "copy_when", r->relid, r->rti);
		notcopy->booltesttype = IS_FALSE;
		notcopy->location = -1;
		source = makeBoolExpr(OR_EXPR, list_make2(notcopy, source), -1);
	}
	source_only = copyObject(source);

	/*
	 * Not a copy: its whole key NULL.  A key NULL in part finds no source
	 * row (the EXISTS compares every column): it reads as hidden.
	 */
	foreach(lc, c->key_columns)
		unlinked = lappend(unlinked, is_null((Expr *) column_var(r, lfirst(lc)), true));
	visible = makeBoolExpr(OR_EXPR,
						   list_make2(list_length(unlinked) == 1 ? linitial(unlinked)
									  : makeBoolExpr(AND_EXPR, unlinked, -1),
									  source), -1);

	switch (c->sever_with)
	{
		case COPY_SEVER_NULL:
		case COPY_SEVER_PLACEHOLDER:
			mask(r, c->patron_column,
				 current ? makeBoolExpr(OR_EXPR, list_make2(visible, current), -1) : visible);
			break;
		case COPY_SEVER_UNLINK:
			foreach(lc, copy_link_columns(c, r->relid))
				mask(r, strVal(lfirst(lc)), copyObject(visible));

			/*
			 * An unlinked row (its whole key NULL) reads whole, a row
			 * linked to a hidden source reads the same NULL masked: writes
			 * reach a row without a link only where it is no copy
			 * (copy_when false), as they reach a linked one only where the
			 * source is visible (see write_needs).
			 */
			write_needs(r, linitial(c->key_columns),
						makeBoolExpr(OR_EXPR,
									 list_make2(makeBoolExpr(NOT_EXPR,
															 list_make1(list_length(unlinked) == 1 ? copyObject(linitial(unlinked))
																		: makeBoolExpr(AND_EXPR, copyObject(unlinked), -1)), -1),
												copyObject(source_only)), -1));

			/*
			 * The row keeps its patron, and without its link still pairs
			 * with its source by what the two share besides: the order
			 * they were written in (a fine's id against its loan's return,
			 * both in return order), amounts against lateness, the
			 * physical order of the rows.  Staff may not read the source's
			 * patron, so the copy's patron reads as NULL too, as for
			 * 'null': whether it is linked to a hidden source or was
			 * unlinked (its source severed), and, since the two cannot be
			 * told apart, on every row without a link (fail closed).  A
			 * copy of the current account keeps its patron: one whose
			 * source the class reads (an unsettled loan's fine), and one
			 * current_when names (a fine still owed, where the ILS severs
			 * the loan before the fine is paid).  For staff and
			 * collections: auditors read no copy's patron anyway, and a
			 * patron reads only their own rows.
			 */
			if (c->patron_column != NULL &&
				(red->class == PALS_CLASS_STAFF || red->class == PALS_CLASS_COLLECTIONS))
				mask(r, c->patron_column,
					 current ? makeBoolExpr(OR_EXPR, list_make2(copyObject(source_only), current), -1)
					 : copyObject(source_only));
			break;
		case COPY_SEVER_DELETE:
			filter(r, visible);
			break;
		case COPY_SEVER_KEEP:
			break;				/* no patron, no link to hide: hide_columns below */
	}
	/*
	 * Columns that would find the source again (a fine's time, equal to the
	 * return's): shown only with a visible source, also once unlinked.
	 */
	if (c->sever_with != COPY_SEVER_DELETE)
		foreach(lc, c->hide_columns)
			mask(r, lfirst(lc), copyObject(source_only));
	if (c->patron_column != NULL)
		account_rules(r, c->patron_column, red);
}

/* The class table of docs/redaction.md, for one relation. */
static void
build_rules(RteRules *r, const RelPolicy *p, const Redaction *red)
{
	ListCell   *lc;
	Expr	   *none = (Expr *) makeBoolConst(false, false);

	switch (red->class)
	{
		case PALS_CLASS_OPERATIONAL:
			narrow_contacts(r, p, red->purpose);
			break;

		case PALS_CLASS_STAFF:
			if (p->loan)
				for (int i = 0; i <= p->loan->nmore; i++)
				{
					const char *column = i == 0 ? p->loan->patron_column
						: p->loan->more_patron_columns[i - 1];

					/* a hidden patron reads as severing writes it: see mask_severed */
					if (p->loan->sever_with == SEVER_PLACEHOLDER)
						mask_severed(r, column, loan_who_visible(r, p->loan, column),
									 loan_placeholder(r, p->loan, column));
					else
						mask(r, column, loan_who_visible(r, p->loan, column));
				}

			/*
			 * sever_with => 'null': a closed row whose patron is NULL is
			 * written by no staff write (see write_needs); its further
			 * patron columns (a proxy) are NULL there too, and a row whose
			 * patron staff read keeps its writes whatever they hold.
			 */
			if (p->loan && p->loan->sever_with == SEVER_NULL)
			{
				List	   *current = loan_current(r, p->loan);

				current = lappend(current, is_null((Expr *) column_var(r, p->loan->patron_column), false));
				write_needs(r, p->loan->patron_column, makeBoolExpr(OR_EXPR, current, -1));
			}
			if (p->loan && (p->loan->settled_column || p->loan->settled_when))
				mask_settled(r, p->loan, loan_settled_visible(r, p->loan));
			if (p->loan && p->loan->hide_columns != NIL)
				mask_hidden_loan_columns(r, p->loan, loan_settled_visible(r, p->loan));
			if (p->loan)
				mask_hidden_times(r, p->loan, loan_settled_visible(r, p->loan));
			if (p->history)
				filter(r, none);
			narrow_contacts(r, p, red->purpose);
			if (pals_get_require_acknowledgment())
				require_acknowledgment(r, p);
			break;

		case PALS_CLASS_PATRON:
			{
				bool		wards = pals_get_guardian_access() != GUARDIAN_NONE;

				if (p->patrons)
					filter(r, patron_rows(r, p->patrons->id_column, wards, NULL));
				if (p->loan)
				{
					List	   *current = loan_current(r, p->loan);
					Expr	   *also = pals_get_guardian_access() == GUARDIAN_ALL ? NULL
						: list_length(current) == 1 ? linitial(current)
						: makeBoolExpr(OR_EXPR, current, -1);

					filter(r, patron_rows(r, p->loan->patron_column, wards, also));
				}
				if (p->card)
					filter(r, patron_rows(r, p->card->patron_column, wards, NULL));
				if (p->balance)
					filter(r, patron_rows(r, p->balance->patron_column, wards, NULL));
				if (p->history)
					filter(r, patron_rows(r, p->history->patron_column,
										  pals_get_guardian_access() == GUARDIAN_ALL, NULL));
				if (p->outbox)
					filter(r, patron_rows(r, p->outbox->patron_column, wards, NULL));
				foreach(lc, p->contacts)
					filter(r, patron_rows(r, ((ColumnBinding *) lfirst(lc))->patron_column, wards, NULL));
				if (p->guardian)
					filter(r, makeBoolExpr(OR_EXPR,
										   list_make2(own_rows(r, p->guardian->patron_column),
													  own_rows(r, p->guardian->column)), -1));
			}
			break;

		case PALS_CLASS_COLLECTIONS:
			if (p->patrons)
			{
				List	   *keep = list_copy(p->patrons->name_columns);

				keep = lappend(keep, p->patrons->id_column);
				if (p->patrons->card_column)
					keep = lappend(keep, p->patrons->card_column);
				foreach(lc, p->contacts)
					keep = lappend(keep, ((ColumnBinding *) lfirst(lc))->column);
				filter(r, collectible(r, p->patrons->id_column));
				mask_all_but(r, keep, NULL);
			}
			if (p->card)
				filter(r, collectible(r, p->card->patron_column));
			if (p->balance)
				filter(r, collectible(r, p->balance->patron_column));
			foreach(lc, p->contacts)
				filter(r, collectible(r, ((ColumnBinding *) lfirst(lc))->patron_column));
			if (p->loan)
				mask_loan_patrons(r, p->loan, NULL);
			if (p->loan)
				mask_settled(r, p->loan, NULL);	/* see loan_settled_visible */
			if (p->loan)
				mask_hidden_loan_columns(r, p->loan, NULL);
			if (p->loan)
				mask_hidden_times(r, p->loan, NULL);	/* no loan's patron read */
			if (p->history || p->outbox)
				filter(r, none);
			narrow_contacts(r, p, red->purpose);
			break;

		case PALS_CLASS_STATISTICS:
			filter(r, none);	/* pseudonymous statistics only (docs/statistics.md) */
			break;

		case PALS_CLASS_AUDITOR:
			if (p->patrons)
				mask_all_but(r, list_make1(p->patrons->id_column), NULL);
			if (p->card)
				mask(r, p->card->column, NULL);
			foreach(lc, p->contacts)
				mask(r, ((ColumnBinding *) lfirst(lc))->column, NULL);
			if (p->loan)
				mask_loan_patrons(r, p->loan, NULL);
			if (p->loan)
				mask_settled(r, p->loan, NULL);	/* see loan_settled_visible */
			if (p->loan)
				mask_hidden_loan_columns(r, p->loan, NULL);
			if (p->loan)
				mask_hidden_times(r, p->loan, NULL);	/* no loan's patron read */
			if (p->history || p->outbox)
				filter(r, none);
			break;
	}
	/*
	 * sever_with => 'delete': a closed row whose patron staff do not read (an
	 * opted-in patron's history kept in place, a sever pending, history the
	 * backlog has not reached) is one severing deletes.  Staff read no such
	 * row, as if it were severed already, so that a purge or a withdrawn
	 * opt-in that deletes it removes nothing they read but rows they read as
	 * that patron's (the current account, the item's last borrower).
	 * Collections and auditors read no loan's patron, so any closed row a
	 * purge deletes (a last borrower's, an unsettled one's) would be one they
	 * could not have told was that patron's: they read the open rows only,
	 * which a purge never takes (a patron with an open row is kept).  A
	 * logged-in patron still reads their own history.
	 */
	if (p->loan && p->loan->sever_with == SEVER_DELETE)
	{
		if (red->class == PALS_CLASS_STAFF)
			filter_reads(r, loan_who_visible(r, p->loan, p->loan->patron_column));
		else if (red->class == PALS_CLASS_COLLECTIONS || red->class == PALS_CLASS_AUDITOR)
			filter_reads(r, linitial(loan_current(r, p->loan)));	/* open */
	}
	if (red->class != PALS_CLASS_OPERATIONAL && red->class != PALS_CLASS_STATISTICS)
	{
		if (p->copy)
			copy_rules(r, p->copy, red);
		if (p->account)
			account_rules(r, p->account->patron_column, red);
	}
}

/*
 * A generated column computed from a masked one ('patron ' || patron_id, a
 * search vector of a notice's text) is that value again: it is masked under
 * every rule of every column its expression reads, so it is hidden wherever
 * one of them is (and a write reaches a row only where the class reads it
 * whole, the generated column included); where hidden, it reads as
 * computed from the masked values (finish_generated).
 */
static void
mask_generated(RteRules *r)
{
	Relation	rel = relation_open(r->relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; desc->constr != NULL && i < desc->constr->num_defval; i++)
	{
		AttrDefault *def = &desc->constr->defval[i];
		AttrNumber	g = def->adnum;
		Bitmapset  *read = NULL;
		int			k = -1;

		if (g < 1 || g > r->natts || TupleDescAttr(desc, g - 1)->attgenerated == '\0')
			continue;
		pull_varattnos(stringToNode(def->adbin), 1, &read);
		while ((k = bms_next_member(read, k)) >= 0)
		{
			AttrNumber	a = k + FirstLowInvalidHeapAttributeNumber;

			if (a < 1 || a > r->natts || a == g)
				continue;
			if (r->hidden[a])
				r->hidden[g] = true;
			r->shows[g] = list_concat(r->shows[g], copyObject(r->shows[a]));
		}
	}
	relation_close(rel, AccessShareLock);
}

/* Each Var of a masked column (of range table index 1) in place of its mask. */
static Node *
read_masked_mutator(Node *node, RteRules *r)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varno == 1 && ((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varattno >= 1 && ((Var *) node)->varattno <= r->natts &&
		r->masks[((Var *) node)->varattno] != NULL)
		return copyObject((Node *) r->masks[((Var *) node)->varattno]);
	return expression_tree_mutator(node, read_masked_mutator, r);
}

/*
 * Where a generated column is masked, it reads as computed from what the
 * class reads of the columns it is computed from ('patron ' || patron_id
 * reads 'patron 0' where the patron reads as the placeholder, as a severed
 * row stores it), not NULL: so a row kept identified and a severed one read
 * alike here too (see mask_severed).  Its expression is immutable and sees
 * only masked values.
 */
static void
finish_generated(RteRules *r)
{
	Relation	rel = relation_open(r->relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; desc->constr != NULL && i < desc->constr->num_defval; i++)
	{
		AttrDefault *def = &desc->constr->defval[i];
		AttrNumber	g = def->adnum;
		Var		   *v;
		Expr	   *computed;

		if (g < 1 || g > r->natts || TupleDescAttr(desc, g - 1)->attgenerated == '\0' ||
			r->masks[g] == NULL)
			continue;
		v = makeVar(1, g, TupleDescAttr(desc, g - 1)->atttypid, TupleDescAttr(desc, g - 1)->atttypmod,
					TupleDescAttr(desc, g - 1)->attcollation, 0);
		computed = (Expr *) read_masked_mutator(stringToNode(def->adbin), r);
		computed = (Expr *) coerce_to_target_type(NULL, (Node *) computed, exprType((Node *) computed),
												  v->vartype, v->vartypmod, COERCION_ASSIGNMENT,
												  COERCE_IMPLICIT_CAST, -1);
		if (computed == NULL)
			continue;			/* cannot happen: the column stores it; NULL stays */
		if (is_pals_mask(r->masks[g]))
			((CaseExpr *) r->masks[g])->defresult = computed;
		else
			r->masks[g] = computed;
	}
	relation_close(rel, AccessShareLock);
}

/*
 * The rules of a relation for a class are built once (for range table
 * index 1) and copied for each use: building them takes catalog lookups.
 * What they depend on besides the registry and the relation is the key.
 */
typedef struct RuleTemplate
{
	Oid			relid;
	PalsClass	class;
	bool		acknowledgment;
	int			guardian_access;
	char		purpose[NAMEDATALEN];
	RteRules   *rules;
	List	   *relations;		/* OIDs the rules read (a copy's source) */
} RuleTemplate;

/*
 * The relations a rule reads in a subquery (a copy's source row, see
 * redact_copies.c).  A template outlives the transaction that built it,
 * and with it the lock taken then: each use locks them again, as the
 * rewriter locks the relations of a view it expands (AcquireRewriteLocks),
 * since the planner must not open a relation nobody holds a lock on.
 */
static bool
rule_relations_walker(Node *node, List **relations)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				*relations = list_append_unique_oid(*relations, rte->relid);
		}
		return query_tree_walker((Query *) node, rule_relations_walker, relations, 0);
	}
	return expression_tree_walker(node, rule_relations_walker, relations);
}

RteRules *
redact_rules_for(Oid relid, int rti, const RelPolicy *p, const Redaction *red)
{
	RuleTemplate *t = NULL;
	RteRules   *r;
	ListCell   *lc;
	const char *purpose = red->purpose ? red->purpose : "";

	redact_derived();
	foreach(lc, derived.templates)
	{
		RuleTemplate *x = lfirst(lc);

		if (x->relid == relid && x->class == red->class &&
			x->acknowledgment == pals_get_require_acknowledgment() &&
			x->guardian_access == pals_get_guardian_access() && strcmp(x->purpose, purpose) == 0)
		{
			t = x;
			break;
		}
	}
	if (t == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(derived_context);

		r = palloc0(sizeof(RteRules));
		r->relid = relid;
		r->rti = 1;
		r->natts = redact_relation_natts(relid);
		r->masks = palloc0(sizeof(Expr *) * (r->natts + 1));
		r->hidden = palloc0(sizeof(bool) * (r->natts + 1));
		r->shows = palloc0(sizeof(List *) * (r->natts + 1));
		r->nrules = palloc0(sizeof(int) * (r->natts + 1));
		r->ndated = palloc0(sizeof(int) * (r->natts + 1));
		r->nsevered = palloc0(sizeof(int) * (r->natts + 1));
		r->ncoarse = palloc0(sizeof(int) * (r->natts + 1));
		r->coarse = palloc0(sizeof(Expr *) * (r->natts + 1));
		r->severed = palloc0(sizeof(Expr *) * (r->natts + 1));
		r->writes = palloc0(sizeof(Expr *) * (r->natts + 1));
		build_rules(r, p, red);
		mask_generated(r);
		finish_masks(r);
		finish_generated(r);
		t = palloc0(sizeof(RuleTemplate));
		t->relid = relid;
		t->class = red->class;
		t->acknowledgment = pals_get_require_acknowledgment();
		t->guardian_access = pals_get_guardian_access();
		strlcpy(t->purpose, purpose, sizeof(t->purpose));
		t->rules = r;
		for (int a = 1; a <= r->natts; a++)
		{
			rule_relations_walker((Node *) r->masks[a], &t->relations);
			rule_relations_walker((Node *) r->shows[a], &t->relations);
			rule_relations_walker((Node *) r->writes[a], &t->relations);
		}
		rule_relations_walker((Node *) r->filters, &t->relations);
		rule_relations_walker((Node *) r->read_filters, &t->relations);
		derived.templates = lappend(derived.templates, t);
		MemoryContextSwitchTo(old);
	}

	foreach(lc, t->relations)
		LockRelationOid(lfirst_oid(lc), AccessShareLock);
	r = palloc0(sizeof(RteRules));
	r->relid = relid;
	r->rti = rti;
	r->natts = t->rules->natts;
	r->masks = palloc0(sizeof(Expr *) * (r->natts + 1));
	r->writes = palloc0(sizeof(Expr *) * (r->natts + 1));
	for (int a = 1; a <= r->natts; a++)
		if (t->rules->masks[a] != NULL)
		{
			r->masks[a] = copyObject(t->rules->masks[a]);
			ChangeVarNodes((Node *) r->masks[a], 1, rti, 0);
			if (t->rules->writes[a] != NULL)
			{
				r->writes[a] = copyObject(t->rules->writes[a]);
				ChangeVarNodes((Node *) r->writes[a], 1, rti, 0);
			}
		}
	/* the bookkeeping of the coarse rules (redact_mask_keeps_nulls) */
	r->nrules = palloc(sizeof(int) * (r->natts + 1));
	r->ndated = palloc(sizeof(int) * (r->natts + 1));
	r->ncoarse = palloc(sizeof(int) * (r->natts + 1));
	memcpy(r->nrules, t->rules->nrules, sizeof(int) * (r->natts + 1));
	memcpy(r->ndated, t->rules->ndated, sizeof(int) * (r->natts + 1));
	memcpy(r->ncoarse, t->rules->ncoarse, sizeof(int) * (r->natts + 1));
	foreach(lc, t->rules->filters)
	{
		Node	   *f = copyObject(lfirst(lc));

		ChangeVarNodes(f, 1, rti, 0);
		r->filters = lappend(r->filters, f);
	}
	foreach(lc, t->rules->read_filters)
	{
		Node	   *f = copyObject(lfirst(lc));

		ChangeVarNodes(f, 1, rti, 0);
		r->read_filters = lappend(r->read_filters, f);
	}
	return r;
}
