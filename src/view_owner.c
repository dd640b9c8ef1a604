/*
 * view_owner.c
 *     A bound view is read as its owner, never as the extension owner.
 *
 *     A bound balance may be a view of the ILS's (bind_balance; the only
 *     binding that takes one).  The extension reads it on behalf of a
 *     session as the extension owner, a superuser: the collections read
 *     (redact_runtime.c), my_data() and compliance_report() and
 *     purge_expired() (_my_data_of, _patrons_owing).  A view's relations are
 *     read with its owner's rights, but the functions it calls run as the
 *     role in force: whoever owns such a function (the ILS's role) could
 *     redefine it and have it run as the superuser at the next read (issue 14).
 *
 *     So, as ils_owner.c does for the sweeps' writes: where the role in force
 *     is a superuser, a bound view is read as the view's owner
 *     (SECURITY_LOCAL_USERID_CHANGE, restored on error).  Its functions then
 *     run with the owner's rights.  For the read to be whole (not redacted)
 *     and to run no code written by a role with fewer rights than the one
 *     it runs as, a bound view must have:
 *       - an owner that is a superuser or of privacy class operational
 *         (classes.c: its class as class_of() gives it);
 *       - only functions outside pg_catalog (called directly, through an
 *         operator, a cast, an aggregate's support functions, a GROUP BY or
 *         ORDER BY operator, in the views it reads, nested) owned by the
 *         view's owner or by a superuser, and only domains owned by them.
 *     bind_balance refuses a view that has not (42501, with what to change),
 *     health() lists one that no longer has, and every read checks again
 *     and refuses (fail closed): a view whose owner or function changed
 *     since binding never runs as the superuser.  What is not walked: the
 *     bodies of the functions (what they call is their owner's choice), the
 *     CHECK expressions of a domain (its owner's), operator classes' support
 *     functions, row security policies of the tables a view reads (their
 *     owner's), foreign tables' wrappers (a superuser's).  A view of
 *     PostgreSQL's own functions only needs nothing but its owner's class.
 *     The refusal of owner_code_guard.c (a session with temporary objects)
 *     still applies: a function run as a superuser owner would find them.
 */
#include "pals_privacy.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_require_view_owner);
PG_FUNCTION_INFO_V1(pals_privacy_view_owner_problem);
PG_FUNCTION_INFO_V1(pals_privacy_read_as_owner);

/* views nested deeper than this are refused */
#define MAX_VIEW_DEPTH 16

typedef struct ViewProblem
{
	Oid			view;			/* the bound view */
	Oid			owner;			/* its owner */
	bool		owner_class;	/* the owner is neither a superuser nor operational */
	Oid			func;			/* a function of another owner */
	Oid			domain;			/* a domain of another owner */
	Oid			other;			/* that function's or domain's owner */
	bool		too_deep;		/* views nested deeper than MAX_VIEW_DEPTH */
} ViewProblem;

typedef struct OwnerWalk
{
	ViewProblem *p;
	int			depth;
	Oid			view;			/* the view walked: its own *OLD* and *NEW* (before 16) */
} OwnerWalk;

static Oid
function_owner(Oid funcid, Oid *nsp)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "pals_privacy: cache lookup failed for function %u", funcid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	*nsp = ((Form_pg_proc) GETSTRUCT(tup))->pronamespace;
	ReleaseSysCache(tup);
	return owner;
}

/* Is the function PostgreSQL's own, the view owner's or a superuser's?  Else note it. */
static bool
function_allowed(Oid funcid, ViewProblem *p)
{
	Oid			nsp;
	Oid			owner;

	if (!OidIsValid(funcid))
		return true;
	owner = function_owner(funcid, &nsp);
	if (nsp == PG_CATALOG_NAMESPACE || owner == p->owner || superuser_arg(owner))
		return true;
	p->func = funcid;
	p->other = owner;
	return false;
}

/* check_functions_in_node's checker: true (stop) at a function of another owner */
static bool
function_checker(Oid funcid, void *context)
{
	ViewProblem *p = (ViewProblem *) context;
	HeapTuple	tup;
	bool		bad = false;

	if (!function_allowed(funcid, p))
		return true;
	/* an aggregate's support functions run too */
	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(funcid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_aggregate agg = (Form_pg_aggregate) GETSTRUCT(tup);
		Oid			support[] = {agg->aggtransfn, agg->aggfinalfn, agg->aggcombinefn,
			agg->aggserialfn, agg->aggdeserialfn, agg->aggmtransfn, agg->aggminvtransfn,
		agg->aggmfinalfn};

		for (size_t i = 0; i < lengthof(support) && !bad; i++)
			bad = !function_allowed(support[i], p);
		ReleaseSysCache(tup);
	}
	return bad;
}

static bool sort_group_allowed(List *clauses, ViewProblem *p);
static bool walk_view(Oid relid, ViewProblem *p, int depth);

static bool
owner_walker(Node *node, void *context)
{
	OwnerWalk  *w = (OwnerWalk *) context;

	if (node == NULL)
		return false;
	if (check_functions_in_node(node, function_checker, w->p))
		return true;
	if (IsA(node, CoerceToDomain))
	{
		Oid			domain = ((CoerceToDomain *) node)->resulttype;
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(domain));
		Oid			owner = InvalidOid;
		Oid			nsp = PG_CATALOG_NAMESPACE;

		if (HeapTupleIsValid(tup))
		{
			owner = ((Form_pg_type) GETSTRUCT(tup))->typowner;
			nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
			ReleaseSysCache(tup);
		}
		if (nsp != PG_CATALOG_NAMESPACE && owner != w->p->owner && !superuser_arg(owner))
		{
			w->p->domain = domain;
			w->p->other = owner;
			return true;
		}
	}
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		/* the operators of GROUP BY, ORDER BY, DISTINCT and window clauses */
		if (!sort_group_allowed(q->groupClause, w->p) || !sort_group_allowed(q->sortClause, w->p) ||
			!sort_group_allowed(q->distinctClause, w->p))
			return true;
		foreach(lc, q->windowClause)
		{
			WindowClause *wc = lfirst(lc);

			if (!sort_group_allowed(wc->partitionClause, w->p) || !sort_group_allowed(wc->orderClause, w->p))
				return true;
		}
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind != RTE_RELATION || rte->relid == w->view)
				continue;
			if (rte->tablesample != NULL && !function_allowed(rte->tablesample->tsmhandler, w->p))
				return true;
			if (get_rel_relkind(rte->relid) == RELKIND_VIEW && walk_view(rte->relid, w->p, w->depth + 1))
				return true;
		}
		return query_tree_walker(q, owner_walker, context, 0);
	}
	return expression_tree_walker(node, owner_walker, context);
}

static bool
sort_group_allowed(List *clauses, ViewProblem *p)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst(lc);

		if ((OidIsValid(sgc->eqop) && !function_allowed(get_opcode(sgc->eqop), p)) ||
			(OidIsValid(sgc->sortop) && !function_allowed(get_opcode(sgc->sortop), p)))
			return false;
	}
	return true;
}

/* Does reading the view (its query, nested views) run a function or domain of another owner? */
static bool
walk_view(Oid relid, ViewProblem *p, int depth)
{
	Relation	rel;
	bool		bad;
	OwnerWalk	w = {p, depth, relid};

	if (depth > MAX_VIEW_DEPTH)
	{
		p->too_deep = true;
		return true;
	}
	rel = relation_open(relid, AccessShareLock);
	bad = owner_walker((Node *) copyObject(get_view_query(rel)), &w);
	relation_close(rel, AccessShareLock);
	return bad;
}

/*
 * What keeps the bound relation from being read as its owner (false: nothing;
 * a relation that is not a view: nothing, it runs no code when read).
 */
static bool
view_problem(Oid relid, ViewProblem *p)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	char		kind;

	memset(p, 0, sizeof(*p));
	if (!HeapTupleIsValid(tup))
		return false;
	kind = ((Form_pg_class) GETSTRUCT(tup))->relkind;
	p->view = relid;
	p->owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	if (kind != RELKIND_VIEW)
		return false;
	if (!superuser_arg(p->owner) && pals_class_of_role(p->owner) != PALS_CLASS_OPERATIONAL)
	{
		p->owner_class = true;
		return true;
	}
	return walk_view(relid, p, 0);
}

static char *
view_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

/* The problem in one line, with what to change (health(), _view_owner_problem) */
static char *
problem_text(const ViewProblem *p)
{
	char	   *owner = GetUserNameFromId(p->owner, false);

	if (p->owner_class)
		return psprintf("owner %s is neither a superuser nor of class operational: "
						"ALTER VIEW %s OWNER TO a role of class operational, or classify %s operational",
						quote_identifier(owner), view_name(p->view), quote_identifier(owner));
	if (OidIsValid(p->func))
		return psprintf("calls function %s, owned by %s: ALTER FUNCTION %s OWNER TO %s",
						format_procedure_qualified(p->func), quote_identifier(GetUserNameFromId(p->other, false)),
						format_procedure_qualified(p->func), quote_identifier(owner));
	if (OidIsValid(p->domain))
		return psprintf("uses domain %s, owned by %s: ALTER DOMAIN %s OWNER TO %s",
						format_type_be_qualified(p->domain), quote_identifier(GetUserNameFromId(p->other, false)),
						format_type_be_qualified(p->domain), quote_identifier(owner));
	return psprintf("nests views more than %d deep", MAX_VIEW_DEPTH);
}

/* Raise the problem: what is the caller ("bind_balance", "the collections read of bound balances") */
static void
refuse_view(const ViewProblem *p, const char *what)
{
	char	   *view = view_name(p->view);
	char	   *owner = GetUserNameFromId(p->owner, false);

	if (p->owner_class)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s: the owner of view %s, role \"%s\", is neither a superuser nor of privacy class operational",
						what, view, owner),
				 errdetail("A bound view is read as its owner, so that the functions it calls run with that "
						   "role's rights and not the extension owner's; a class below operational reads it redacted."),
				 errhint("Give the view to a role of class operational or a superuser (ALTER VIEW %s OWNER TO ...), "
						 "or classify its owner: SELECT pals_privacy.classify_role('%s', 'operational');",
						 view, owner)));
	if (OidIsValid(p->func) || OidIsValid(p->domain))
	{
		char	   *object = OidIsValid(p->func)
			? psprintf("function %s", format_procedure_qualified(p->func))
			: psprintf("domain %s", format_type_be_qualified(p->domain));

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s: view %s runs %s, owned by role \"%s\", neither the view's owner nor a superuser",
						what, view, object, GetUserNameFromId(p->other, false)),
				 errdetail("A bound view is read as its owner, \"%s\"; the owner of what it runs (directly or through "
						   "the views it reads) could redefine it to run with that role's rights.", owner),
				 errhint("Give it to the view's owner (ALTER %s OWNER TO %s), or bind a view that does not run it.",
						 OidIsValid(p->func) ? psprintf("FUNCTION %s", format_procedure_qualified(p->func))
						 : psprintf("DOMAIN %s", format_type_be_qualified(p->domain)),
						 quote_identifier(owner))));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s: view %s nests views more than %d deep", what, view, MAX_VIEW_DEPTH),
			 errhint("Bind a view that reads the tables more directly.")));
}

/*
 * The role a bound relation is read as, with the security context to add in
 * *sec: for a view, checked (refused if it fails the rules above, whoever
 * reads), its owner where the role in force is a superuser; otherwise the
 * role in force.  what: the caller, for the error.
 */
Oid
pals_bound_read_role(Oid relid, Oid role, const char *what, int *sec)
{
	ViewProblem p;

	if (view_problem(relid, &p))
		refuse_view(&p, what);
	if (get_rel_relkind(relid) != RELKIND_VIEW || !superuser_arg(role))
		return role;
	*sec |= SECURITY_LOCAL_USERID_CHANGE;
	return p.owner;
}

/*
 * pals_privacy._require_view_owner(fn text, relation regclass) returns void:
 * bind_balance's check of a view (nothing for a table).
 */
Datum
pals_privacy_require_view_owner(PG_FUNCTION_ARGS)
{
	ViewProblem p;

	if (view_problem(PG_GETARG_OID(1), &p))
		refuse_view(&p, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/*
 * pals_privacy._view_owner_problem(relation regclass) returns text: what
 * keeps a bound view from being read (NULL: nothing); for health().
 */
Datum
pals_privacy_view_owner_problem(PG_FUNCTION_ARGS)
{
	ViewProblem p;

	if (!view_problem(PG_GETARG_OID(0), &p))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem_text(&p)));
}

/*
 * pals_privacy._read_as_owner(relation regclass, sql text, arg anyelement)
 * returns jsonb: runs sql ($1 = arg), a read of the bound relation, as
 * pals_bound_read_role() says, under the caller's search path (our
 * functions pin theirs), and returns its first row's first column (jsonb;
 * NULL without a row).  For _my_data_of and _patrons_owing.
 */
Datum
pals_privacy_read_as_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 2);
	Datum		arg = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	char		argnull = PG_ARGISNULL(2) ? 'n' : ' ';
	Oid			save_user;
	int			save_sec;
	int			sec;
	Oid			role;
	volatile Datum result = (Datum) 0;
	volatile bool isnull = true;

	GetUserIdAndSecContext(&save_user, &save_sec);
	sec = save_sec;
	role = pals_bound_read_role(relid, save_user, "reading the bound view", &sec);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	SetUserIdAndSecContext(role, sec);
	PG_TRY();
	{
		int			rc = SPI_execute_with_args(sql, 1, &argtype, &arg, &argnull, false, 1);

		if (rc < 0)
			elog(ERROR, "pals_privacy: statement failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0 && SPI_tuptable != NULL)
		{
			bool		n;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n);

			if (!n)
			{
				result = SPI_datumTransfer(d, false, -1);
				isnull = false;
			}
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
