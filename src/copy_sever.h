/*
 * copy_sever.h
 *     What the files of copy severing (bind_copy, docs/binding.md) share,
 *     and nothing more: the per-backend cache entry of a copy binding and
 *     the functions each file gives the ones above it.  Other files reach
 *     copy severing only through SQL (the _sever_copies trigger,
 *     _copy_sever_collect/_copy_sever_flush, _written_here).
 *
 *     The mechanism's files, each using only those above it:
 *       copy_sever_probe.c  the comparisons made without SQL: may a copy hold
 *                           rows for a key (an index probe), did an update
 *                           change a key or the patron (IS DISTINCT FROM)
 *       copy_sever_cache.c  each copy binding read once per backend, its
 *                           statements prepared, kept until an invalidation
 *       copy_sever_batch.c  sever_backlog's batches: keys collected, then one
 *                           statement per copy binding
 *       copy_sever.c        the row trigger _sever_copies itself
 */
#ifndef PALS_COPY_SEVER_H
#define PALS_COPY_SEVER_H

#include "pals_privacy.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "utils/relcache.h"

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
	bool		source_bound;	/* the source has a column to watch (a loan binding's patron;
								 * a copy's patron or link: _copy_source_watch) */
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

/* copy_sever_probe.c */
extern Oid	copy_distinct_eq(Oid type);
extern bool copy_column_distinct(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber attno, Oid eq, Oid coll);
extern void copy_find_probe(CopySever *e, const char *first_key);
extern bool copy_may_hold(const CopySever *cs, const char *first_key);

/* copy_sever_cache.c */
extern int	copy_firing;		/* firings (and flushes) under way: plans retired meanwhile wait */
extern CopySever *copy_sever_for(Oid copy, Oid via, Relation rel);
extern CopySever *copy_sever_cached(const CopyKey *key);
extern void copy_retire_plan(SPIPlanPtr plan);
extern void copy_free_retired_plans(void);

/* copy_sever_batch.c */
extern bool copy_batch_collecting(void);
extern void copy_batch_add(CopyKey *key, int nkeys, char **values);

#endif							/* PALS_COPY_SEVER_H */
