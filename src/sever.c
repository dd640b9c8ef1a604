/*
 * sever.c
 *     Severing: when a loan-like row closes, cut the patron from the item's
 *     earlier closed rows so that only the last borrower stays identified.
 */
#include "pals_privacy.h"

void
pals_sever_init(void)
{
}
