/*
 * redact.c
 *     What each privacy class reads of the bound relations.
 *
 *     A planner hook rewrites the query the planner receives (views are
 *     already expanded, so the ILS's own views are covered) before planning:
 *
 *     - a masked column is replaced, wherever the query reads it (select
 *       list, WHERE, JOIN, GROUP BY, whole-row references, RETURNING, the
 *       SET of an UPDATE ...), by CASE WHEN <may see> THEN column END, so
 *       no predicate, join, sort or function ever sees the hidden value;
 *     - rows the class may not see are removed by a security qual on the
 *       relation (the mechanism row-level security uses), so leaky
 *       functions in the query run only on visible rows.
 *
 *     The relation stays a base relation, so indexes, partition pruning and
 *     parameterised joins keep working.  Decisions that change within a
 *     session (who is logged in, consent, amounts owed) are made at run
 *     time by the functions the plan calls; the class itself is fixed at
 *     plan time, so every plan is marked as depending on the role and on
 *     the configuration tables, and is re-planned when either changes.
 *
 *     Around it: COPY table TO goes through the same path as COPY (query)
 *     TO, and COPY FROM works under row security; a redacted class's
 *     writes reach only rows it reads whole; row counts (EXPLAIN ANALYZE,
 *     auto_explain) of bound relations are refused or stripped in the
 *     executor; SQL functions are not inlined into a redacted query (their
 *     bodies are planned, and redacted, on their own); statistics of bound
 *     relations (pg_stats, counters, the planner's value statistics) are
 *     hidden; an unbound inheritance parent reads its bound children under
 *     their rules; the DETAIL of integrity errors, which echoes stored
 *     values, is kept out of a redacted session's reach.  The threat model
 *     is in docs/redaction.md.
 */
#include "pals_privacy.h"
#include "compat.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/xact.h"
#include "rewrite/rowsecurity.h"
#include "utils/rls.h"
#include "parser/parse_expr.h"
#include "parser/parse_collate.h"
#include "parser/parse_coerce.h"
#include "commands/copy.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_statistic_ext_data.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "storage/itemptr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include <float.h>

PG_FUNCTION_INFO_V1(pals_privacy_stats_visible);
PG_FUNCTION_INFO_V1(pals_privacy_stats_ext_visible);
PG_FUNCTION_INFO_V1(pals_privacy_collectible);
PG_FUNCTION_INFO_V1(pals_privacy_contact_visible);
PG_FUNCTION_INFO_V1(pals_privacy_acknowledged);
PG_FUNCTION_INFO_V1(pals_privacy_wards);
PG_FUNCTION_INFO_V1(pals_privacy_own_row_security_only);

double		pals_collections_threshold = 0.0;
bool		pals_require_acknowledgment = false;
int			pals_guardian_access = 0;	/* GUARDIAN_NONE */
int			pals_guardian_age_limit = 18;

/* What a guardian's logged-in session reads of a minor's account. */
enum
{
	GUARDIAN_NONE,
	GUARDIAN_CURRENT,			/* open loans and holds, fines */
	GUARDIAN_ALL
};

static const struct config_enum_entry guardian_options[] = {
	{"none", GUARDIAN_NONE, false},
	{"current", GUARDIAN_CURRENT, false},
	{"all", GUARDIAN_ALL, false},
	{NULL, 0, false}
};

static planner_hook_type prev_planner_hook = NULL;
static ExecutorStart_hook_type prev_executor_start_hook = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/* true while planning for a class that is redacted (see needs_fmgr) */
static int	planning_redacted = 0;

/* the class of the session's role when it last planned or ran a statement (see emit_log) */
static PalsClass last_class = PALS_CLASS_OPERATIONAL;

/* ----------------------------------------------------------------------
 * Per-relation policy: which bindings cover a relation (its own, or its
 * nearest bound ancestor's).  Memoised per registry generation.
 * ---------------------------------------------------------------------- */

typedef struct RelPolicy
{
	Oid			relid;			/* hash key */
	bool		bound;
	bool		bound_below;	/* not bound, but a descendant is */
	const PatronBinding *patrons;
	const LoanBinding *loan;
	const ColumnBinding *card;
	const ColumnBinding *balance;
	const ColumnBinding *history;
	const OutboxBinding *outbox;
	const ColumnBinding *guardian;
	List	   *contacts;		/* of const ColumnBinding * */
} RelPolicy;

/* Everything derived from one registry generation. */
typedef struct Derived
{
	uint64		generation;
	HTAB	   *policies;
	Oid			fn_session_patron;
	Oid			fn_last_borrower;
	Oid			fn_collectible;
	Oid			fn_contact_visible;
	Oid			fn_stats_visible;
	Oid			fn_stats_ext_visible;
	Oid			fn_acknowledged;
	Oid			fn_wards;
	Oid			fn_own_row_security;
	Oid			fn_preloaded;
	int			ncounters;		/* statistics counters keyed by an OID (see mask_counters) */
	Oid		   *counters;		/* sorted */
	List	   *templates;		/* of RuleTemplate *: rules built once */
} Derived;

static MemoryContext derived_context = NULL;
static Derived derived;

static const Derived *get_derived(void);

static int
relation_natts(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			natts;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	natts = ((Form_pg_class) GETSTRUCT(tup))->relnatts;
	ReleaseSysCache(tup);
	return natts;
}

static bool
is_sql_function(Oid fn)
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

/*
 * The cumulative statistics functions that take one OID (a relation, an
 * index, a database): pg_stat_get_tuples_fetched(oid) and the rest, which
 * pg_stat_user_tables, pg_stat_user_indexes, pg_statio_* and
 * pg_stat_database are made of.  Found by name, so every version's set is.
 */
static void
find_counters(Derived *d)
{
	Relation	rel = table_open(ProcedureRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	int			size = 128;

	d->counters = MemoryContextAlloc(derived_context, sizeof(Oid) * size);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_proc f = (Form_pg_proc) GETSTRUCT(tup);

		if (f->pronamespace != PG_CATALOG_NAMESPACE || f->pronargs != 1 ||
			f->proargtypes.values[0] != OIDOID ||
			strncmp(NameStr(f->proname), "pg_stat_get_", 12) != 0)
			continue;
		if (d->ncounters == size)
			d->counters = repalloc(d->counters, sizeof(Oid) * (size *= 2));
		d->counters[d->ncounters++] = f->oid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(d->counters, d->ncounters, sizeof(Oid), oid_cmp);
}

static bool
is_counter(Oid fn)
{
	const Derived *d = get_derived();

	return bsearch(&fn, d->counters, d->ncounters, sizeof(Oid), oid_cmp) != NULL;
}

static const Derived *
get_derived(void)
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
		find_counters(&derived);
		derived.generation = reg->generation;
	}
	return &derived;
}

/*
 * A relation we hold a policy for changed (attached as a partition, made an
 * inheritance child, a column added): work its policy out again.
 */
static void
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

static const RelPolicy *
policy_for(Oid relid)
{
	const PalsRegistry *reg = pals_registry();
	const Derived *d = get_derived();
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
	p->bound = p->patrons || p->loan || p->card || p->balance || p->history ||
		p->outbox || p->contacts || p->guardian;
	if (!p->bound && has_subclass(relid))
	{
		List	   *below = find_all_inheritors(relid, NoLock, NULL);

		/* policy_for() may grow the table: look the descendants up first */
		MemoryContextSwitchTo(old);
		foreach(la, below)
			if (lfirst_oid(la) != relid && policy_for(lfirst_oid(la))->bound)
			{
				p = hash_search(get_derived()->policies, &relid, HASH_FIND, NULL);
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
static bool
bound_below(Oid relid)
{
	return policy_for(relid)->bound_below;
}

/* ----------------------------------------------------------------------
 * Is redaction in force for the current user?
 * ---------------------------------------------------------------------- */

/*
 * The purpose contact fields are read under: the role's, which the session's
 * setting may only repeat, never replace (classes.c).
 */
static const char *
effective_purpose(void)
{
	return pals_effective_purpose(pals_purpose);
}

typedef struct Redaction
{
	PalsClass	class;
	const char *purpose;		/* NULL: none */
} Redaction;

/* Remember the class of the role the session acts as (see emit_log). */
static void
note_session_class(void)
{
	/* the role the session acts as (SET ROLE), not a function's owner */
	Oid			outer = GetOuterUserId();

	last_class = superuser_arg(outer) ? PALS_CLASS_OPERATIONAL : pals_class_of_role(outer);
}

/*
 * Fill in what applies to the current user (the extension being ready);
 * false when nothing does
 * (superusers, the extension owner, operational roles without a purpose).
 */
static bool
redaction_applies(Redaction *r)
{
	Oid			user;

	note_session_class();
	user = GetUserId();
	if (superuser_arg(user) || user == pals_registry()->extension_owner)
		return false;
	r->class = pals_current_class();
	r->purpose = effective_purpose();
	return r->class != PALS_CLASS_OPERATIONAL || r->purpose != NULL;
}

/* Is the current user of a class whose reads are redacted (not operational)? */
bool
pals_redaction_in_force(void)
{
	Redaction	red;

	return pals_extension_ready() && redaction_applies(&red) && red.class != PALS_CLASS_OPERATIONAL;
}

/* Do relid's statistics describe a bound relation's rows (its own, or its children's)? */
bool
pals_statistics_of_bound(Oid relid)
{
	const RelPolicy *p = policy_for(relid);

	return p->bound || p->bound_below;
}

/* ----------------------------------------------------------------------
 * Expression builders
 * ---------------------------------------------------------------------- */

/* Marks the CASE of a conditional mask (parser locations are >= -1). */
#define PALS_MASK_LOCATION (-1729)

/* What one relation reference becomes: masks by attribute, row filters. */
typedef struct RteRules
{
	Oid			relid;
	int			rti;
	int			natts;
	Expr	  **masks;			/* [0..natts]: NULL = as stored */
	bool	   *hidden;			/* [0..natts]: always NULL */
	List	  **shows;			/* [0..natts]: shown only where all hold */
	List	   *filters;		/* implicitly ANDed */
} RteRules;

static Var *
column_var(RteRules *r, const char *column)
{
	AttrNumber	attno = get_attnum(r->relid, column);
	Oid			type;
	int32		typmod;
	Oid			coll;

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("pals_privacy: bound column \"%s\" of \"%s\" no longer exists",
						column, get_rel_name(r->relid)),
				 errhint("Bind the relation again with pals_privacy.unbind() and the bind call.")));
	get_atttypetypmodcoll(r->relid, attno, &type, &typmod, &coll);
	return makeVar(r->rti, attno, type, typmod, coll, 0);
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

static Expr *
call(Oid fn, List *args)
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
	Expr	   *patron = (Expr *) makeFuncExpr(get_derived()->fn_session_patron, TEXTOID, NIL,
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
	any->args = list_make2(v, coerce_io((Expr *) makeFuncExpr(get_derived()->fn_wards, TEXTARRAYOID, NIL,
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
	return call(get_derived()->fn_collectible,
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

	if (show == NULL)
		r->hidden[attno] = true;
	else
		r->shows[attno] = lappend(r->shows[attno], show);
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
		hidden = (Expr *) makeNullConst(v->vartype, v->vartypmod, v->varcollid);
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

static Expr *
loan_who_visible(RteRules *r, const LoanBinding *b)
{
	Var		   *patron = column_var(r, b->patron_column);
	List	   *show = loan_current(r, b);

	/* a severed row hides nothing (and stays writable: see "Writes") */
	show = lappend(show, is_null((Expr *) copyObject(patron), true));
	if (b->sever_with == SEVER_PLACEHOLDER)
	{
		Oid			typinput,
					typioparam;
		Const	   *placeholder;

		getTypeInputInfo(patron->vartype, &typinput, &typioparam);
		placeholder = makeConst(patron->vartype, patron->vartypmod, patron->varcollid,
								get_typlen(patron->vartype),
								OidInputFunctionCall(typinput, b->placeholder, typioparam,
													 patron->vartypmod),
								false, get_typbyval(patron->vartype));
		show = lappend(show, equal_to((Expr *) copyObject(patron), (Expr *) placeholder));
	}
	if (b->keep_last_borrower)
	{
		List	   *args = list_make4(makeConst(OIDOID, -1, InvalidOid, sizeof(Oid),
												ObjectIdGetDatum(b->relid), false, true),
									  coerce_io((Expr *) column_var(r, b->item_column), TEXTOID),
									  makeVar(r->rti, TableOidAttributeNumber, OIDOID, -1, InvalidOid, 0),
									  makeVar(r->rti, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0));

		show = lappend(show, makeBoolExpr(AND_EXPR,
										  list_make2(is_null((Expr *) copyObject(patron), false),
													 call(get_derived()->fn_last_borrower, args)),
										  -1));
	}
	return makeBoolExpr(OR_EXPR, show, -1);
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

		mask(r, c->column, call(get_derived()->fn_contact_visible, args));
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

/*
 * Staff who have not acknowledged the policy within a year (when that is
 * required) read every patron column masked.
 */
static void
require_acknowledgment(RteRules *r, const RelPolicy *p)
{
	Expr	   *ack = call(get_derived()->fn_acknowledged, NIL);
	ListCell   *lc;

	if (p->patrons)
		mask_all_but(r, list_make1(p->patrons->id_column), ack);
	if (p->loan)
		mask(r, p->loan->patron_column, copyObject(ack));
	if (p->card)
		mask(r, p->card->column, copyObject(ack));
	foreach(lc, p->contacts)
		mask(r, ((ColumnBinding *) lfirst(lc))->column, copyObject(ack));
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
				mask(r, p->loan->patron_column, loan_who_visible(r, p->loan));
			if (p->history)
				filter(r, none);
			narrow_contacts(r, p, red->purpose);
			if (pals_require_acknowledgment)
				require_acknowledgment(r, p);
			break;

		case PALS_CLASS_PATRON:
			{
				bool		wards = pals_guardian_access != GUARDIAN_NONE;

				if (p->patrons)
					filter(r, patron_rows(r, p->patrons->id_column, wards, NULL));
				if (p->loan)
				{
					List	   *current = loan_current(r, p->loan);
					Expr	   *also = pals_guardian_access == GUARDIAN_ALL ? NULL
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
										  pals_guardian_access == GUARDIAN_ALL, NULL));
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
				mask(r, p->loan->patron_column, NULL);
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
				mask(r, p->loan->patron_column, NULL);
			if (p->history || p->outbox)
				filter(r, none);
			break;
	}
}

/* ----------------------------------------------------------------------
 * The query rewrite
 * ---------------------------------------------------------------------- */

/* The view a subquery entry was expanded from (how to tell differs by version: compat.c). */
static Oid
expanded_view(RangeTblEntry *rte)
{
	return pals_expanded_view(rte);
}

/* The relation a range table entry reads: a table, or an expanded view. */
static Oid
read_relid(RangeTblEntry *rte)
{
	if (rte->rtekind == RTE_RELATION)
		return rte->relkind == RELKIND_VIEW ? InvalidOid : rte->relid;
	return expanded_view(rte);
}

typedef struct MaskContext
{
	RteRules  **rules;			/* by range table index, NULL: untouched */
	int			nrtes;
	int			sublevels_up;
	List	   *rtable;			/* of the level being rewritten */
} MaskContext;

static Expr *
at_level(Expr *e, int sublevels_up)
{
	e = copyObject(e);
	if (sublevels_up > 0)
		IncrementVarSublevelsUp((Node *) e, sublevels_up, 0);
	return e;
}

/* Does the query read a masked column (or a whole row) of a rewritten relation? */
static bool
reads_masked_walker(Node *node, MaskContext *mc)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		RteRules   *r;

		return (int) v->varlevelsup == mc->sublevels_up && v->varno >= 1 && v->varno <= mc->nrtes &&
			(r = mc->rules[v->varno]) != NULL && v->varattno >= 0 && v->varattno <= r->natts &&
			(v->varattno == 0 || r->masks[v->varattno] != NULL);
	}
	if (IsA(node, Query))
	{
		bool		found;

		mc->sublevels_up++;
		found = query_tree_walker((Query *) node, reads_masked_walker, mc, 0);
		mc->sublevels_up--;
		return found;
	}
	return expression_tree_walker(node, reads_masked_walker, mc);
}

static Node *
mask_mutator(Node *node, MaskContext *mc)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		RteRules   *r;

		if ((int) v->varlevelsup != mc->sublevels_up || v->varno < 1 || v->varno > mc->nrtes ||
			(r = mc->rules[v->varno]) == NULL || v->varattno < 0)
			return (Node *) copyObject(v);
		if (v->varattno > 0)
		{
			if (v->varattno > r->natts || r->masks[v->varattno] == NULL)
				return (Node *) copyObject(v);
			return (Node *) at_level(r->masks[v->varattno], mc->sublevels_up);
		}
		else
		{
			/* whole row: rebuild it from the masked columns */
			RowExpr    *row = makeNode(RowExpr);
			List	   *names = NIL;
			List	   *vars = NIL;
			ListCell   *lc;

			pals_expand_rte(rt_fetch(v->varno, mc->rtable), v->varno, 0, -1, true, &names, &vars);
			foreach(lc, vars)
			{
				Node	   *col = lfirst(lc);

				if (IsA(col, Var) && ((Var *) col)->varattno <= r->natts &&
					r->masks[((Var *) col)->varattno] != NULL)
					col = (Node *) r->masks[((Var *) col)->varattno];
				row->args = lappend(row->args, at_level((Expr *) col, mc->sublevels_up));
			}
			row->row_typeid = v->vartype;
			row->row_format = COERCE_IMPLICIT_CAST;
			row->colnames = v->vartype == RECORDOID ? names : NIL;
			row->location = -1;
			return (Node *) row;
		}
	}
	if (IsA(node, Query))
	{
		Query	   *q;

		mc->sublevels_up++;
		q = query_tree_mutator((Query *) node, mask_mutator, mc, QTW_DONT_COPY_QUERY);
		mc->sublevels_up--;
		return (Node *) q;
	}
	return expression_tree_mutator(node, mask_mutator, mc);
}

/* ----------------------------------------------------------------------
 * Masked conditions rewritten so that indexes still serve.
 *
 * WHERE mask(patron) = 42, with mask(patron) = CASE WHEN may_see THEN
 * patron END, can use no index on patron.  But a strict operator is true
 * only on a non-NULL mask, that is where may_see holds and on the stored
 * value: mask(x) op y is exactly may_see AND x op y (see unmask_quals for
 * where that may be used).
 * ---------------------------------------------------------------------- */

static bool
is_mask(Node *node)
{
	return node != NULL && IsA(node, CaseExpr) &&
		((CaseExpr *) node)->location == PALS_MASK_LOCATION;
}

static bool
contains_mask_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (is_mask(node))
		return true;
	return expression_tree_walker(node, contains_mask_walker, context);
}

/* The column a mask hides, in place of the mask. */
static Node *
strip_masks_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (is_mask(node))
		return copyObject((Node *) ((CaseWhen *) linitial(((CaseExpr *) node)->args))->result);
	return expression_tree_mutator(node, strip_masks_mutator, context);
}

/* The condition under which a mask shows its column. */
static bool
mask_conditions_walker(Node *node, List **conditions)
{
	if (node == NULL)
		return false;
	if (is_mask(node))
	{
		*conditions = lappend(*conditions,
							  copyObject(((CaseWhen *) linitial(((CaseExpr *) node)->args))->expr));
		return false;
	}
	return expression_tree_walker(node, mask_conditions_walker, conditions);
}

/* Does an expression refer to an enclosing query (a correlated condition)? */
static bool
outer_reference_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup > 0;
	return expression_tree_walker(node, outer_reference_walker, context);
}

/* Is a condition mask(x) op y with a strict, leakproof operator? */
static bool
unmaskable(Node *c)
{
	List	   *args;
	Oid			fn;
	ListCell   *la;

	if (IsA(c, OpExpr) && list_length(((OpExpr *) c)->args) == 2)
	{
		set_opfuncid((OpExpr *) c);
		fn = ((OpExpr *) c)->opfuncid;
		args = ((OpExpr *) c)->args;
	}
	else if (IsA(c, ScalarArrayOpExpr))
	{
		set_sa_opfuncid((ScalarArrayOpExpr *) c);
		fn = ((ScalarArrayOpExpr *) c)->opfuncid;
		args = ((ScalarArrayOpExpr *) c)->args;
	}
	else
		return false;
	/* each side is a mask itself or has none inside */
	foreach(la, args)
		if (!is_mask(lfirst(la)) && contains_mask_walker(lfirst(la), NULL))
			return false;
	return contains_mask_walker(c, NULL) && get_func_leakproof(fn) && func_strict(fn) &&
		!contain_volatile_functions(c) && !checkExprHasSubLink(c) &&
		!outer_reference_walker(c, NULL);
}

/* The relations on the nullable side of an outer join. */
static void
nullable_relations(Node *jtnode, bool nullable, Bitmapset **out)
{
	ListCell   *lc;

	if (jtnode == NULL)
		return;
	if (IsA(jtnode, RangeTblRef))
	{
		if (nullable)
			*out = bms_add_member(*out, ((RangeTblRef *) jtnode)->rtindex);
	}
	else if (IsA(jtnode, FromExpr))
	{
		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			nullable_relations(lfirst(lc), nullable, out);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		nullable_relations(j->larg, nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL, out);
		nullable_relations(j->rarg, nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL, out);
	}
}

/*
 * A WHERE condition mask(x) op y on one relation (not on the nullable side
 * of an outer join) is a restriction of that relation: it becomes one of its
 * security quals, <may see> AND x op y.  As a security qual it is evaluated
 * before any leaky condition of the query sees a row, and x op y can use an
 * index on x.  Conditions that join relations keep their masks: there the
 * stored value would reach the other side before <may see> is known.
 */
static void
unmask_quals(Query *q, RteRules **rules)
{
	Node	   *quals = q->jointree->quals;
	List	   *conjuncts;
	List	   *kept = NIL;
	Bitmapset  *nullable = NULL;
	ListCell   *lc;
	bool		changed = false;

	if (quals == NULL || !contains_mask_walker(quals, NULL))
		return;
	nullable_relations((Node *) q->jointree, false, &nullable);
	conjuncts = is_andclause(quals) ? ((BoolExpr *) quals)->args : list_make1(quals);
	foreach(lc, conjuncts)
	{
		Node	   *c = lfirst(lc);
		Relids		varnos;
		int			rti;
		RangeTblEntry *rte;
		List	   *conditions = NIL;

		if (!unmaskable(c) ||
			bms_get_singleton_member((varnos = pull_varnos(NULL, c)), &rti) == false ||
			rules[rti] == NULL || bms_is_member(rti, nullable) ||
			(rte = rt_fetch(rti, q->rtable))->rtekind != RTE_RELATION)
		{
			kept = lappend(kept, c);
			continue;
		}
		mask_conditions_walker(c, &conditions);
		conditions = lappend(conditions, strip_masks_mutator(c, NULL));
		rte->securityQuals = lappend(rte->securityQuals, makeBoolExpr(AND_EXPR, conditions, -1));
		changed = true;
	}
	if (changed)
		q->jointree->quals = kept == NIL ? NULL
			: list_length(kept) == 1 ? linitial(kept)
			: (Node *) makeBoolExpr(AND_EXPR, kept, -1);
}

/* Put a row filter around an expanded view: SELECT * FROM (view) WHERE f. */
static void
filter_view(RangeTblEntry *rte, Expr *qual)
{
	Query	   *inner = rte->subquery;
	Query	   *outer = makeNode(Query);
	RangeTblEntry *irte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);
	ListCell   *lc;

	irte->rtekind = RTE_SUBQUERY;
	irte->subquery = inner;
	irte->security_barrier = rte->security_barrier;
	irte->eref = copyObject(rte->eref);
	irte->inFromCl = true;
	ref->rtindex = 1;
	outer->commandType = CMD_SELECT;
	outer->querySource = QSRC_ORIGINAL;
	outer->canSetTag = true;
	outer->rtable = list_make1(irte);
	outer->jointree = makeFromExpr(list_make1(ref), (Node *) qual);
	foreach(lc, inner->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resjunk)
			continue;
		outer->targetList = lappend(outer->targetList,
									makeTargetEntry((Expr *) makeVarFromTargetEntry(1, te),
													te->resno, te->resname, false));
	}
	rte->subquery = outer;
	rte->security_barrier = true;	/* the caller's quals stay outside */
}

static void redact_level(Query *q, const Redaction *red);

static bool
nested_walker(Node *node, const Redaction *red)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		redact_level((Query *) node, red);
		return false;
	}
	return expression_tree_walker(node, nested_walker, (void *) red);
}

/* Statistics rows of bound relations (and of their indexes) are hidden. */
static void
filter_statistics(RangeTblEntry *rte, int rti)
{
	const Derived *d = get_derived();
	Var		   *key;
	Oid			fn;

	if (rte->relid == StatisticRelationId)
	{
		key = makeVar(rti, Anum_pg_statistic_starelid, OIDOID, -1, InvalidOid, 0);
		fn = d->fn_stats_visible;
	}
	else
	{
		key = makeVar(rti, Anum_pg_statistic_ext_data_stxoid, OIDOID, -1, InvalidOid, 0);
		fn = d->fn_stats_ext_visible;
	}
	rte->securityQuals = lappend(rte->securityQuals, call(fn, list_make1(key)));
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
} RuleTemplate;

static RteRules *
rules_for(Oid relid, int rti, const RelPolicy *p, const Redaction *red)
{
	RuleTemplate *t = NULL;
	RteRules   *r;
	ListCell   *lc;
	const char *purpose = red->purpose ? red->purpose : "";

	get_derived();
	foreach(lc, derived.templates)
	{
		RuleTemplate *x = lfirst(lc);

		if (x->relid == relid && x->class == red->class &&
			x->acknowledgment == pals_require_acknowledgment &&
			x->guardian_access == pals_guardian_access && strcmp(x->purpose, purpose) == 0)
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
		r->natts = relation_natts(relid);
		r->masks = palloc0(sizeof(Expr *) * (r->natts + 1));
		r->hidden = palloc0(sizeof(bool) * (r->natts + 1));
		r->shows = palloc0(sizeof(List *) * (r->natts + 1));
		build_rules(r, p, red);
		finish_masks(r);
		t = palloc0(sizeof(RuleTemplate));
		t->relid = relid;
		t->class = red->class;
		t->acknowledgment = pals_require_acknowledgment;
		t->guardian_access = pals_guardian_access;
		strlcpy(t->purpose, purpose, sizeof(t->purpose));
		t->rules = r;
		derived.templates = lappend(derived.templates, t);
		MemoryContextSwitchTo(old);
	}

	r = palloc0(sizeof(RteRules));
	r->relid = relid;
	r->rti = rti;
	r->natts = t->rules->natts;
	r->masks = palloc0(sizeof(Expr *) * (r->natts + 1));
	for (int a = 1; a <= r->natts; a++)
		if (t->rules->masks[a] != NULL)
		{
			r->masks[a] = copyObject(t->rules->masks[a]);
			ChangeVarNodes((Node *) r->masks[a], 1, rti, 0);
		}
	foreach(lc, t->rules->filters)
	{
		Node	   *f = copyObject(lfirst(lc));

		ChangeVarNodes(f, 1, rti, 0);
		r->filters = lappend(r->filters, f);
	}
	return r;
}

/* ----------------------------------------------------------------------
 * Writes by a redacted class
 *
 * What a class reads must not depend on what it may write in the same
 * statement or transaction (UPDATE ... SET fines_settled_at = NULL
 * RETURNING patron_id would otherwise show the patron of a settled loan),
 * and a write must not hand hidden values to anything that sees the row
 * whole (the table's own triggers, a stored mask).  As row-level security
 * does with USING and WITH CHECK, judged by the row as it was before the
 * statement:
 *
 * - UPDATE and DELETE reach only rows the class may read, with every
 *   masked column shown (a security qual of the result relation; for
 *   INSERT ... ON CONFLICT DO UPDATE a conflict check, which fails);
 * - a row inserted or updated must be one the class may read (the
 *   relation's row filters as WITH CHECK options).
 *
 * A hidden patron can then never be shown by a change of the columns that
 * decide it (closed, settled, item), never be stored masked (SET patron_id
 * = patron_id), and never reach a trigger through a staff write.
 * ---------------------------------------------------------------------- */

/* The condition under which column attno is shown (false: never; NULL: not masked). */
static Expr *
shown_when(RteRules *r, AttrNumber attno)
{
	Expr	   *m = r->masks[attno];

	if (m == NULL)
		return NULL;
	if (is_mask((Node *) m))
		return copyObject(((CaseWhen *) linitial(((CaseExpr *) m)->args))->expr);
	return (Expr *) makeBoolConst(false, false);
}

static void
add_check(Query *q, WCOKind kind, RteRules *r, List *also)
{
	WithCheckOption *wco = makeNode(WithCheckOption);
	List	   *quals = list_concat(copyObject(r->filters), also);

	wco->kind = kind;
	wco->relname = get_rel_name(r->relid);
	wco->polname = pstrdup("pals_privacy");
	wco->qual = (Node *) (list_length(quals) == 1 ? linitial(quals) : makeBoolExpr(AND_EXPR, quals, -1));
	wco->cascaded = false;
	q->withCheckOptions = lappend(q->withCheckOptions, wco);
}

/* Every masked column of r shown: the row is one the class sees whole. */
static List *
all_shown(RteRules *r)
{
	List	   *shown = NIL;

	for (AttrNumber c = 1; c <= r->natts; c++)
		if (r->masks[c] != NULL)
			shown = lappend(shown, shown_when(r, c));
	return shown;
}

/* Patron ids and patron rows: changed or removed by operational roles only. */
static void
refuse_patron_writes(Query *q, const RelPolicy *p, const Redaction *red)
{
	AttrNumber	id;
	ListCell   *lc;

	if (p->patrons == NULL || red->class == PALS_CLASS_OPERATIONAL)
		return;
	if (q->commandType == CMD_DELETE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy class %s may not delete patrons", pals_class_name(red->class)),
				 errdetail("Whether a patron can be deleted tells whether rows the class may not see still refer to them."),
				 errhint("Expired patrons are removed by pals_privacy.purge_expired(); an operational role can remove others.")));
	id = get_attnum(p->patrons->relid, p->patrons->id_column);
	foreach(lc, q->commandType == CMD_UPDATE ? q->targetList
			: q->onConflict ? q->onConflict->onConflictSet : NIL)
		if (((TargetEntry *) lfirst(lc))->resno == id && !((TargetEntry *) lfirst(lc))->resjunk)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy class %s may not change patron ids", pals_class_name(red->class)),
					 errdetail("Whether an id can change tells whether rows the class may not see still refer to it."),
					 errhint("Ask an operational role to change it.")));
}

/* Does the query (at any depth) refer to a system column or a whole row of rti? */
typedef struct SysRefContext
{
	int			rti;
	int			sublevels_up;
} SysRefContext;

static bool
system_reference_walker(Node *node, SysRefContext *c)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varno == c->rti && (int) ((Var *) node)->varlevelsup == c->sublevels_up &&
			((Var *) node)->varattno <= 0;
	if (IsA(node, Query))
	{
		bool		found;

		c->sublevels_up++;
		found = query_tree_walker((Query *) node, system_reference_walker, c, 0);
		c->sublevels_up--;
		return found;
	}
	return expression_tree_walker(node, system_reference_walker, c);
}

/* A relation's range table entry becomes a subquery (its permission check moved first). */
static void
become_subquery(RangeTblEntry *rte, Query *sub)
{
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	rte->security_barrier = false;
	rte->relid = InvalidOid;
	rte->relkind = 0;
	rte->rellockmode = 0;
	rte->tablesample = NULL;
	rte->inh = false;
	rte->securityQuals = NIL;
}

/*
 * A relation the class may read no row of (staff on private history) is
 * not read at all: it becomes SELECT <NULL columns> WHERE false, so no
 * index probe fetches a hidden row (statistics counters, buffers), and the
 * relation stays in the range table for its permission check.  Where the
 * query refers to its system columns or whole rows, the row filter stays.
 */
static bool
read_nothing(Query *q, int rti)
{
	RangeTblEntry *rte = rt_fetch(rti, q->rtable);
	RangeTblEntry *keep;
	Query	   *sub;
	SysRefContext c = {rti, 0};
	int			natts;

	if (rte->rtekind != RTE_RELATION || rti == q->resultRelation ||
		query_tree_walker(q, system_reference_walker, &c, 0))
		return false;
	natts = relation_natts(rte->relid);
	keep = copyObject(rte);
	keep->inFromCl = false;
	keep->inh = false;
	keep->securityQuals = NIL;
	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = list_make1(keep);
	sub->jointree = makeFromExpr(NIL, (Node *) makeBoolConst(false, false));
	for (AttrNumber a = 1; a <= natts; a++)
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(a));
		Form_pg_attribute att;
		Expr	   *value;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for attribute %d of relation %u", a, rte->relid);
		att = (Form_pg_attribute) GETSTRUCT(tup);
		value = att->attisdropped ? (Expr *) makeNullConst(INT4OID, -1, InvalidOid)
			: (Expr *) makeNullConst(att->atttypid, att->atttypmod, att->attcollation);
		sub->targetList = lappend(sub->targetList,
								  makeTargetEntry(value, a, pstrdup(NameStr(att->attname)), false));
		ReleaseSysCache(tup);
	}
	pals_move_permissions(q, rte, sub, keep);
	become_subquery(rte, sub);
	return true;
}

/*
 * An inheritance parent that is not bound itself, with a bound descendant
 * (a billable-transaction parent of loans): read through the parent, the
 * children's rows would escape their rules.  For a redacted class the
 * parent becomes
 *     SELECT <its columns> FROM ONLY parent
 *     UNION ALL SELECT <the same columns> FROM ONLY descendant ...
 * so every descendant's rows get that descendant's rules when the subquery
 * is rewritten in turn (and no arm is an inheritance parent the planner
 * would expand again).  The parent's
 * permission check moves to its own arm; the children are read through
 * the parent, as PostgreSQL reads them, without checks of their own.
 */
static void
fix_arm_permissions(Query *q, Query *setop, Oid parent, RangeTblEntry *parent_rte)
{
	ListCell   *lc;

	foreach(lc, setop->rtable)
	{
		RangeTblEntry *arm = lfirst(lc);
		RangeTblEntry *rel;

		if (arm->rtekind != RTE_SUBQUERY || arm->subquery->rtable == NIL)
			continue;
		rel = linitial(arm->subquery->rtable);
		if (rel->rtekind != RTE_RELATION)
			continue;
		if (rel->relid == parent)
			pals_move_permissions(q, parent_rte, arm->subquery, rel);
		else
			pals_read_unchecked(arm->subquery, rel);
	}
}

static void
expand_bound_children(Query *q, int rti)
{
	RangeTblEntry *rte = rt_fetch(rti, q->rtable);
	Oid			parent = rte->relid;
	StringInfoData cols;
	StringInfoData sql;
	/* every descendant as its own ONLY arm: no arm is expanded again by the planner */
	List	   *children = find_all_inheritors(parent, AccessShareLock, NULL);
	List	   *parsed;
	Query	   *sub;
	ListCell   *lc;
	int			natts = relation_natts(parent);
	SysRefContext c = {rti, 0};

	if (query_tree_walker(q, system_reference_walker, &c, 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("system columns and whole rows of \"%s\" are not available to privacy class %s",
						get_rel_name(parent), pals_class_name(pals_current_class())),
				 errdetail("Inheritance children of \"%s\" are bound to pals_privacy.", get_rel_name(parent)),
				 errhint("Name the columns, or read the child relations.")));
	initStringInfo(&cols);
	for (AttrNumber a = 1; a <= natts; a++)
	{
		char	   *name = get_attname(parent, a, true);

		if (a > 1)
			appendStringInfoString(&cols, ", ");
		if (name == NULL)
			appendStringInfo(&cols, "NULL::pg_catalog.int4 AS pals_dropped_%d", a);
		else
			appendStringInfoString(&cols, quote_identifier(name));
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM ONLY %s", cols.data,
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(parent)),
												get_rel_name(parent)));
	foreach(lc, children)
		if (lfirst_oid(lc) != parent)
			appendStringInfo(&sql, " UNION ALL SELECT %s FROM ONLY %s", cols.data,
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(lfirst_oid(lc))),
													get_rel_name(lfirst_oid(lc))));
	parsed = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw_parser(sql.data, RAW_PARSE_DEFAULT)),
												sql.data, NULL, 0, NULL);
	sub = linitial_node(Query, parsed);
	fix_arm_permissions(q, sub, parent, rte);
	become_subquery(rte, sub);	/* the parent's own row security is in its arm */
}

/* Parents with bound children, read or written by a redacted class. */
static void
guard_bound_children(Query *q, const Redaction *red)
{
	int			rti = 0;
	ListCell   *lc;

	if (red->class == PALS_CLASS_OPERATIONAL)
		return;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rti++;
		if (rte->rtekind != RTE_RELATION || !rte->inh || !policy_for(rte->relid)->bound_below)
			continue;
		if (rti == q->resultRelation)
		{
			if (q->commandType == CMD_INSERT)
				continue;		/* goes to the parent itself */
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy class %s may not update or delete through \"%s\"",
							pals_class_name(red->class), get_rel_name(rte->relid)),
					 errdetail("Inheritance children of \"%s\" are bound to pals_privacy.", get_rel_name(rte->relid)),
					 errhint("Write to the child relations, or use UPDATE ONLY / DELETE FROM ONLY.")));
		}
		expand_bound_children(q, rti);
	}
}

/* Rewrite one query level (and, first, every query nested in it). */
static void
redact_level(Query *q, const Redaction *red)
{
	int			nrtes = list_length(q->rtable);
	RteRules  **rules;
	List	  **saved;
	bool		any_mask = false;
	int			rti;
	int			excluded = q->onConflict ? q->onConflict->exclRelIndex : 0;
	int			write_rti;
	RteRules   *written = NULL;
	const RelPolicy *written_policy = NULL;

	guard_bound_children(q, red);
	query_tree_walker(q, nested_walker, (void *) red, 0);
	if (nrtes == 0)
		return;

	rules = palloc0(sizeof(RteRules *) * (nrtes + 1));
	for (rti = 1; rti <= nrtes; rti++)
	{
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);
		Oid			relid;
		const RelPolicy *p;
		RteRules   *r;

		if (rti == excluded)
			continue;			/* the row being inserted: the caller's own values */
		if (rti == q->resultRelation && q->commandType == CMD_INSERT &&
			(q->onConflict == NULL || q->onConflict->action != ONCONFLICT_UPDATE))
			continue;			/* INSERT reads nothing of its target */
		if (rte->rtekind == RTE_RELATION &&
			(rte->relid == StatisticRelationId || rte->relid == StatisticExtDataRelationId))
		{
			if (red->class != PALS_CLASS_OPERATIONAL)
				filter_statistics(rte, rti);
			continue;
		}
		if (!OidIsValid(relid = read_relid(rte)))
			continue;
		p = policy_for(relid);
		if (!p->bound)
			continue;
		if (q->commandType == CMD_MERGE && rti == q->resultRelation)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("MERGE into \"%s\" is not allowed for privacy class %s",
							get_rel_name(relid), pals_class_name(red->class)),
					 errhint("Use INSERT, UPDATE and DELETE.")));
		r = rules_for(relid, rti, p, red);
		for (int a = 1; a <= r->natts; a++)
			any_mask |= r->masks[a] != NULL;
		rules[rti] = r;
	}

	/* writes: see "Writes" */
	write_rti = q->resultRelation;
	if (write_rti > 0 && (q->commandType == CMD_INSERT || q->commandType == CMD_UPDATE ||
						  q->commandType == CMD_DELETE))
	{
		RangeTblEntry *rte = rt_fetch(write_rti, q->rtable);
		Oid			relid = read_relid(rte);
		const RelPolicy *p = OidIsValid(relid) ? policy_for(relid) : NULL;

		if (p != NULL && p->bound)
		{
			refuse_patron_writes(q, p, red);
			written_policy = p;
			written = rules[write_rti] ? rules[write_rti] : rules_for(relid, write_rti, p, red);
		}
	}

	if (any_mask)
	{
		MaskContext mc = {rules, nrtes, 0, q->rtable};

		/* the relations' own security quals (RLS) see stored values: set aside */
		saved = palloc0(sizeof(List *) * (nrtes + 1));
		for (rti = 1; rti <= nrtes; rti++)
		{
			saved[rti] = rt_fetch(rti, q->rtable)->securityQuals;
			rt_fetch(rti, q->rtable)->securityQuals = NIL;
		}
		/* rewritten only where the query reads a masked column */
		any_mask = query_tree_walker(q, reads_masked_walker, &mc, 0);
		if (any_mask)
			query_tree_mutator(q, mask_mutator, &mc, QTW_DONT_COPY_QUERY);
		for (rti = 1; rti <= nrtes; rti++)
			rt_fetch(rti, q->rtable)->securityQuals = saved[rti];
		if (any_mask)
			unmask_quals(q, rules);
	}

	if (written != NULL)
	{
		bool		upsert = q->onConflict && q->onConflict->action == ONCONFLICT_UPDATE;

		/* a patron registering through the catalogue is not logged in yet */
		bool		registration = q->commandType == CMD_INSERT && written_policy->patrons != NULL &&
			red->class == PALS_CLASS_PATRON && q->onConflict == NULL;

		if (written->filters != NIL && q->commandType != CMD_DELETE && !registration)
			add_check(q, q->commandType == CMD_INSERT ? WCO_RLS_INSERT_CHECK : WCO_RLS_UPDATE_CHECK,
					  written, NIL);
		if (upsert)
		{
			if (written->filters != NIL)
				add_check(q, WCO_RLS_UPDATE_CHECK, written, NIL);
			if (written->filters != NIL || all_shown(written) != NIL)
				add_check(q, WCO_RLS_CONFLICT_CHECK, written, all_shown(written));
		}
		else if (q->commandType != CMD_INSERT)
			written->filters = list_concat(written->filters, all_shown(written));
	}

	for (rti = 1; rti <= nrtes; rti++)
	{
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);
		Expr	   *qual;

		if (rules[rti] == NULL || rules[rti]->filters == NIL)
			continue;
		qual = list_length(rules[rti]->filters) == 1 ? linitial(rules[rti]->filters)
			: makeBoolExpr(AND_EXPR, rules[rti]->filters, -1);
		if (IsA(qual, Const) && !((Const *) qual)->constisnull &&
			!DatumGetBool(((Const *) qual)->constvalue) && read_nothing(q, rti))
			continue;
		if (rte->rtekind == RTE_RELATION)
			rte->securityQuals = lappend(rte->securityQuals, qual);
		else
		{
			ChangeVarNodes((Node *) qual, rti, 1, 0);
			filter_view(rte, qual);
		}
	}
}

/*
 * Statistics counters count the rows a scan fetched before the security
 * quals removed them: pg_stat_get_xact_tuples_fetched('loans'), or an
 * index's idx_tup_read, after a probe on patron_id = 42, tells how many
 * hidden loans patron 42 has.  For a redacted class, a counter of a bound
 * relation (or of one of its indexes) reads NULL, like its pg_stats; a
 * database-wide counter (pg_stat_database: tuples fetched by everyone)
 * reads NULL for every database.  Calls are found wherever a query can
 * make them: functions, operators built on them; an aggregate built on
 * one is refused.
 */
/* Does the query call a statistics counter, or an aggregate at all? (a cheap look first) */
static bool
calls_counter_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, calls_counter_walker, context, 0);
	if (IsA(node, FuncExpr) && is_counter(((FuncExpr *) node)->funcid))
		return true;
	if (IsA(node, OpExpr))
	{
		set_opfuncid((OpExpr *) node);
		if (is_counter(((OpExpr *) node)->opfuncid))
			return true;
	}
	if (IsA(node, Aggref) || IsA(node, WindowFunc))
		return true;
	return expression_tree_walker(node, calls_counter_walker, context);
}

static Node *
counters_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, counters_mutator, context, 0);
	if (IsA(node, OpExpr))
		set_opfuncid((OpExpr *) node);
	if ((IsA(node, FuncExpr) && is_counter(((FuncExpr *) node)->funcid)) ||
		(IsA(node, OpExpr) && is_counter(((OpExpr *) node)->opfuncid)))
	{
		Oid			fn = IsA(node, FuncExpr) ? ((FuncExpr *) node)->funcid : ((OpExpr *) node)->opfuncid;
		List	   *args = (List *) expression_tree_mutator((Node *) (IsA(node, FuncExpr) ? ((FuncExpr *) node)->args
																	: ((OpExpr *) node)->args),
														 counters_mutator, context);
		Oid			type = exprType(node);
		Expr	   *call_it = (Expr *) makeFuncExpr(fn, type, args, exprCollation(node),
													exprInputCollation(node), COERCE_EXPLICIT_CALL);
		char	   *name = get_func_name(fn);
		CaseWhen   *w;
		CaseExpr   *c;

		if (strncmp(name, "pg_stat_get_db_", 15) == 0)
			return (Node *) makeNullConst(type, -1, exprCollation(node));
		w = makeNode(CaseWhen);
		w->expr = call(get_derived()->fn_stats_visible, list_make1(copyObject(linitial(args))));
		w->result = call_it;
		w->location = -1;
		c = makeNode(CaseExpr);
		c->casetype = type;
		c->casecollid = exprCollation(node);
		c->args = list_make1(w);
		c->defresult = (Expr *) makeNullConst(type, -1, exprCollation(node));
		c->location = -1;
		return (Node *) c;
	}
	if (IsA(node, Aggref) || IsA(node, WindowFunc))
	{
		Oid			agg = IsA(node, Aggref) ? ((Aggref *) node)->aggfnoid : ((WindowFunc *) node)->winfnoid;
		HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(agg));

		if (HeapTupleIsValid(tup))
		{
			Form_pg_aggregate a = (Form_pg_aggregate) GETSTRUCT(tup);
			bool		counter = is_counter(a->aggtransfn) || is_counter(a->aggfinalfn) ||
				is_counter(a->aggmtransfn) || is_counter(a->aggmfinalfn) || is_counter(a->aggcombinefn);

			ReleaseSysCache(tup);
			if (counter)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("aggregate %s is built on a statistics counter", get_func_name(agg)),
						 errdetail("Statistics counters of bound relations are hidden from privacy classes below operational.")));
		}
	}
	return expression_tree_mutator(node, counters_mutator, context);
}

/*
 * pg_stats and pg_stats_ext leave out every table with row security active
 * for the reader, which binding turns on: the ILS's own (operational) role
 * would lose the statistics of every bound table.  For a role the redaction
 * leaves alone, row security that is only pals_privacy's (a pass-through
 * and the preload guard) filters nothing, so there row_security_active()
 * answers false.  (Redacted classes get the statistics rows of bound
 * relations removed instead: filter_statistics.)
 */
static bool
reads_statistics_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION &&
				(rte->relid == StatisticRelationId || rte->relid == StatisticExtDataRelationId))
				return true;
		}
		return query_tree_walker((Query *) node, reads_statistics_walker, context, 0);
	}
	return expression_tree_walker(node, reads_statistics_walker, context);
}

static Node *
row_security_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, row_security_mutator, context, 0);
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == F_ROW_SECURITY_ACTIVE_OID)
	{
		FuncExpr   *f = (FuncExpr *) expression_tree_mutator(node, row_security_mutator, context);
		CaseWhen   *w = makeNode(CaseWhen);
		CaseExpr   *c = makeNode(CaseExpr);

		w->expr = call(get_derived()->fn_own_row_security, list_make1(copyObject(linitial(f->args))));
		w->result = (Expr *) makeBoolConst(false, false);
		w->location = -1;
		c->casetype = BOOLOID;
		c->args = list_make1(w);
		c->defresult = (Expr *) f;
		c->location = -1;
		return (Node *) c;
	}
	return expression_tree_mutator(node, row_security_mutator, context);
}

/* ----------------------------------------------------------------------
 * Hooks
 * ---------------------------------------------------------------------- */

/*
 * The preload guard (a restrictive row-security policy calling _preloaded())
 * is there for backends without our hooks.  Planned here, in a preloaded
 * backend, it is true and redundant; left in, it is a security qual on every
 * bound relation, and PostgreSQL then keeps join conditions that are not
 * leakproof (a masked patron column) out of its index scans: a staff read
 * joining history to the patron table scanned the whole patron table.  It
 * is dropped where the class reads the relation whole (no mask, no row
 * filter): elsewhere PostgreSQL's own caution with statistics under
 * security quals (extended statistics) is worth keeping.
 */
static bool
reads_whole(RangeTblEntry *rte, const Redaction *red)
{
	const RelPolicy *p;
	RteRules   *r;

	if (red == NULL)
		return true;			/* not redacted */
	p = policy_for(rte->relid);
	if (!p->bound)
		return true;
	r = rules_for(rte->relid, 1, p, red);
	if (r->filters != NIL)
		return false;
	for (AttrNumber a = 1; a <= r->natts; a++)
		if (r->masks[a] != NULL)
			return false;
	return true;
}

static bool
drop_preload_guard_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		List	   *kept = NIL;
		ListCell   *lc;

		if (rte->rtekind != RTE_RELATION || rte->securityQuals == NIL ||
			!reads_whole(rte, (const Redaction *) context))
			return false;
		foreach(lc, rte->securityQuals)
		{
			Node	   *qual = lfirst(lc);

			if (!(IsA(qual, FuncExpr) && ((FuncExpr *) qual)->funcid == get_derived()->fn_preloaded))
				kept = lappend(kept, qual);
		}
		rte->securityQuals = kept;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, drop_preload_guard_walker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, drop_preload_guard_walker, context);
}

static void
add_plan_dependencies(PlannedStmt *result)
{
	int			n;
	const Oid  *config = pals_config_relids(&n);

	/* a plan shaped for one role must not serve another */
	result->dependsOnRole = true;
	/* nor outlive a change of bindings or classes */
	for (int i = 0; i < n; i++)
		if (OidIsValid(config[i]))
			result->relationOids = lappend_oid(result->relationOids, config[i]);
}

static PlannedStmt *
redact_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	Redaction	red;
	bool		ready = pals_extension_ready();
	bool		active = ready && redaction_applies(&red);
	PlannedStmt *volatile result = NULL;

	if (ready && pals_preloaded())
		query_tree_walker(parse, drop_preload_guard_walker, active ? (void *) &red : NULL,
						  QTW_EXAMINE_RTES_BEFORE);
	if (ready && !active && reads_statistics_walker((Node *) parse, NULL))
		query_tree_mutator(parse, row_security_mutator, NULL, QTW_DONT_COPY_QUERY);
	if (active)
	{
		redact_level(parse, &red);
		if (red.class != PALS_CLASS_OPERATIONAL &&
			query_tree_walker(parse, calls_counter_walker, NULL, 0))
			query_tree_mutator(parse, counters_mutator, NULL, QTW_DONT_COPY_QUERY);
		planning_redacted++;
	}
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		if (active)
			planning_redacted--;
	}
	PG_END_TRY();
	if (ready)
		add_plan_dependencies(result);
	return result;
}


/*
 * Row counts of a plan on a bound relation count the rows the security
 * quals removed: how many loans patron 42 has behind a mask.  The executor
 * is where every way of asking for them meets.  For a redacted class, an
 * instrumented plan on a bound relation is refused inside EXPLAIN (however
 * it is reached: EXECUTE, CREATE TABLE AS, a function), and stripped of its
 * instrumentation elsewhere (auto_explain with log_analyze then logs the
 * plan without row counts).  An instrumentation switched on by a hook that
 * runs after ours (auto_explain listed before pals_privacy) cannot be taken
 * back: refused.  Plain EXPLAIN is fine.
 */
static int	explain_depth = 0;

static bool
plan_reads_bound(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relkind != RELKIND_VIEW &&
			(policy_for(rte->relid)->bound || bound_below(rte->relid)))
			return true;
		/* a bound view: its *OLD* entry (15), its subquery entry (16+) */
		if (rte->relkind == RELKIND_VIEW && OidIsValid(rte->relid) && policy_for(rte->relid)->bound)
			return true;
	}
	return false;
}

static void
guard_row_counts(QueryDesc *qd, bool before)
{
	Redaction	red;

	if (qd->instrument_options == 0 || !pals_extension_ready() || !redaction_applies(&red) ||
		red.class == PALS_CLASS_OPERATIONAL || !plan_reads_bound(qd->plannedstmt))
		return;
	if (before && explain_depth == 0)
	{
		qd->instrument_options = 0;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("EXPLAIN ANALYZE of a query on a bound relation is not allowed for privacy class %s",
					pals_class_name(red.class)),
			 errdetail("Its row counts would count rows the class may not see."),
			 explain_depth > 0 ? errhint("Use EXPLAIN without ANALYZE, or ask an operational role.")
			 : errhint("A module loaded before pals_privacy instruments the plan (auto_explain with log_analyze?): "
					   "list pals_privacy first in shared_preload_libraries.")));
}

static void
redact_executor_start(QueryDesc *qd, int eflags)
{
	guard_row_counts(qd, true);
	if (prev_executor_start_hook)
		prev_executor_start_hook(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
	/* a hook that ran after ours may have turned row counts on */
	guard_row_counts(qd, false);
}

/*
 * A SQL function inlined into a query would escape the rewrite (inlining
 * happens inside the planner).  While planning a redacted query, SQL
 * functions ask for the fmgr hook, which keeps them from being inlined:
 * they run as functions, and their own statements are planned (and
 * redacted) when they run.
 */
static bool
redact_needs_fmgr(Oid fn)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn))
		return true;
	return planning_redacted > 0 && is_sql_function(fn);
}

/*
 * Integrity errors echo stored values in their DETAIL ("Key (patron_id,
 * item_id)=(42, 7) already exists", "Failing row contains (...)"): a
 * redacted session gets the message without it (on bound tables PostgreSQL
 * writes no values into it at all: row security is on).
 * (Row security on bound tables keeps them out at the source, for roles
 * that do not own the table; this covers the rest.)
 */
static void
redact_emit_log(ErrorData *edata)
{
	if (last_class != PALS_CLASS_OPERATIONAL)
	{
		if (edata->elevel >= ERROR && edata->detail != NULL &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
		{
			if (edata->detail_log == NULL)
				edata->detail_log = edata->detail;
			edata->detail = NULL;
		}
		/*
		 * Server log messages stay in the server log, even with
		 * client_min_messages = log: auto_explain's EXPLAIN ANALYZE output
		 * (per-node row counts) is one of them.
		 */
		if (edata->elevel == LOG)
			edata->output_to_client = false;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Row security, which binding turns on, makes PostgreSQL refuse COPY FROM
 * for every role but the table's owner ("COPY FROM not supported with
 * row-level security"), and the ILS's bulk loads with it.  Where the
 * table's row security is only pals_privacy's (pass-through, and the
 * preload guard this backend satisfies) and the class may write every row
 * (no row filter: not the patron class, say), the COPY is run here as
 * PostgreSQL runs it (same permission checks, as the calling role; its
 * triggers fire), without that refusal.  Anything else keeps it.
 */
static bool
only_our_row_security(Relation rel)
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

static bool
copy_from_bound(CopyStmt *stmt, const char *queryString, QueryEnvironment *queryEnv,
				QueryCompletion *qc)
{
	Oid			relid;
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *where = NULL;
	CopyFromState cstate;
	uint64		processed;
	Redaction	red;
	const RelPolicy *p;

	if (!stmt->is_from || stmt->relation == NULL || stmt->filename != NULL || superuser() ||
		!pals_preloaded() || !pals_extension_ready())
		return false;
	relid = RangeVarGetRelid(stmt->relation, RowExclusiveLock, true);
	if (!OidIsValid(relid) || !(p = policy_for(relid))->bound ||
		check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED)
		return false;
	red.class = PALS_CLASS_OPERATIONAL;
	red.purpose = NULL;
	if (redaction_applies(&red) && rules_for(relid, 1, p, &red)->filters != NIL)
		return false;
	rel = table_open(relid, NoLock);
	if (!only_our_row_security(rel))
	{
		table_close(rel, NoLock);
		return false;
	}

	/* what DoCopy does for COPY ... FROM STDIN, less the row-security refusal */
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = queryString;
	pstate->p_queryEnv = queryEnv;
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	if (stmt->whereClause)
	{
		addNSItemToQuery(pstate, nsitem, false, true, true);
		where = transformExpr(pstate, stmt->whereClause, EXPR_KIND_COPY_WHERE);
		where = coerce_to_boolean(pstate, where, "WHERE");
		assign_expr_collations(pstate, where);
		where = eval_const_expressions(NULL, where);
		where = (Node *) canonicalize_qual((Expr *) where, false);
		where = (Node *) make_ands_implicit((Expr *) where);
	}
	pals_check_insert_permission(pstate, nsitem, CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist));
	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");
	cstate = BeginCopyFrom(pstate, rel, where, NULL, false, NULL, stmt->attlist, stmt->options);
	processed = CopyFrom(cstate);
	EndCopyFrom(cstate);
	table_close(rel, NoLock);
	free_parsestate(pstate);
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
	return true;
}

static void
next_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			 ProcessUtilityContext context, ParamListInfo params,
			 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* EXPLAIN, with explain_depth telling the executor hook it is inside one */
static void
explain_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	explain_depth++;
	PG_TRY();
	{
		next_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		explain_depth--;
	}
	PG_END_TRY();
}

/*
 * COPY table TO reads the table without the planner; for a redacted class
 * it becomes COPY (SELECT columns FROM ONLY table) TO, as PostgreSQL does
 * itself for row-level security.
 */
static void
redact_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			   ProcessUtilityContext context, ParamListInfo params,
			   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	Redaction	red;
	bool		applies;

	/*
	 * Transaction control and SET must not run a query of ours first: it
	 * would take the transaction's snapshot, and BEGIN ISOLATION LEVEL or
	 * SET TRANSACTION ISOLATION LEVEL would then fail.
	 */
	if (IsA(stmt, TransactionStmt) || IsA(stmt, VariableSetStmt) || IsA(stmt, VariableShowStmt))
	{
		next_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		return;
	}
	/* notes the session's class for every other statement (see emit_log) */
	applies = pals_extension_ready() && redaction_applies(&red);

	if (IsA(stmt, CopyStmt) && context == PROCESS_UTILITY_TOPLEVEL &&
		copy_from_bound((CopyStmt *) stmt, queryString, queryEnv, qc))
		return;

	if (applies && IsA(stmt, CopyStmt) && !((CopyStmt *) stmt)->is_from &&
		((CopyStmt *) stmt)->relation != NULL)
	{
		CopyStmt   *copy = (CopyStmt *) stmt;
		Oid			relid = RangeVarGetRelid(copy->relation, AccessShareLock, false);

		if (policy_for(relid)->bound)
		{
			SelectStmt *select = makeNode(SelectStmt);
			RangeVar   *from;
			ListCell   *lc;

			pstmt = copyObject(pstmt);
			copy = (CopyStmt *) pstmt->utilityStmt;
			if (copy->attlist == NIL)
			{
				ColumnRef  *cr = makeNode(ColumnRef);
				ResTarget  *target = makeNode(ResTarget);

				cr->fields = list_make1(makeNode(A_Star));
				cr->location = -1;
				target->val = (Node *) cr;
				target->location = -1;
				select->targetList = list_make1(target);
			}
			foreach(lc, copy->attlist)
			{
				ColumnRef  *cr = makeNode(ColumnRef);
				ResTarget  *target = makeNode(ResTarget);

				cr->fields = list_make1(lfirst(lc));
				cr->location = -1;
				target->name = pstrdup(strVal(lfirst(lc)));
				target->val = (Node *) cr;
				target->location = -1;
				select->targetList = lappend(select->targetList, target);
			}
			from = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
								get_rel_name(relid), -1);
			from->inh = false;	/* COPY table TO copies that table only */
			select->fromClause = list_make1(from);
			copy->relation = NULL;
			copy->attlist = NIL;
			copy->query = (Node *) select;
			readOnlyTree = false;
		}
	}
	if (IsA(stmt, ExplainStmt))
		explain_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		next_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* A setting that shapes plans changed: cached plans are re-made. */
void
pals_redact_settings_changed(void)
{
	ResetPlanCache();
}

static void
assign_require_acknowledgment(bool newval, void *extra)
{
	pals_redact_settings_changed();
}

static void
assign_guardian_access(int newval, void *extra)
{
	pals_redact_settings_changed();
}

/* ----------------------------------------------------------------------
 * Functions the rewritten queries call
 * ---------------------------------------------------------------------- */

static bool
statistics_visible(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
		relid = IndexGetRelation(relid, true);
	return !OidIsValid(relid) || !pals_statistics_of_bound(relid);
}

Datum
pals_privacy_stats_visible(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(statistics_visible(PG_GETARG_OID(0)));
}

Datum
pals_privacy_stats_ext_visible(PG_FUNCTION_ARGS)
{
	HeapTuple	tup = SearchSysCache1(STATEXTOID, PG_GETARG_DATUM(0));
	Oid			relid;

	if (!HeapTupleIsValid(tup))
		PG_RETURN_BOOL(true);
	relid = ((Form_pg_statistic_ext) GETSTRUCT(tup))->stxrelid;
	ReleaseSysCache(tup);
	PG_RETURN_BOOL(statistics_visible(relid));
}

/* Is the relation's row security only pals_privacy's? (see row_security_mutator) */
Datum
pals_privacy_own_row_security_only(PG_FUNCTION_ARGS)
{
	Relation	rel = try_relation_open(PG_GETARG_OID(0), AccessShareLock);
	bool		ours;

	if (rel == NULL)
		PG_RETURN_BOOL(false);
	ours = rel->rd_rel->relrowsecurity && only_our_row_security(rel);
	relation_close(rel, AccessShareLock);
	PG_RETURN_BOOL(ours);
}

/*
 * A set of patron ids answered by one query, kept for one statement: who
 * owes more than the threshold, who consented to a purpose on a channel.
 */
typedef struct PatronSet
{
	char		question[NAMEDATALEN * 2];
	LocalTransactionId lxid;
	TimestampTz statement;
	CommandId	cid;
	HTAB	   *ids;
} PatronSet;

#define NSETS 8
static PatronSet sets[NSETS];
static int	next_set = 0;
static MemoryContext sets_context = NULL;

typedef struct PatronId
{
	char		id[NAMEDATALEN];
} PatronId;

static bool
set_is_current(const PatronSet *s, const char *question)
{
	return s->ids != NULL && s->lxid == pals_my_lxid() &&
		s->statement == GetCurrentStatementStartTimestamp() &&
		s->cid == GetCurrentCommandId(false) && strcmp(s->question, question) == 0;
}

/* Run sql (one text column) as the extension owner; keep the answers. */
static PatronSet *
patron_set(const char *question, const char *sql, int nargs, Oid *types, Datum *values)
{
	PatronSet  *s;
	HASHCTL		ctl;

	for (int i = 0; i < NSETS; i++)
		if (set_is_current(&sets[i], question))
			return &sets[i];
	if (sets_context == NULL)
		sets_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy patron sets",
											 ALLOCSET_DEFAULT_SIZES);
	s = &sets[next_set];
	next_set = (next_set + 1) % NSETS;
	if (s->ids != NULL)
		hash_destroy(s->ids);
	s->ids = NULL;
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(PatronId);
	ctl.hcxt = sets_context;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	pals_execute_sql_as(pals_registry()->extension_owner, sql, nargs, types, values);
	s->ids = hash_create("pals_privacy patron set", Max(16, SPI_processed), &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (id != NULL && strlen(id) < NAMEDATALEN)
			hash_search(s->ids, id, HASH_ENTER, NULL);
	}
	SPI_finish();
	strlcpy(s->question, question, sizeof(s->question));
	s->lxid = pals_my_lxid();
	s->statement = GetCurrentStatementStartTimestamp();
	s->cid = GetCurrentCommandId(false);
	return s;
}

static bool
in_set(PatronSet *s, text *patron)
{
	char	   *id = text_to_cstring(patron);
	bool		found = false;

	if (strlen(id) < NAMEDATALEN)
		hash_search(s->ids, id, HASH_FIND, &found);
	return found;
}

/* Does the patron owe more than pals_privacy.collections_threshold? */
Datum
pals_privacy_collectible(PG_FUNCTION_ARGS)
{
	const PalsRegistry *reg = pals_registry();
	StringInfoData sql;
	char		question[NAMEDATALEN * 2];
	Datum		threshold;
	Oid			type = NUMERICOID;
	ListCell   *lc;
	PalsClass	c = pals_current_class();

	if (c != PALS_CLASS_COLLECTIONS && c != PALS_CLASS_OPERATIONAL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pals_privacy._collectible is for the collections class")));
	if (reg->balances == NIL)
		PG_RETURN_BOOL(false);
	snprintf(question, sizeof(question), "owes>%.17g", pals_collections_threshold);
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT p FROM (");
	foreach(lc, reg->balances)
	{
		const ColumnBinding *b = lfirst(lc);

		appendStringInfo(&sql, "%sSELECT %s::text AS p, %s::numeric AS a FROM %s",
						 lc == list_head(reg->balances) ? "" : " UNION ALL ",
						 quote_identifier(b->patron_column), quote_identifier(b->column),
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(b->relid)),
													get_rel_name(b->relid)));
	}
	appendStringInfoString(&sql, ") s GROUP BY p HAVING sum(a) > $1");
	threshold = DirectFunctionCall1(float8_numeric, Float8GetDatum(pals_collections_threshold));
	PG_RETURN_BOOL(in_set(patron_set(question, sql.data, 1, &type, &threshold),
						  PG_GETARG_TEXT_PP(0)));
}

/* Has the patron consented to this purpose on this channel? */
Datum
pals_privacy_contact_visible(PG_FUNCTION_ARGS)
{
	char		question[NAMEDATALEN * 2];
	Datum		args[2] = {PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
	Oid			types[2] = {TEXTOID, TEXTOID};
	char	   *purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *channel = text_to_cstring(PG_GETARG_TEXT_PP(2));
	PalsClass	c = pals_current_class();

	/* the classes whose contact fields are narrowed by purpose; nobody else asks */
	if (c != PALS_CLASS_OPERATIONAL && c != PALS_CLASS_STAFF && c != PALS_CLASS_COLLECTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pals_privacy._contact_visible is not for privacy class %s", pals_class_name(c))));

	snprintf(question, sizeof(question), "consent:%.40s:%.20s", purpose, channel);
	PG_RETURN_BOOL(in_set(patron_set(question,
									 "SELECT patron FROM pals_privacy.consents"
									 " WHERE purpose = $1 AND channel = $2 AND granted",
									 2, types, args),
						  PG_GETARG_TEXT_PP(0)));
}

/*
 * Has the session's user acknowledged the policy within the last year?  If
 * not, say so (once per transaction) with how to do it.
 */
Datum
pals_privacy_acknowledged(PG_FUNCTION_ARGS)
{
	static LocalTransactionId told = InvalidLocalTransactionId;
	char	   *user = GetUserNameFromId(GetSessionUserId(), false);
	PatronSet  *s = patron_set("acknowledged",
							   "SELECT role FROM pals_privacy.policy_acknowledgments"
							   " WHERE acknowledged_at > now() - interval '1 year'",
							   0, NULL, NULL);
	bool		found = false;

	if (strlen(user) < NAMEDATALEN)
		hash_search(s->ids, user, HASH_FIND, &found);
	if (!found && told != pals_my_lxid())
	{
		told = pals_my_lxid();
		ereport(NOTICE,
				(errmsg("patron columns are masked: role \"%s\" has not acknowledged the privacy policy this year", user),
				 errhint("Read the policy, then run SELECT pals_privacy.acknowledge_policy('<version>');")));
	}
	PG_RETURN_BOOL(found);
}

/* The minors the logged-in patron is guardian of, under the age limit. */
Datum
pals_privacy_wards(PG_FUNCTION_ARGS)
{
	const PalsRegistry *reg = pals_registry();
	const char *patron = pals_session_patron();
	StringInfoData sql;
	char		question[NAMEDATALEN * 2];
	Datum		args[2];
	Oid			types[2] = {TEXTOID, INT4OID};
	PatronSet  *set;
	HASH_SEQ_STATUS seq;
	PatronId   *id;
	List	   *ids = NIL;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;

	if (patron == NULL || pals_guardian_access == GUARDIAN_NONE || reg->guardians == NIL ||
		reg->patrons == NULL || reg->patrons->birth_date_column == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	initStringInfo(&sql);
	foreach(lc, reg->guardians)
	{
		const ColumnBinding *g = lfirst(lc);

		appendStringInfo(&sql, "%sSELECT g.%s::text FROM %s g JOIN %s p ON p.%s = g.%s"
						 " WHERE g.%s::text = $1 AND p.%s > now() - make_interval(years => $2)",
						 lc == list_head(reg->guardians) ? "" : " UNION ",
						 quote_identifier(g->patron_column),
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(g->relid)),
													get_rel_name(g->relid)),
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(reg->patrons->relid)),
													get_rel_name(reg->patrons->relid)),
						 quote_identifier(reg->patrons->id_column), quote_identifier(g->patron_column),
						 quote_identifier(g->column), quote_identifier(reg->patrons->birth_date_column));
	}
	snprintf(question, sizeof(question), "wards:%.40s:%d", patron, pals_guardian_age_limit);
	args[0] = CStringGetTextDatum(patron);
	args[1] = Int32GetDatum(pals_guardian_age_limit);
	set = patron_set(question, sql.data, 2, types, args);
	hash_seq_init(&seq, set->ids);
	while ((id = hash_seq_search(&seq)) != NULL)
		ids = lappend(ids, id->id);
	elems = palloc(sizeof(Datum) * Max(1, list_length(ids)));
	foreach(lc, ids)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

void
pals_redact_init(void)
{
	DefineCustomRealVariable("pals_privacy.collections_threshold",
							 "Amount a patron must owe before the collections class sees them.",
							 "The collections class sees patrons whose total across bound balance relations "
							 "is more than this. Only superusers can change it.",
							 &pals_collections_threshold,
							 25.0, 0.0, DBL_MAX,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("pals_privacy.require_acknowledgment",
							 "Mask patron columns for staff who have not acknowledged the policy this year.",
							 "A staff role whose last pals_privacy.acknowledge_policy() is over a year old, "
							 "or that has none, reads every patron column masked.",
							 &pals_require_acknowledgment,
							 false,
							 PGC_SUSET, 0,
							 NULL, assign_require_acknowledgment, NULL);

	DefineCustomEnumVariable("pals_privacy.guardian_access",
							 "What a guardian's logged-in session reads of a minor's account.",
							 "none; current: open loans and holds, loans with fines owed, balances; "
							 "all: the whole account, reading history included. Minors are patrons younger "
							 "than pals_privacy.guardian_age_limit (birth_date_column of bind_patrons).",
							 &pals_guardian_access,
							 GUARDIAN_NONE,
							 guardian_options,
							 PGC_SUSET, 0,
							 NULL, assign_guardian_access, NULL);
	DefineCustomIntVariable("pals_privacy.guardian_age_limit",
							"Age (years) below which a guardian may see the account.",
							NULL,
							&pals_guardian_age_limit,
							18, 1, 150,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	CacheRegisterRelcacheCallback(redact_relcache_callback, (Datum) 0);

	prev_planner_hook = planner_hook;
	planner_hook = redact_planner;
	prev_executor_start_hook = ExecutorStart_hook;
	ExecutorStart_hook = redact_executor_start;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = redact_needs_fmgr;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_emit_log;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = redact_utility;
}
