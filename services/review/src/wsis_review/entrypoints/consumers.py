"""What the review service does with other services' events."""

from __future__ import annotations

from wsis_review.adapters.repositories import ReviewUnitOfWork
from wsis_review.service_layer import candidates, winners
from wsis_shared.events import (
    ChampionsAnnounced,
    EditionChanged,
    EditionCreated,
    EditionPhaseChanged,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
)
from wsis_shared.messaging import Handlers, Tx
from wsis_shared.vocabulary import Phase

handlers = Handlers("review")


def _uow(tx: Tx) -> ReviewUnitOfWork:
    return ReviewUnitOfWork(tx.db, tx.session, tx.outbox)


@handlers.on(EditionCreated)
async def on_edition_created(event: EditionCreated, tx: Tx) -> None:
    await candidates.record_phase(
        _uow(tx),
        event.edition,
        Phase.PLANNED,
        event.payload.schedule,
        version=event.aggregate_version,
    )


@handlers.on(EditionChanged)
async def on_edition_changed(event: EditionChanged, tx: Tx) -> None:
    await candidates.record_schedule(
        _uow(tx), event.edition, event.payload.schedule, version=event.aggregate_version
    )


@handlers.on(EditionPhaseChanged)
async def on_phase_changed(event: EditionPhaseChanged, tx: Tx) -> None:
    await candidates.record_phase(
        _uow(tx),
        event.edition,
        event.payload.phase,
        event.payload.schedule,
        version=event.aggregate_version,
        changed_at=event.occurred_at,
    )


@handlers.on(SubmissionSubmitted)
async def on_submitted(event: SubmissionSubmitted, tx: Tx) -> None:
    await candidates.receive_entry(_uow(tx), event.payload, event.edition, event.occurred_at)


@handlers.on(SubmissionAmended)
async def on_amended(event: SubmissionAmended, tx: Tx) -> None:
    await candidates.receive_entry(_uow(tx), event.payload, event.edition, event.occurred_at)


@handlers.on(SubmissionWithdrawn)
async def on_withdrawn(event: SubmissionWithdrawn, tx: Tx) -> None:
    await candidates.withdraw_entry(_uow(tx), event.payload, event.occurred_at)


@handlers.on(ChampionsAnnounced)
async def on_champions_announced(event: ChampionsAnnounced, tx: Tx) -> None:
    await winners.record_finalists(_uow(tx), event.edition, event.payload, event.occurred_at)
