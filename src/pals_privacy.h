/*
 * pals_privacy.h
 *     Declarations shared between the mechanisms of pals_privacy.
 *
 * Layers, from the bottom: each file uses only the files listed above it
 * (tools/layers.sh checks this against the built objects):
 *     compat.c     every difference between the PostgreSQL versions; the safe search_path
 *     crypto.c     SHA-256 and bytea helpers (OpenSSL)
 *     guc.c        every setting (static, read through pals_get_*()); preloaded or not
 *     spi_util.c   SQL as the extension owner (a copy's write run as the caller), saved plans, catalog helpers
 *     owner_code_guard.c  no ILS code run as the owner in a session with temporary objects
 *     snapshot_seen.c  what a snapshot sees of other transactions (answers kept across statements)
 *     registry.c   the binding registry and its per-backend cache; the class names
 *     ils_owner.c  ILS code a superuser's sweep runs runs as the relation's owner (SET ROLE barred)
 *     classes.c    the privacy class of a role
 *     view_owner.c a bound view is read as its owner; its owner and functions checked
 *     conditions.c closed_when / settled_when: loan conditions over the row
 *     direct_write.c  one row written through the executor; heap-header reads
 *     tracker.c    the last-borrower tracker (every access to it)
 *     tracker_rewrite.c  the tracker after a rewrite: stale files never vouch; rebuilt after VACUUM FULL & co.
 *     sever_plan.c per-relation severing state and its generated SQL
 *     placeholder_guard.c  no foreign-key check for a sever to a guarded placeholder
 *     pseudonym.c  pseudonymous statistics recorded at sever time (HMAC-SHA256)
 *     sever.c      severing triggers (patron link cut on return)
 *     tombstone.c  only a close makes a last borrower: a deleted, re-opened or moved one leaves a tombstone
 *     copy_sever_probe.c  copy severing: may a copy hold a key (index probe); IS DISTINCT FROM
 *     copy_sever_cache.c  copy severing: each copy binding and its statements, per backend
 *     copy_sever_batch.c  copy severing: sever_backlog's batches (collect, flush)
 *     copy_sever.c the _sever_copies trigger: a severed row's derived copies (bind_copy)
 *     consent.c    the outbox check against recorded consent
 *     audit.c      the hash-chained audit log (OpenSSL SHA-256)
 *     session.c    the patron session: PINs, login, lockout
 *     last_borrower.c  is a row its item's last borrower? (answers kept while the snapshot allows)
 *     redact_policy.c   redaction: the bindings covering a relation, the rules per class
 *     redact_rewrite.c  redaction: the query-tree rewrite that applies them
 *     redact_copies.c   redaction: a copy follows its source row (a rewritten EXISTS; policy's callback)
 *     redact_runtime.c  redaction: the predicates rewritten queries call
 *     redact_coarse.c   redaction: the truncation a hidden closed time reads (_coarse_time)
 *     redact_hooks.c    redaction: planner, executor, fmgr, emit_log, utility entry points
 *     placeholder_stats.c  planner estimates of a column severed to a placeholder
 *     officer.c    my_data(): a patron's own data
 *     worker.c     the maintenance background worker (purge, retention)
 *     operations.c DROP EXTENSION guard, procedures outside transaction blocks
 *     hooks.c      every PostgreSQL hook, installed once, dispatched to the files above (hooks.h)
 *     pals_privacy.c  _PG_init: each file's init; the preload guard
 * A lower file that must reach a higher one takes a callback (the purpose
 * check classes.c gives guc.c) or a function pointer (hooks.h's `next`).
 */
#ifndef PALS_PRIVACY_H
#define PALS_PRIVACY_H

#include "postgres.h"
#include "compat.h"
#include "access/skey.h"
#include "executor/tuptable.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#define PALS_MAX_CLOSED 8
#define PALS_MAX_MORE_PATRONS 8	/* loan_binding.more_patron_columns */

/* Privacy classes, from least to most restrictive. */
typedef enum PalsClass
{
	PALS_CLASS_OPERATIONAL = 0,
	PALS_CLASS_STAFF,
	PALS_CLASS_COLLECTIONS,
	PALS_CLASS_AUDITOR,
	PALS_CLASS_PATRON,
	PALS_CLASS_STATISTICS		/* reads no row of any bound relation (pseudonym.c) */
} PalsClass;

typedef enum SeverMethod
{
	SEVER_NULL,
	SEVER_PLACEHOLDER,
	SEVER_DELETE
} SeverMethod;

typedef enum HistoryMode
{
	HISTORY_COPY,
	HISTORY_IN_PLACE
} HistoryMode;

typedef struct PatronBinding
{
	Oid			relid;
	char	   *id_column;
	char	   *expires_column;
	char	   *card_column;		/* NULL if unbound */
	char	   *keep_history_column;	/* NULL if unbound */
	char	   *keep_history_when;	/* NULL: the column is the (boolean) opt-in */
	List	   *name_columns;	/* of char *: what collections may see */
	char	   *birth_date_column;	/* NULL if unbound: nobody is a minor */
} PatronBinding;

/* A binding that names a relation, its patron column and maybe one more. */
typedef struct ColumnBinding
{
	Oid			relid;
	char	   *patron_column;
	char	   *column;			/* card, amount or contact column; NULL */
	char	   *channel;		/* contact bindings: email, phone, sms, mail */
} ColumnBinding;

typedef struct LoanBinding
{
	Oid			relid;			/* the bound (topmost) relation */
	char	   *patron_column;
	char	   *item_column;
	int			nclosed;
	char	   *closed_columns[PALS_MAX_CLOSED];
	char	   *settled_column; /* NULL: always settled */
	SeverMethod sever_with;
	char	   *placeholder;	/* patron id text for SEVER_PLACEHOLDER */
	bool		keep_last_borrower;
	HistoryMode history_mode;
	char	   *closed_when;	/* condition text, or NULL: a closed column set */
	char	   *settled_when;	/* condition text, or NULL: settled_column */
	int			nmore;			/* more_patron_columns: cut with patron_column */
	char	   *more_patron_columns[PALS_MAX_MORE_PATRONS];
	List	   *hide_columns;	/* of char *: read only where the patron is (a visit's time) */
	Oid			tracker;		/* its tracker key: the first binding of its last-borrower group
								 * (last_borrower_group), else relid */
	char	   *closed_precision;	/* a closed time on a row whose patron a class
									 * does not read reads truncated to this
									 * (hour, day, week, month, year) ... */
	char	   *closed_zone;	/* ... in this time zone (the binding session's) */
} LoanBinding;

typedef enum OutboxMode
{
	OUTBOX_REJECT,
	OUTBOX_DIVERT,
	OUTBOX_DROP
} OutboxMode;

typedef struct OutboxBinding
{
	Oid			relid;
	char	   *patron_column;
	char	   *channel_column;
	char	   *purpose;
	OutboxMode	mode;
} OutboxBinding;

/*
 * A copy of a loan row's identity, keyed by that row (bind_copy): what
 * severing the source removes from the copy, redaction hides wherever the
 * class reads the source row's patron as hidden.
 */
typedef enum CopyStrategy
{
	COPY_SEVER_NULL,			/* the copy's patron column set to NULL */
	COPY_SEVER_PLACEHOLDER,		/* ... re-pointed to the placeholder */
	COPY_SEVER_UNLINK,			/* the link (key column, its foreign key) set to NULL */
	COPY_SEVER_DELETE,			/* the row deleted */
	COPY_SEVER_KEEP				/* never written: hide_columns read where the source's patron is */
} CopyStrategy;

typedef struct CopyBinding
{
	Oid			relid;			/* the copy */
	Oid			source;			/* a loan binding's relation, or another copy's */
	List	   *key_columns;	/* of char *: in the copy, the source row's key */
	List	   *source_keys;	/* of char *: in the source, a unique key, column for column */
	char	   *patron_column;	/* in the copy, or NULL */
	CopyStrategy sever_with;
	char	   *placeholder;	/* COPY_SEVER_PLACEHOLDER: the placeholder patron's id, else NULL */
	List	   *hide_columns;	/* of char *: hidden with the link (a time equal to the source's) */
	char	   *current_when;	/* condition: the row is the current account (a fine owed), or NULL */
	List	   *more_sources;	/* of Oid: further sources (bind_copy once per source), or NIL */
	List	   *more_source_keys;	/* of List * of char *: the key of each of more_sources */
	char	   *copy_when;		/* condition: the row is a copy (not false), or NULL: every row */
} CopyBinding;

typedef struct RoleClass
{
	Oid			roleid;
	PalsClass	class;
	char	   *purpose;		/* NULL: none */
} RoleClass;

typedef struct PalsRegistry
{
	uint64		generation;		/* differs after every reload */
	Oid			extension_owner;	/* the extension's own SQL runs as this role */
	PatronBinding *patrons;		/* NULL if no patron table is bound */
	List	   *loans;			/* of LoanBinding * */
	List	   *outboxes;		/* of OutboxBinding * */
	List	   *cards;			/* of ColumnBinding * (column: card) */
	List	   *balances;		/* of ColumnBinding * (column: amount) */
	List	   *histories;		/* of ColumnBinding * (private history) */
	List	   *contacts;		/* of ColumnBinding * (column, channel) */
	List	   *guardians;		/* of ColumnBinding * (patron: minor, column: guardian) */
	List	   *copies;			/* of CopyBinding * */
	List	   *accounts;		/* of ColumnBinding * (account records: payments, charges ...) */
	int			nroles;
	RoleClass  *roles;
} PalsRegistry;

/* guc.c: every setting, read through these (the variables are static) */
/* What a guardian's logged-in session reads of a minor's account (pals_privacy.guardian_access). */
enum
{
	GUARDIAN_NONE,
	GUARDIAN_CURRENT,			/* open loans and holds, fines */
	GUARDIAN_ALL
};

extern void pals_guc_init(void);
extern void pals_guc_purpose_check(bool (*allowed) (const char *newval));
extern void pals_reshape_plans(void);
extern bool pals_preloaded(void);
extern PalsClass pals_get_default_class(void);
extern const char *pals_get_purpose(void);
extern double pals_get_collections_threshold(void);
extern bool pals_get_require_acknowledgment(void);
extern int	pals_get_guardian_access(void);
extern int	pals_get_guardian_age_limit(void);
extern int	pals_get_pin_iterations(void);
extern int	pals_get_max_failed_logins(void);
extern int	pals_get_lockout(void);	/* seconds */
extern bool pals_get_placeholder_statistics(void);
extern const char *pals_get_pseudonym_period(void);
extern int	pals_get_maintenance_interval(void);	/* seconds */
extern const char *pals_get_maintenance_databases(void);
extern bool pals_get_sweep_as_owner(void);
extern bool pals_get_rebuild_tracker_after_rewrite(void);

/* registry.c: the per-backend cache of the configuration tables */
extern const PalsRegistry *pals_registry(void);
extern const LoanBinding *pals_loan_binding_for(Oid relid);
extern void pals_registry_init(void);
extern bool pals_extension_ready(void);
extern Oid	pals_extension_namespace(void);
extern const Oid *pals_config_relids(int *n);
extern const char *pals_class_name(PalsClass c);

/* spi_util.c: SQL as the extension owner, saved plans, catalog helpers */
extern int	pals_safe_search_path(void);	/* compat.c, with the three below */
extern void pals_suspend_safe_search_path(void);
extern void pals_resume_safe_search_path(void);
extern void pals_restore_search_path(int nestlevel);
extern void *pals_prepare_saved(const char *sql, int nargs, Oid *argtypes);
extern int	pals_execute_as(Oid role, void *plan, Datum *values, const char *nulls);
extern int	pals_execute_sql_as(Oid role, const char *sql, int nargs, Oid *argtypes, Datum *values);
extern ErrorData *pals_in_subtransaction(void (*work) (void *arg), void *arg);
extern int	pals_execute_write_as_caller(Oid owner, Oid run_as, int run_sec, void *plan, Datum *values,
										 const char *nulls);
struct QueryDesc;
extern bool pals_caller_run_enter(struct QueryDesc *qd, Oid *save_user, int *save_sec);
extern void pals_caller_run_leave(Oid save_user, int save_sec);
extern void pals_inheritance_parents(Oid relid, List **out);
extern void pals_ancestors(Oid relid, List **out);
extern double pals_reltuples(Oid relid);
extern AttrNumber pals_bound_attnum(Oid relid, const char *column);
extern bool pals_index_fetch(Relation rel, Relation index, Snapshot snap, ScanKey keys, int nkeys,
							 TupleTableSlot *slot);
extern bool pals_index_has(Relation rel, Relation index, Snapshot snap, ScanKey keys, int nkeys);

/* ils_owner.c: ILS code a superuser's sweep runs runs as the relation's owner */
extern Oid	pals_ils_role(Oid relid, int *sec);
extern bool pals_ils_run_enter(struct QueryDesc *qd, Oid *save_user, int *save_sec);

/* owner_code_guard.c: no ILS code run as the owner in a session with temporary objects */
extern bool pals_session_has_temp(void);
extern bool pals_node_runs_ils_code(Node *node);
extern bool pals_relation_runs_ils_code(Oid relid);
extern void pals_refuse_owner_code(const char *what);

/* snapshot_seen.c */
typedef struct PalsSeen
{
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;			/* the snapshot's in-progress transactions ... */
	TransactionId *xip;
	int32		subxcnt;		/* ... and subtransactions (0 unless the snapshot keeps them) */
	TransactionId *subxip;
	bool		suboverflowed;
	bool		recovery;		/* taken during recovery (a standby) */
} PalsSeen;
extern void pals_seen_keep(PalsSeen *seen, Snapshot snap, MemoryContext cxt);
extern bool pals_seen_same(const PalsSeen *seen, Snapshot snap);
extern Var *pals_bound_var(Oid relid, const char *column, Index varno, Index levelsup);
extern void pals_retire_context(MemoryContext cxt);

/* crypto.c */
#define PALS_SHA256_LEN 32
extern void pals_sha256(const unsigned char *prefix, int prefixlen, const char *text, unsigned char *out);
extern bytea *pals_bytea(const unsigned char *data, int len);

/* classes.c */
extern PalsClass pals_class_of_role(Oid roleid);
extern PalsClass pals_current_class(void);
extern const char *pals_effective_purpose(const char *setting);
extern void pals_classes_init(void);

/* view_owner.c: a bound view is read as its owner */
extern Oid	pals_bound_read_role(Oid relid, Oid role, const char *what, int *sec);

/* conditions.c */
extern Expr *pals_loan_condition(const LoanBinding *b, bool closed, Oid relid, Index varno);
extern Expr *pals_row_condition(const char *condition, const char *what, Oid relid, Index varno);
extern char *pals_loan_condition_sql(const LoanBinding *b, bool closed, Oid relid, const char *alias);
extern List *pals_loan_current_quals(const LoanBinding *b, Oid relid, Index varno);
extern char *pals_patron_optin_sql(const PatronBinding *p, const char *alias);

/* sever.c */
extern void pals_sever_init(void);

/* audit.c */
extern int64 pals_audit_durable(const char *event, const char *details_json);

/* consent.c */
extern const OutboxBinding *pals_outbox_binding_for(Oid relid);

/* session.c */
extern const char *pals_session_patron(void);

/* redact_policy.c, redact_hooks.c (the redaction's files share redact_internal.h) */
extern void pals_redact_init(void);
extern bool pals_redaction_in_force(void);
extern bool pals_statistics_of_bound(Oid relid);
extern bool pals_masked_column(Node *node, Index *varno, AttrNumber *attno);

/* officer.c, pseudonym.c: the privacy officer's view (issue 19) */
extern void pals_stats_init(void);
extern void pals_stats_record(const LoanBinding *b, Oid patron_type, Datum patron, const char *item,
							  Oid closed_type, Datum closed_value, bool closed_null);

/* worker.c */
extern void pals_worker_init(void);

#endif							/* PALS_PRIVACY_H */
