"""What the submissions service takes from other services: the review's eligibility decisions,
which teams see on their entries, and winners, who may not enter again."""

from __future__ import annotations

from wsis_shared.events import EligibilityDecided, WinnerSelected
from wsis_shared.messaging import Handlers, Tx
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork
from wsis_submissions.domain.entries import Eligibility
from wsis_submissions.service_layer.entries import record_eligibility, record_winner

handlers = Handlers("submissions")


@handlers.on(WinnerSelected)
async def on_winner_selected(event: WinnerSelected, tx: Tx) -> None:
    await record_winner(
        SubmissionsUnitOfWork(tx.db, tx.session, tx.outbox),
        entry_id=event.payload.winner_entry_id,
        edition=event.edition,
    )


@handlers.on(EligibilityDecided)
async def on_eligibility_decided(event: EligibilityDecided, tx: Tx) -> None:
    decision = event.payload
    await record_eligibility(
        SubmissionsUnitOfWork(tx.db, tx.session, tx.outbox),
        entry_id=decision.entry_id,
        eligibility=Eligibility(
            eligible=decision.eligible,
            reason=decision.reason,
            note=decision.note,
            decided_at=event.occurred_at,
        ),
    )
