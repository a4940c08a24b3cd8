"""Projections: every topic's events into the public Stocktaking catalogue."""

from __future__ import annotations

from datetime import datetime

from wsis_shared.events import (
    ChampionsAnnounced,
    EditionChanged,
    EditionCreated,
    EditionPhaseChanged,
    EligibilityDecided,
    NominationDecided,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    VoteCast,
    VotesRuledOut,
    WinnerSelected,
)
from wsis_shared.messaging import Handlers, Tx
from wsis_stocktaking.adapters.catalogue import Catalogue

# The catalogue gathers events for up to 300 ms: in a vote storm it takes votes by the hundred
# per transaction instead of a few dozen; a submission shows a moment later, which nobody sees.
handlers = Handlers("stocktaking", gather_ms=300)


def _catalogue(tx: Tx) -> Catalogue:
    return Catalogue(tx.db, tx.session)


@handlers.on(EditionCreated)
async def on_edition_created(event: EditionCreated, tx: Tx) -> None:
    await _catalogue(tx).put_edition(
        event.edition,
        version=event.aggregate_version,
        show_running_counts=event.payload.show_running_counts,
    )


@handlers.on(EditionChanged)
async def on_edition_changed(event: EditionChanged, tx: Tx) -> None:
    await _catalogue(tx).put_edition(
        event.edition,
        version=event.aggregate_version,
        show_running_counts=event.payload.show_running_counts,
    )


@handlers.on(EditionPhaseChanged)
async def on_phase_changed(event: EditionPhaseChanged, tx: Tx) -> None:
    await _catalogue(tx).put_edition(
        event.edition,
        version=event.aggregate_version,
        phase=event.payload.phase,
        show_running_counts=event.payload.show_running_counts,
    )


@handlers.on(SubmissionSubmitted)
async def on_submitted(event: SubmissionSubmitted, tx: Tx) -> None:
    await _catalogue(tx).put_entry(
        event.payload, event.edition, event.aggregate_version, event.occurred_at
    )


@handlers.on(SubmissionAmended)
async def on_amended(event: SubmissionAmended, tx: Tx) -> None:
    await _catalogue(tx).put_entry(
        event.payload, event.edition, event.aggregate_version, event.occurred_at
    )


@handlers.on(SubmissionWithdrawn)
async def on_withdrawn(event: SubmissionWithdrawn, tx: Tx) -> None:
    await _catalogue(tx).set_fact(
        event.payload.entry_id, event.edition, "withdrawn", True, event.occurred_at
    )


@handlers.on(EligibilityDecided)
async def on_eligibility(event: EligibilityDecided, tx: Tx) -> None:
    await _catalogue(tx).set_fact(
        event.payload.entry_id, event.edition, "eligible", event.payload.eligible, event.occurred_at
    )


@handlers.on(NominationDecided)
async def on_nomination(event: NominationDecided, tx: Tx) -> None:
    catalogue = _catalogue(tx)
    await catalogue.set_fact(
        event.aggregate_id, event.edition, "nominated", event.payload.nominated, event.occurred_at
    )
    if event.payload.review_summary is not None:
        await catalogue.put_review_summary(
            event.aggregate_id, event.edition, event.payload.review_summary, event.occurred_at
        )


@handlers.on_batch(VoteCast)
async def on_votes(events: list[VoteCast], tx: Tx) -> None:
    """Votes come in thousands a second at peaks: counted per entry, one bulk write a batch."""
    votes: dict[tuple[str, int], tuple[int, datetime]] = {}
    for event in events:
        key = (event.payload.entry_id, event.edition)
        count, newest = votes.get(key, (0, event.occurred_at))
        votes[key] = (count + 1, max(newest, event.occurred_at))
    await _catalogue(tx).add_votes(votes)


@handlers.on(VotesRuledOut)
async def on_votes_ruled_out(event: VotesRuledOut, tx: Tx) -> None:
    """Taken off the running counts; the `vote.cast` of a ruled-out vote may arrive before or
    after this, the sum is the same."""
    await _catalogue(tx).add_votes(
        {
            (entry_id, event.edition): (-votes, event.occurred_at)
            for entry_id, votes in event.payload.votes_by_entry.items()
        }
    )


@handlers.on(ChampionsAnnounced)
async def on_champions(event: ChampionsAnnounced, tx: Tx) -> None:
    catalogue = _catalogue(tx)
    for finalist in event.payload.finalists:
        await catalogue.set_fact(
            finalist.entry_id, event.edition, "champion", True, event.occurred_at
        )


@handlers.on(WinnerSelected)
async def on_winner(event: WinnerSelected, tx: Tx) -> None:
    await _catalogue(tx).set_fact(
        event.payload.winner_entry_id, event.edition, "winner", True, event.occurred_at
    )
