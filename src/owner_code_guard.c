/*
 * owner_code_guard.c
 *     No code of the ILS's is run as the extension owner (a superuser) in a
 *     session that has a temporary schema.
 *
 *     The extension runs some code the ILS defined as its owner on behalf of
 *     a session: a bound balance (or card, loan ...) relation that is a
 *     view (the collections class's _collectible, a patron's my_data(), the
 *     auditor's compliance_report()), a binding condition that calls a
 *     function of the ILS's (settled_when, closed_when, keep_history_when,
 *     evaluated by the sever's probe and search).  PostgreSQL searches the
 *     session's temporary schema for relations and types: first under a
 *     path that does not name pg_temp (an ILS function that pins its own,
 *     'SET search_path = s9, public'), last under ours ('pg_catalog,
 *     pg_temp', 17 and later).  A temporary view, table or domain of the
 *     session's, named like the ILS's, then runs the session's code (its
 *     function, its CHECK, or a builtin such as query_to_xml) as the
 *     superuser (test attack_session9).  Refusing only functions of pg_temp
 *     would not do: a temporary view can call builtins directly.  (A bound
 *     view is read as its own owner, view_owner.c; that owner may be a
 *     superuser, and an operational one's rights are still worth taking:
 *     the refusal stands for it too.)
 *
 *     So: while the session's temporary schema holds a relation or type of a
 *     role below superuser, code that involves objects outside pg_catalog (a
 *     view or a foreign table; a function, operator or domain of another
 *     schema, seen through nested views), or a function of PostgreSQL's own
 *     that runs SQL given at run time (query_to_xml and the other XML
 *     exports, ts_stat, ts_rewrite: sql_text_builtins), is
 *     not run as the owner.  The callers fail closed: my_data() and
 *     compliance_report() raise
 *     pals_refuse_owner_code()'s error, a sever that needs such code raises
 *     it too (inside its subtransaction: the row is left pending, and the
 *     maintenance worker, whose session has no temporary schema, retries
 *     it).  A session that never made a temporary object pays one test of a
 *     backend variable; the catalog query runs only where code of the ILS's
 *     is at stake.
 */
#include "pals_privacy.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(pals_privacy_owner_code_guard);

/* views nested deeper than this are taken to run the ILS's code */
#define MAX_VIEW_DEPTH 16

/*
 * Does this session's temporary schema hold a relation or a type of a role
 * below superuser (what a session's own role could have put there for the
 * ILS's code to find)?  A backend that never made a temporary schema is
 * answered at once; otherwise one catalog query (under the safe search
 * path, its operators named), as the current user.  The same question as
 * the collections read's (redact_runtime.c, test collections_balance_path):
 * a temporary schema holding only a superuser's objects (pgTAP's) is no
 * door, a superuser can run anything anyway.
 */
bool
pals_session_has_temp(void)
{
	Oid			temp;
	Oid			toast;
	bool		found = false;
	int			nestlevel;

	GetTempNamespaceState(&temp, &toast);
	if (!OidIsValid(temp))
		return false;
	nestlevel = pals_safe_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	if (SPI_execute("SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r"
					"   ON r.oid OPERATOR(pg_catalog.=) c.relowner"
					" WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND NOT r.rolsuper)"
					" OR EXISTS (SELECT FROM pg_catalog.pg_type t JOIN pg_catalog.pg_roles r"
					"   ON r.oid OPERATOR(pg_catalog.=) t.typowner"
					" WHERE t.typnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND NOT r.rolsuper)",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		found = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	pals_restore_search_path(nestlevel);
	return found;
}

/*
 * PostgreSQL's own functions that run SQL given at run time (a query's text,
 * a cursor's name, a table's, schema's or database's contents read by a
 * statement they build): its names are resolved then, under the session's
 * search path, so that they run whatever the session put there (a temporary
 * view named like the ILS's table) as the role in force.  Counted as code of
 * the ILS's.  Found by the functions of pg_proc.dat that take a query, a
 * cursor or a relation to read: the XML exports and the text-search
 * functions that read a query's rows (ts_stat; ts_rewrite's two-argument
 * form, all of its forms counted).
 */
static const char *const sql_text_builtins[] = {
	"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
	"cursor_to_xml", "cursor_to_xmlschema",
	"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
	"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
	"database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
	"ts_stat", "ts_rewrite",
	NULL
};

static bool
function_outside_catalog(Oid funcid, void *context)
{
	char	   *name;

	if (get_func_namespace(funcid) != PG_CATALOG_NAMESPACE)
		return true;
	name = get_func_name(funcid);
	for (int i = 0; name != NULL && sql_text_builtins[i] != NULL; i++)
		if (strcmp(name, sql_text_builtins[i]) == 0)
			return true;
	return false;
}

typedef struct WalkContext
{
	int			depth;			/* views walked into */
	Oid			view;			/* the view walked: its own *OLD* and *NEW* (before 16) */
} WalkContext;

static bool relation_walk(Oid relid, int depth);

static bool
node_walker(Node *node, void *context)
{
	WalkContext *c = (WalkContext *) context;

	if (node == NULL)
		return false;
	/* a function or operator (and the I/O functions of a cast) of another schema */
	if (check_functions_in_node(node, function_outside_catalog, NULL))
		return true;
	/* a domain's CHECK runs on the way in */
	if (IsA(node, CoerceToDomain))
		return true;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && rte->relid != c->view &&
				(rte->tablesample != NULL || relation_walk(rte->relid, c->depth + 1)))
				return true;
		}
		return query_tree_walker(q, node_walker, context, 0);
	}
	return expression_tree_walker(node, node_walker, context);
}

/* Does reading relid run anything but PostgreSQL's own code? */
static bool
relation_walk(Oid relid, int depth)
{
	Relation	rel;
	bool		ils = false;

	if (depth > MAX_VIEW_DEPTH)
		return true;
	rel = relation_open(relid, AccessShareLock);
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_VIEW:
			{
				Query	   *q = copyObject(get_view_query(rel));
				WalkContext c = {depth, relid};

				ils = node_walker((Node *) q, &c);
				break;
			}
		case RELKIND_FOREIGN_TABLE:
			ils = true;			/* the wrapper's code, the server's */
			break;
		default:
			/*
			 * a table: nothing runs when it is read (the owner, a superuser,
			 * bypasses row-level security, pals_privacy_guard included)
			 */
			break;
	}
	relation_close(rel, AccessShareLock);
	return ils;
}

/* Does an expression (a binding's condition, parsed) involve the ILS's code? */
bool
pals_node_runs_ils_code(Node *node)
{
	WalkContext c = {0, InvalidOid};

	return node_walker(node, &c);
}

/* Does reading the relation (a view: through its query, nested views) involve the ILS's code? */
bool
pals_relation_runs_ils_code(Oid relid)
{
	return relation_walk(relid, 0);
}

/* The error of a refusal; what: what would have run it ("my_data()", "the sever of ...") */
void
pals_refuse_owner_code(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s would run code of the ILS as the extension owner in a session with temporary objects", what),
			 errdetail("A view, a binding condition or a function of the ILS's would find this session's temporary "
					   "objects (named like the ILS's) and run them with the extension owner's rights."),
			 errhint("This session has temporary objects; ILS code bound to the extension is not run as its owner "
					 "in such a session: reconnect without temporary objects.")));
}

/*
 * pals_privacy._owner_code_guard(relation regclass, what text) returns void:
 * refuses (pals_refuse_owner_code) when this session has a temporary schema
 * and reading the relation runs code of the ILS's; for the SQL functions
 * that read bound relations as the owner (_my_data_of, _patrons_owing).
 */
Datum
pals_privacy_owner_code_guard(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0) && pals_relation_runs_ils_code(PG_GETARG_OID(0)) && pals_session_has_temp())
		pals_refuse_owner_code(PG_ARGISNULL(1) ? "this function" : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}
