/*
 * tombstone.c
 *     Only a close makes a last borrower.  When an item's last-borrower row
 *     stops being one without a close (the row is deleted, re-opened, moved
 *     to another item, or loses its patron), its tracker entry becomes a
 *     tombstone (tracker.c, pals_tracker_bury): pointing nowhere, pinned.
 *     The item then has no last borrower until its next close (sever.c's
 *     on_change makes that row the last borrower, whatever its date); a
 *     rebuild of the tracker by the dates (rebuild_tracker, sever_backlog,
 *     _restore_tracker: _tracker_pinned_sql) and the item's search by dates
 *     (an ILS write of an older closed row) keep the tombstone.
 *
 *     Why: staff read an item's last borrower whole and a desk may delete
 *     or re-open that row.  Chosen again by the dates, the item's latest
 *     remaining closed row would become its last borrower: an opted-in
 *     patron's loan kept in place, or a row the backlog has not severed
 *     yet, both hidden from staff until then (attack10, HOLE 4 and 4b).
 *
 *     The row trigger pals_privacy_tombstone (AFTER UPDATE OR DELETE;
 *     _install_loan_triggers) runs this for every role, the ILS's too: its
 *     own deletes (aging) would expose a kept row the same way.
 *
 *     Cost.  The trigger has no WHEN clause: PostgreSQL compiled it again
 *     for every statement on the table and every sever's write (the clause
 *     named the binding's closed and patron columns).  The function tests
 *     the old row itself instead, from the relation's severing state cached
 *     per backend (sever_plan.c), before any set-up: a row that was open,
 *     anonymous, or that stays the same closed loan returns at once.  The
 *     extension's own severs leave the trigger out of their write (the row
 *     a sever cuts is never the one the item's entry names: a return moves
 *     the entry to the new close first, the backlog, the maintenance retry
 *     and a withdrawn opt-in pass over last borrowers): sever.c's direct
 *     writes, and the backlog's statement of one batch, armed by
 *     _backlog_copies_in_statement() (placeholder_guard.c), which only an
 *     administrator may call.  Nothing a session sets from SQL skips it: the
 *     trigger is left out of that one write's executor state, and a
 *     statement an ILS trigger runs inside it fires it as any other.
 */
#include "pals_privacy.h"
#include "sever_plan.h"
#include "tracker.h"
#include "direct_write.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/datum.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(pals_privacy_tombstone_row);

/*
 * Is the new version of an updated row still its item's possible last
 * borrower (closed, identified, the same item)?  Then the severing trigger
 * (pals_privacy_sever, fired before this one) has moved the entry with it.
 */
static bool
still_the_same_loan(RelSever *rs, HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	bool		old_null;
	bool		new_null;
	Datum		old_item;
	Datum		new_item;
	Form_pg_attribute att;

	if (!pals_tuple_closed(rs, newtup, desc) || !pals_tuple_identified(rs, newtup, desc))
		return false;
	old_item = heap_getattr(oldtup, rs->item_attno, desc, &old_null);
	new_item = heap_getattr(newtup, rs->item_attno, desc, &new_null);
	if (old_null || new_null)
		return old_null && new_null;
	att = TupleDescAttr(desc, rs->item_attno - 1);
	return datumIsEqual(old_item, new_item, att->attbyval, att->attlen);
}

/*
 * Could the old row have been its item's last borrower: the binding keeps
 * one, a closed column dates the row (closed_when, if any, is evaluated
 * later, with the set-up: it may call functions) and a patron column names
 * a patron?  A test of the row alone, no set-up.
 */
static bool
maybe_last_borrower(RelSever *rs, HeapTuple oldtup, TupleDesc desc)
{
	bool		dated = false;

	if (!rs->binding->keep_last_borrower)
		return false;
	for (int i = 0; i < rs->binding->nclosed && !dated; i++)
		dated = !heap_attisnull(oldtup, rs->closed_attnos[i], desc);
	return dated && pals_tuple_identified(rs, oldtup, desc);
}

/*
 * Row trigger (AFTER UPDATE OR DELETE, no WHEN clause: the old row is
 * tested here, maybe_last_borrower).
 */
Datum
pals_privacy_tombstone_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	oldtup;
	Oid			relid;
	int			nestlevel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy_tombstone_row: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "pals_privacy_tombstone_row: must be fired AFTER UPDATE OR DELETE FOR EACH ROW");

	relid = RelationGetRelid(td->tg_relation);
	desc = RelationGetDescr(td->tg_relation);
	oldtup = td->tg_trigtuple;

	/*
	 * Most rows never were a last borrower (open, anonymous) or stay the
	 * same closed loan: leave before any set-up where the relation's state
	 * is built already (else it is built below, and the same tests run).
	 */
	{
		RelSever   *known = pals_rel_sever_known(relid);

		if (known != NULL &&
			(!maybe_last_borrower(known, oldtup, desc) ||
			 (known->closed_state == NULL && TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
			  still_the_same_loan(known, oldtup, td->tg_newtuple, desc))))
			return PointerGetDatum(NULL);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	{
		RelSever   *rs = pals_rel_sever(relid);
		bool		isnull;
		Datum		item;

		if (rs != NULL && maybe_last_borrower(rs, oldtup, desc) && pals_tuple_closed(rs, oldtup, desc) &&
			!(TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
			  still_the_same_loan(rs, oldtup, td->tg_newtuple, desc)))
		{
			item = heap_getattr(oldtup, rs->item_attno, desc, &isnull);
			if (!isnull)
			{
				char	   *item_text = OutputFunctionCall(&rs->item_out, item);
				Snapshot	snap = pals_statement_snapshot();
				bool		named;

				/*
				 * the entry names the old row only if it was the last
				 * borrower: one probe, as the swap reads the entry (a
				 * sever's own write does not come here: see the top of the
				 * file); then written only if it still names it (a return
				 * of the item committed since is its last borrower)
				 */
				named = pals_tracker_names(rs->binding->tracker, cstring_to_text(item_text),
										   relid, &oldtup->t_self, snap);
				UnregisterSnapshot(snap);
				if (named)
					(void) pals_tracker_bury(rs->binding, item_text, relid, &oldtup->t_self);
			}
		}
	}
	pals_restore_search_path(nestlevel);
	SPI_finish();
	return PointerGetDatum(NULL);
}
