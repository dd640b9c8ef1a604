/*
 * sever_plan.h
 *     The severing state of a relation that holds loan rows (sever_plan.c),
 *     as the severing algorithm (sever.c) reads it.
 */
#ifndef PALS_SEVER_PLAN_H
#define PALS_SEVER_PLAN_H

#include "access/htup.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"

/* Per relation that holds rows (the bound table, a partition or a child). */
typedef struct RelSever
{
	Oid			relid;			/* hash key */
	const LoanBinding *binding;
	AttrNumber	patron_attno;
	int			ncut;			/* the patron column and more_patron_columns: */
	AttrNumber	cut_attnos[1 + PALS_MAX_MORE_PATRONS];	/* what a sever cuts */
	Datum		cut_values[1 + PALS_MAX_MORE_PATRONS];	/* to NULL or the placeholder */
	bool		cut_nulls[1 + PALS_MAX_MORE_PATRONS];
	AttrNumber	item_attno;
	AttrNumber	settled_attno;	/* InvalidAttrNumber: always settled */
	AttrNumber	closed_attnos[PALS_MAX_CLOSED];
	Oid			patron_type;
	Oid			item_type;
	FmgrInfo	item_out;
	FmgrInfo	patron_out;
	bool		patron_byval;
	int16		patron_len;
	Oid			closed_type;	/* type of the closed columns */
	bool		closed_byval;
	int16		closed_len;
	FmgrInfo	closed_cmp;		/* its btree comparison */
	Oid			closed_collation;
	SPIPlanPtr	probe;
	SPIPlanPtr	lock;
	Datum		placeholder;	/* the placeholder patron (SEVER_PLACEHOLDER) */
	Oid			patron_index;	/* unique index on the patron table's id, or 0 */
	RegProcedure patron_eq;		/* its equality function */
	AttrNumber	keep_history_attno; /* of the patron table */
	SPIPlanPtr	copy;
	SPIPlanPtr	search;			/* only on the bound relation itself */
	SPIPlanPtr	optin;			/* patron's keep-history flag, or NULL */
	ExprState  *closed_state;	/* closed_when, or NULL: a closed column set */
	ExprState  *settled_state;	/* settled_when, or NULL: settled_column */
	ExprContext *econtext;		/* to evaluate them on a tuple */
	char		owner_code;		/* its SQL runs code of the ILS's: 0 not known yet, 'n', 'y' (sever.c) */
	TupleTableSlot *slot;
} RelSever;

extern RelSever *pals_rel_sever(Oid relid);
extern RelSever *pals_rel_sever_known(Oid relid);
extern bool pals_sever_eval_condition(const RelSever *rs, ExprState *state, HeapTuple tup);
extern bool pals_tuple_closed(const RelSever *rs, HeapTuple tup, TupleDesc desc);
extern bool pals_value_identified(const RelSever *rs, Datum v, bool isnull);
extern bool pals_tuple_identified(RelSever *rs, HeapTuple tup, TupleDesc desc);
extern bool pals_slot_identified(RelSever *rs, TupleTableSlot *slot);
extern bool pals_closed_after(RelSever *rs, Datum a, Datum b);

#endif							/* PALS_SEVER_PLAN_H */
