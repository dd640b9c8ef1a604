/*
 * redact_internal.h
 *     What the files of the redaction mechanism share (and nothing more):
 *     other files reach it through pals_privacy.h.
 *
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
 *
 *     The mechanism's files, each using only those above it:
 *       redact_policy.c   which bindings cover a relation, and the rules (masks,
 *                         row filters) each class reads it under: the class
 *                         table of docs/redaction.md, built once per registry
 *                         generation
 *       redact_rewrite.c  the query-tree rewrite that applies the rules
 *       redact_runtime.c  the functions rewritten queries call (consent, amounts
 *                         owed, wards, statistics), with their per-statement cache
 *       redact_hooks.c    the planner, executor, fmgr, emit_log and utility
 *                         hooks (installed by hooks.c)
 */
#ifndef REDACT_INTERNAL_H
#define REDACT_INTERNAL_H

#include "pals_privacy.h"

#include "nodes/parsenodes.h"
#include "utils/hsearch.h"
#include "utils/rel.h"

/* What the current user reads under (see redaction_applies, redact_hooks.c). */
typedef struct Redaction
{
	PalsClass	class;
	const char *purpose;		/* NULL: none */
} Redaction;

/* ----------------------------------------------------------------------
 * redact_policy.c
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
	const CopyBinding *copy;	/* a copy of a loan row's identity */
	const ColumnBinding *account;	/* account records */
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
	Oid			fn_coarse_time[3];	/* _coarse_time of timestamptz, time, timetz (or
									 * InvalidOid: an older script, see mask_coarse) */
	List	   *templates;		/* of RuleTemplate *: rules built once */
} Derived;

/* Marks the CASE of a conditional mask (parser locations are >= -1). */
#define PALS_MASK_LOCATION (-1729)

/*
 * Marks the calls of a copy rule's memo (redact_copies.c): only calls the
 * rewrite made read or fill it, never one a query names (parser locations
 * are >= -1; a plan read back from text, as in a parallel worker, has -1).
 */
#define PALS_MEMO_LOCATION (-1730)

/* What one relation reference becomes: masks by attribute, row filters. */
typedef struct RteRules
{
	Oid			relid;
	int			rti;
	int			natts;
	Expr	  **masks;			/* [0..natts]: NULL = as stored */
	bool	   *hidden;			/* [0..natts]: always NULL */
	List	  **shows;			/* [0..natts]: shown only where all hold */
	int		   *nrules;			/* [0..natts]: masking rules on the column */
	int		   *ndated;			/* [0..natts]: of them, closed times (mask_dated) */
	int		   *nsevered;		/* [0..natts]: of them, read as severing writes (mask_severed) */
	int		   *ncoarse;		/* [0..natts]: of them, closed times read coarsened (mask_coarse) */
	Expr	  **coarse;			/* [0..natts]: what such a time reads where hidden (NULL
								 * exactly where the column is: the rewrite's null test
								 * relies on it, null_test_kept) */
	Expr	  **severed;		/* [0..natts]: what severing writes there (a Const) */
	Expr	  **writes;			/* [0..natts]: where masked, a write also needs this (write_needs) */
	List	   *filters;		/* implicitly ANDed */
	List	   *read_filters;	/* also ANDed, for reads only: never a WITH CHECK */
} RteRules;

extern const Derived *redact_derived(void);
extern void redact_relcache_callback(Datum arg, Oid relid);
extern const RelPolicy *redact_policy_for(Oid relid);
extern bool redact_bound_below(Oid relid);
extern int	redact_relation_natts(Oid relid);
extern bool redact_is_sql_function(Oid fn);
extern bool redact_is_counter(Oid fn);
extern bool redact_is_io_counter(Oid fn);
extern bool redact_only_our_row_security(Relation rel);
extern Expr *redact_call(Oid fn, List *args);
extern RteRules *redact_rules_for(Oid relid, int rti, const RelPolicy *p, const Redaction *red);
extern bool redact_mask_keeps_nulls(const RteRules *r, AttrNumber a);

/*
 * Does the class read the source row's patron of this copy row?  Built by
 * redact_copies.c, which rewrites a query for it (redact_rewrite.c, above
 * this file): so the policy reaches it through this pointer, set at load
 * (redact_copies_init).  Unset, every copy reads as of a hidden source.
 */
typedef Expr *(*redact_copy_visible_type) (const CopyBinding *c, Oid relid, Index rti, const Redaction *red);
extern redact_copy_visible_type redact_copy_visible;
extern List *redact_copy_rule_relids(Query *parse);

/* ----------------------------------------------------------------------
 * redact_copies.c
 * ---------------------------------------------------------------------- */
/*
 * How redact_copies.c plans a copy's kept rule, a query already rewritten
 * for the class: redact_hooks.c (above it) hands it over at load.
 */
typedef PlannedStmt *(*redact_plan_rewritten_type) (Query *parse, const char *query_string);
extern void redact_copies_init(redact_plan_rewritten_type plan_rewritten);

/* ----------------------------------------------------------------------
 * redact_rewrite.c
 * ---------------------------------------------------------------------- */
extern void redact_level(Query *q, const Redaction *red);
extern ParamListInfo redact_set_bound_params(ParamListInfo params);
extern bool redact_calls_counter_walker(Node *node, void *context);
extern Node *redact_counters_mutator(Node *node, void *context);
extern bool redact_reads_statistics_walker(Node *node, void *context);
extern Node *redact_row_security_mutator(Node *node, void *context);

#endif							/* REDACT_INTERNAL_H */
