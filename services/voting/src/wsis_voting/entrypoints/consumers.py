"""What the voting service does with other services' events, and with its own votes."""

from __future__ import annotations

from wsis_shared.events import (
    EditionChanged,
    EditionCreated,
    EditionPhaseChanged,
    NominationDecided,
    VoteCast,
    utcnow,
)
from wsis_shared.messaging import Handlers, Tx
from wsis_voting.adapters.repositories import VotingUnitOfWork
from wsis_voting.service_layer import voting

ballot_handlers = Handlers("voting")
# The tally gathers votes for up to 100 ms: a peak's votes are counted a hundred or more per
# transaction, and a vote shows in the results within a second (bench/vote_storm.py: 200 ms cost
# the same CPU per vote and put the lag p99 at ~1 s, 100 ms at 0.69–0.76 s).
tally_handlers = Handlers("voting.tally", gather_ms=100)


def _uow(tx: Tx) -> VotingUnitOfWork:
    return VotingUnitOfWork(tx.db, tx.session, tx.outbox)


@ballot_handlers.on(EditionCreated)
async def on_edition_created(event: EditionCreated, tx: Tx) -> None:
    await voting.record_edition(_uow(tx), event.payload, event.aggregate_version)


@ballot_handlers.on(EditionChanged)
async def on_edition_changed(event: EditionChanged, tx: Tx) -> None:
    await voting.record_edition(_uow(tx), event.payload, event.aggregate_version)


@ballot_handlers.on(EditionPhaseChanged)
async def on_phase_changed(event: EditionPhaseChanged, tx: Tx) -> None:
    await voting.record_phase(
        _uow(tx),
        event.payload,
        version=event.aggregate_version,
        changed_at=event.occurred_at,
        now=utcnow(),
    )


@ballot_handlers.on(NominationDecided)
async def on_nomination(event: NominationDecided, tx: Tx) -> None:
    await voting.record_nomination(_uow(tx), event.edition, event.payload)


@tally_handlers.on_batch(VoteCast)
async def on_votes_cast(events: list[VoteCast], tx: Tx) -> None:
    await voting.count_votes(_uow(tx), events)
