"""A submitted entry in the review, and the chair's nomination decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.review.fakes import FakeRunner, ReviewState
from wsis_review.domain.candidates import Candidate
from wsis_review.domain.editions import EditionReview
from wsis_review.service_layer.candidates import (
    decide_eligibility,
    decide_nomination,
    list_candidates,
    receive_entry,
    record_phase,
    record_schedule,
    withdraw_entry,
)
from wsis_review.service_layer.unit_of_work import UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import Conflict, NotFound, PhaseClosed
from wsis_shared.events import (
    EditionSchedule,
    EntryPublic,
    NominationDecided,
    NomineeCard,
    Withdrawal,
    decode,
    encode,
)
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, Role, StakeholderType

YEAR = 2027
RECEIVED = datetime(2027, 3, 1, tzinfo=UTC)
NOW = RECEIVED + timedelta(days=20)
CHAIR = Principal(subject="carla", roles=frozenset({Role.CHAIR}))


def _entry(entry_id: str = "entry-1", title: str = "Telemedicine for rural clinics") -> EntryPublic:
    return EntryPublic(
        entry_id=entry_id,
        category=Category.C7_E_HEALTH,
        title=title,
        short_description="A network of rural clinics connected to district hospitals.",
        organisation_id="org-1",
        organisation_name="Ministry of Health",
        country="EG",
        region=Region.ARAB_STATES,
        stakeholder_type=StakeholderType.GOVERNMENT,
        action_lines=(ActionLine.C7,),
        sdgs=(3,),
    )


def _candidate(status: str = "eligible") -> Candidate:
    return Candidate.model_validate(
        {"entry": _entry(), "edition": YEAR, "status": status, "received_at": RECEIVED}
    )


def _review(phase: Phase = Phase.REVIEW) -> EditionReview:
    return EditionReview(year=YEAR, phase=phase)


# --- the domain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [phase for phase in Phase if phase != Phase.REVIEW])
def test_deciding_outside_the_review_phase_is_refused(phase: Phase) -> None:
    candidate = _candidate()

    with pytest.raises(PhaseClosed) as refused:
        candidate.decide(nominated=True, reason=None, by="carla", edition=_review(phase), now=NOW)

    assert refused.value.status == 409
    assert refused.value.extensions["current_phase"] == phase
    assert refused.value.extensions["required_phase"] == Phase.REVIEW
    assert f"in the {phase} phase" in refused.value.detail
    assert candidate.status == "eligible"
    assert candidate.version == 1


def test_deciding_on_a_withdrawn_entry_is_a_conflict() -> None:
    candidate = _candidate("withdrawn")

    with pytest.raises(Conflict) as refused:
        candidate.decide(nominated=True, reason=None, by="carla", edition=_review(), now=NOW)

    assert not isinstance(refused.value, PhaseClosed)
    assert "withdrawn" in refused.value.detail
    assert candidate.status == "withdrawn"


def test_a_nomination_carries_the_nominee_card() -> None:
    candidate = _candidate()

    event = candidate.decide(nominated=True, reason=None, by="carla", edition=_review(), now=NOW)

    assert isinstance(event, NominationDecided)
    assert event.aggregate_id == "entry-1"
    assert event.edition == YEAR
    assert event.occurred_at == NOW
    assert event.payload.nominated is True
    assert event.payload.reason is None
    entry = _entry()
    assert event.payload.nominee == NomineeCard(
        entry_id=entry.entry_id,
        category=entry.category,
        title=entry.title,
        short_description=entry.short_description,
        organisation_name=entry.organisation_name,
        country=entry.country,
        region=entry.region,
        stakeholder_type=entry.stakeholder_type,
    )


def test_the_nominee_card_shows_no_internal_fields() -> None:
    event = _candidate().decide(nominated=True, reason=None, by="carla", edition=_review(), now=NOW)

    card = event.payload.nominee.model_dump()
    assert "organisation_id" not in card
    assert "carla" not in encode(event).decode(), "who decided stays in the review"


def test_deciding_records_the_decision_and_bumps_the_version() -> None:
    candidate = _candidate()

    event = candidate.decide(
        nominated=False, reason="not eligible: ongoing", by="carla", edition=_review(), now=NOW
    )

    assert candidate.status == "not_nominated"
    assert candidate.version == 2
    assert event.aggregate_version == 2
    assert (candidate.decided_at, candidate.decided_by) == (NOW, "carla")
    assert candidate.decision_reason == "not eligible: ongoing"
    assert event.payload.nominated is False
    assert event.payload.reason == "not eligible: ongoing"


def test_the_chair_may_change_a_decision_during_the_review() -> None:
    candidate = _candidate()
    candidate.decide(nominated=False, reason=None, by="carla", edition=_review(), now=NOW)

    event = candidate.decide(
        nominated=True, reason=None, by="carla", edition=_review(), now=NOW + timedelta(hours=1)
    )

    assert candidate.status == "nominated"
    assert event.aggregate_version == 3


def test_the_decision_survives_the_wire() -> None:
    event = _candidate().decide(nominated=True, reason=None, by="carla", edition=_review(), now=NOW)

    assert decode("wsis.review.v1", encode(event)) == event


# --- use cases -----------------------------------------------------------------------------------


async def _receive(runner: FakeRunner, entry: EntryPublic) -> None:
    async def work(uow: UnitOfWork) -> None:
        await receive_entry(uow, entry, YEAR, RECEIVED)

    await runner.run(work)


async def _eligible(runner: FakeRunner, entry_id: str = "entry-1") -> None:
    await decide_eligibility(
        runner, entry_id=entry_id, eligible=True, reason=None, note=None, by=CHAIR, now=NOW
    )
    runner.published.clear()


async def test_decide_nomination_saves_and_publishes() -> None:
    runner = FakeRunner(ReviewState(editions={YEAR: _review()}))
    await _receive(runner, _entry())
    await _eligible(runner)

    candidate = await decide_nomination(
        runner, entry_id="entry-1", nominated=True, reason=None, chair=CHAIR, now=NOW
    )

    assert candidate.status == "nominated"
    assert runner.state.candidates["entry-1"].status == "nominated"
    [(event, key)] = runner.published
    assert isinstance(event, NominationDecided)
    assert event.payload.nominee.entry_id == "entry-1"
    assert key in (None, "entry-1"), "keyed by the entry id (the default)"


async def test_decide_nomination_before_the_review_publishes_nothing() -> None:
    runner = FakeRunner()  # the edition's phase was never heard of: planned
    await _receive(runner, _entry())

    with pytest.raises(PhaseClosed):
        await decide_nomination(
            runner, entry_id="entry-1", nominated=True, reason=None, chair=CHAIR, now=NOW
        )

    assert runner.published == []
    assert runner.state.candidates["entry-1"].status == "received"


async def test_decide_nomination_of_an_unknown_entry_is_not_found() -> None:
    with pytest.raises(NotFound):
        await decide_nomination(
            FakeRunner(ReviewState(editions={YEAR: _review()})),
            entry_id="nope",
            nominated=True,
            reason=None,
            chair=CHAIR,
            now=NOW,
        )


async def test_an_amendment_keeps_the_decision_and_a_withdrawal_blocks_the_next() -> None:
    runner = FakeRunner(ReviewState(editions={YEAR: _review()}))
    await _receive(runner, _entry())
    await _eligible(runner)
    await decide_nomination(
        runner, entry_id="entry-1", nominated=True, reason=None, chair=CHAIR, now=NOW
    )

    await _receive(runner, _entry(title="Telemedicine for rural clinics, phase 2"))
    assert runner.state.candidates["entry-1"].status == "nominated"
    assert runner.state.candidates["entry-1"].entry.title.endswith("phase 2")

    async def withdraw(uow: UnitOfWork) -> None:
        await withdraw_entry(
            uow, Withdrawal(entry_id="entry-1", category=Category.C7_E_HEALTH, reason=None), NOW
        )

    await runner.run(withdraw)
    with pytest.raises(Conflict):
        await decide_nomination(
            runner, entry_id="entry-1", nominated=False, reason=None, chair=CHAIR, now=NOW
        )
    assert len(runner.published) == 1


SCHEDULE = EditionSchedule(
    submission_opens=RECEIVED - timedelta(days=30),
    submission_closes=RECEIVED + timedelta(days=1),
    review_closes=NOW + timedelta(days=10),
    voting_opens=NOW + timedelta(days=11),
    voting_closes=NOW + timedelta(days=40),
    results_at=NOW + timedelta(days=50),
)


async def test_an_edition_event_older_than_the_one_applied_changes_nothing() -> None:
    """A move to submission dead-lettered, then replayed after the review began, must not
    close the review again; nor an older schedule move back the review's close."""
    runner = FakeRunner()
    later_close = SCHEDULE.review_closes + timedelta(days=5)

    async def apply(uow: UnitOfWork) -> None:
        await record_phase(uow, YEAR, Phase.REVIEW, SCHEDULE, version=3)
        await record_schedule(
            uow, YEAR, SCHEDULE.model_copy(update={"review_closes": later_close}), version=4
        )
        await record_phase(uow, YEAR, Phase.SUBMISSION, SCHEDULE, version=2)
        await record_schedule(uow, YEAR, SCHEDULE, version=4)

    await runner.run(apply)

    edition = runner.state.editions[YEAR]
    assert (edition.phase, edition.review_closes, edition.version) == (
        Phase.REVIEW,
        later_close,
        4,
    )


async def test_a_review_closed_early_says_when_it_closed_not_when_it_was_due() -> None:
    runner = FakeRunner()
    closed_early_at = SCHEDULE.review_closes - timedelta(days=4)

    async def apply(uow: UnitOfWork) -> None:
        await record_phase(uow, YEAR, Phase.REVIEW, SCHEDULE, version=3)
        await record_phase(uow, YEAR, Phase.VOTING, SCHEDULE, version=4, changed_at=closed_early_at)

    await runner.run(apply)

    with pytest.raises(PhaseClosed) as refused:
        runner.state.editions[YEAR].require_review("deciding eligibility")
    assert f"the review closed on {closed_early_at:%Y-%m-%d %H:%M} UTC" in refused.value.detail


async def test_record_phase_opens_the_review() -> None:
    runner = FakeRunner()
    await _receive(runner, _entry())

    async def review_starts(uow: UnitOfWork) -> None:
        await record_phase(uow, YEAR, Phase.REVIEW, SCHEDULE, version=3)

    await runner.run(review_starts)
    await _eligible(runner)
    await decide_nomination(
        runner, entry_id="entry-1", nominated=True, reason=None, chair=CHAIR, now=NOW
    )

    assert [c.status for c in await list_candidates(runner, edition=YEAR)] == ["nominated"]
