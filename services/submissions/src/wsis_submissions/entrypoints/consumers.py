"""What the submissions service takes from other services: winners, who may not enter again."""

from __future__ import annotations

from wsis_shared.events import WinnerSelected
from wsis_shared.messaging import Handlers, Tx
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork
from wsis_submissions.service_layer.entries import record_winner

handlers = Handlers("submissions")


@handlers.on(WinnerSelected)
async def on_winner_selected(event: WinnerSelected, tx: Tx) -> None:
    await record_winner(
        SubmissionsUnitOfWork(tx.db, tx.session, tx.outbox),
        entry_id=event.payload.winner_entry_id,
        edition=event.edition,
    )
