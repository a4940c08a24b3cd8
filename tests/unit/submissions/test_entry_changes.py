"""A submitted entry can be amended or withdrawn while the submission phase lasts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.submissions.builders import NOW, YEAR, content, draft, edition, submitter, words
from tests.unit.submissions.fakes import FakeRunner, FixedClock, State
from wsis_shared.errors import Conflict, InvalidInput, PhaseClosed
from wsis_shared.events import SubmissionAmended, SubmissionSubmitted, SubmissionWithdrawn
from wsis_shared.vocabulary import Category, Phase
from wsis_submissions.domain.entries import Entry, EntryContent
from wsis_submissions.service_layer.entries import (
    amend_entry,
    create_draft,
    entry_history,
    submit_entry,
    withdraw_entry,
)

LATER = NOW + timedelta(hours=1)


def _submitted() -> Entry:
    entry = draft()
    entry.submit(edition(), now=NOW)
    return entry


# --- amending ------------------------------------------------------------------------------------


def test_amending_a_submitted_entry_announces_the_new_public_view() -> None:
    entry = _submitted()

    event, changed = entry.amend(EntryContent(title="Telemedicine, phase 2"), edition(), now=LATER)

    assert isinstance(event, SubmissionAmended)
    assert changed == {"title": "Telemedicine, phase 2"}
    assert event.payload.title == "Telemedicine, phase 2"
    assert event.aggregate_version == entry.version == 3
    assert event.occurred_at == LATER
    assert entry.status == "submitted"


def test_a_draft_cannot_be_amended() -> None:
    with pytest.raises(Conflict):
        draft().amend(EntryContent(title="Telemedicine, phase 2"), edition(), now=LATER)


def test_amending_outside_the_submission_phase_is_refused() -> None:
    entry = _submitted()

    with pytest.raises(PhaseClosed) as refused:
        entry.amend(EntryContent(title="Too late"), edition(Phase.REVIEW), now=LATER)

    assert "amending" in refused.value.detail
    assert entry.content.title == "Telemedicine for rural clinics"


def test_an_amendment_that_breaks_a_rule_is_refused_and_undone() -> None:
    entry = _submitted()

    version, updated_at = entry.version, entry.updated_at

    with pytest.raises(InvalidInput):
        entry.amend(EntryContent(short_description=words(20)), edition(), now=LATER)

    assert entry.content.short_description == words(170)
    assert (entry.version, entry.updated_at) == (version, updated_at)


def test_a_malformed_sdg_target_is_a_field_error_not_a_crash() -> None:
    entry = draft()
    entry.content = entry.content.model_copy(update={"sdg_targets": ("x.1",)})

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert {e["pointer"] for e in refused.value.extensions["errors"]} == {"/sdg_targets"}


def test_an_amendment_to_a_category_the_edition_does_not_open_is_refused() -> None:
    entry = draft()
    entry.submit(edition(categories=(Category.C7_E_HEALTH,)), now=NOW)

    with pytest.raises(Conflict):
        entry.amend(
            EntryContent(category=Category.C9),
            edition(categories=(Category.C7_E_HEALTH,)),
            now=LATER,
        )

    assert entry.content.category == Category.C7_E_HEALTH


# --- withdrawing ---------------------------------------------------------------------------------


def test_withdrawing_announces_the_withdrawal() -> None:
    entry = _submitted()

    event = entry.withdraw(edition(), reason="merged with another project", now=LATER)

    assert isinstance(event, SubmissionWithdrawn)
    assert event.payload.entry_id == entry.entry_id
    assert event.payload.category == Category.C7_E_HEALTH
    assert event.payload.reason == "merged with another project"
    assert entry.status == "withdrawn"
    assert entry.withdrawn_at == LATER
    assert event.aggregate_version == entry.version == 3


def test_a_draft_cannot_be_withdrawn() -> None:
    with pytest.raises(Conflict):
        draft().withdraw(edition(), reason=None, now=LATER)


def test_withdrawing_outside_the_submission_phase_is_refused() -> None:
    entry = _submitted()

    with pytest.raises(PhaseClosed):
        entry.withdraw(edition(Phase.VOTING), reason=None, now=LATER)

    assert entry.status == "submitted"


def test_a_withdrawn_entry_cannot_be_withdrawn_amended_or_edited() -> None:
    entry = _submitted()
    entry.withdraw(edition(), reason=None, now=LATER)

    with pytest.raises(Conflict):
        entry.withdraw(edition(), reason=None, now=LATER)
    with pytest.raises(Conflict):
        entry.amend(EntryContent(title="Back again"), edition(), now=LATER)
    with pytest.raises(Conflict):
        entry.edit(EntryContent(title="Back again"), now=LATER)


# --- use cases -----------------------------------------------------------------------------------


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner(State(editions={YEAR: edition()}))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def _submitted_through(runner: FakeRunner, clock: FixedClock) -> str:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())
    clock.advance(hours=1)
    return created.entry_id


async def test_amend_entry_publishes_the_amendment(runner: FakeRunner, clock: FixedClock) -> None:
    entry_id = await _submitted_through(runner, clock)

    await amend_entry(
        runner,
        clock,
        entry_id=entry_id,
        changes=EntryContent(website="https://example.org/v2"),
        author=submitter(),
    )

    assert [type(e) for e in runner.events] == [SubmissionSubmitted, SubmissionAmended]
    amended = runner.events[-1]
    assert isinstance(amended, SubmissionAmended)
    assert amended.payload.website == "https://example.org/v2"
    history = await entry_history(runner, entry_id=entry_id, reader=submitter())
    assert history[-1].action == "amended"
    assert history[-1].changes == {"website": "https://example.org/v2"}


async def test_an_amendment_without_changes_publishes_nothing(
    runner: FakeRunner, clock: FixedClock
) -> None:
    entry_id = await _submitted_through(runner, clock)
    same = EntryContent(title=runner.entries[entry_id].content.title)

    await amend_entry(runner, clock, entry_id=entry_id, changes=same, author=submitter())

    assert len(runner.published) == 1


async def test_withdraw_entry_publishes_and_frees_the_category(
    runner: FakeRunner, clock: FixedClock
) -> None:
    entry_id = await _submitted_through(runner, clock)

    withdrawn = await withdraw_entry(
        runner, clock, entry_id=entry_id, reason="resubmitting", author=submitter()
    )

    assert withdrawn.status == "withdrawn"
    assert isinstance(runner.events[-1], SubmissionWithdrawn)
    # the same project may come back in the same category once the first entry is withdrawn
    again = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=again.entry_id, author=submitter())
    assert isinstance(runner.events[-1], SubmissionSubmitted)
