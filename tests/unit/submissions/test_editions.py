"""An edition and its phases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.unit.submissions.builders import NOW, YEAR, edition, schedule
from tests.unit.submissions.fakes import FakeRunner, FixedClock, State
from wsis_shared.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from wsis_shared.events import (
    EditionChanged,
    EditionCreated,
    EditionPhaseChanged,
    decode,
    encode,
    topic_of,
)
from wsis_shared.vocabulary import Category, Phase
from wsis_submissions.domain.editions import Edition
from wsis_submissions.entrypoints.http.editions import _version_in
from wsis_submissions.service_layer.editions import (
    change_edition,
    change_phase,
    create_edition,
    get_edition,
    list_editions,
)


def test_create_starts_planned_and_announces_the_edition() -> None:
    created, event = Edition.create(
        year=YEAR,
        title="WSIS Prizes 2027",
        schedule=schedule(),
        categories=(Category.C1, Category.C9),
        show_running_counts=True,
        now=NOW,
    )

    assert created.phase == Phase.PLANNED
    assert created.version == 1
    assert isinstance(event, EditionCreated)
    assert event.aggregate_id == str(YEAR)
    assert event.aggregate_version == 1
    assert event.edition == YEAR
    assert event.occurred_at == NOW
    assert event.payload.categories == (Category.C1, Category.C9)
    assert event.payload.schedule == schedule()
    assert event.payload.show_running_counts is True
    assert topic_of(event) == "wsis.editions.v1"


def test_change_phase_emits_the_previous_phase() -> None:
    subject = edition(Phase.PLANNED)

    event = subject.change_phase(Phase.SUBMISSION, by="admin", now=NOW)

    assert isinstance(event, EditionPhaseChanged)
    assert event.payload.phase == Phase.SUBMISSION
    assert event.payload.previous_phase == Phase.PLANNED
    assert event.payload.year == YEAR
    assert event.payload.schedule == subject.schedule
    assert event.aggregate_id == str(YEAR)
    assert event.occurred_at == NOW
    assert subject.phase == Phase.SUBMISSION


def test_each_change_bumps_the_version() -> None:
    subject = edition(Phase.PLANNED)

    first = subject.change_phase(Phase.SUBMISSION, by="schedule", now=NOW)
    second = subject.change_phase(Phase.REVIEW, by="schedule", now=NOW + timedelta(days=60))

    assert (first.aggregate_version, second.aggregate_version) == (2, 3)
    assert subject.version == 3
    assert second.payload.previous_phase == Phase.SUBMISSION


@pytest.mark.parametrize(
    ("by", "changed_by"),
    [("schedule", "schedule"), ("admin", "admin"), ("alice@itu.int", "admin")],
)
def test_who_changed_the_phase(by: str, changed_by: str) -> None:
    event = edition(Phase.PLANNED).change_phase(Phase.SUBMISSION, by=by, now=NOW)

    assert event.payload.changed_by == changed_by


@pytest.mark.parametrize("phase", list(Phase))
def test_changing_to_the_same_phase_is_a_conflict(phase: Phase) -> None:
    subject = edition(phase)

    with pytest.raises(Conflict) as refused:
        subject.change_phase(phase, by="admin", now=NOW)

    assert refused.value.status == 409
    assert str(phase) in refused.value.detail
    assert subject.version == 1


def test_phase_changed_event_survives_the_wire() -> None:
    event = edition(Phase.PLANNED).change_phase(Phase.SUBMISSION, by="admin", now=NOW)

    assert decode("wsis.editions.v1", encode(event)) == event


def test_submission_phase_lets_submissions_in() -> None:
    edition(Phase.SUBMISSION).require_phase_for_submission()


def test_require_category() -> None:
    subject = edition(categories=(Category.C1,))

    subject.require_category(Category.C1)
    with pytest.raises(Conflict):
        subject.require_category(Category.C2)


# --- use cases -----------------------------------------------------------------------------------


async def test_create_edition_stores_it_and_publishes_edition_created() -> None:
    runner = FakeRunner()

    created = await create_edition(
        runner,
        FixedClock(NOW),
        year=YEAR,
        title="WSIS Prizes 2027",
        schedule=schedule(),
        categories=tuple(Category),
        show_running_counts=False,
    )

    assert runner.editions[YEAR] == created
    [(event, _)] = runner.published
    assert isinstance(event, EditionCreated)
    assert event.payload.year == YEAR
    assert await get_edition(runner, year=YEAR) == created


async def test_an_edition_cannot_be_created_twice() -> None:
    runner = FakeRunner(State(editions={YEAR: edition()}))

    with pytest.raises(AlreadyExists):
        await create_edition(
            runner,
            FixedClock(NOW),
            year=YEAR,
            title="Again",
            schedule=schedule(),
            categories=tuple(Category),
            show_running_counts=False,
        )

    assert runner.published == []


async def test_change_phase_saves_and_publishes() -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.SUBMISSION)}))

    changed = await change_phase(
        runner, FixedClock(NOW), year=YEAR, phase=Phase.REVIEW, by="schedule"
    )

    assert changed.phase == Phase.REVIEW
    assert runner.editions[YEAR].phase == Phase.REVIEW
    [(event, _)] = runner.published
    assert isinstance(event, EditionPhaseChanged)
    assert event.payload.previous_phase == Phase.SUBMISSION


async def test_change_to_the_same_phase_publishes_nothing() -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.REVIEW)}))

    with pytest.raises(Conflict):
        await change_phase(runner, FixedClock(NOW), year=YEAR, phase=Phase.REVIEW, by="admin")

    assert runner.published == []
    assert runner.editions[YEAR].version == 1


async def test_change_phase_of_an_unknown_edition_is_not_found() -> None:
    with pytest.raises(NotFound):
        await change_phase(FakeRunner(), FixedClock(NOW), year=YEAR, phase=Phase.REVIEW, by="admin")


async def test_list_editions_newest_first() -> None:
    runner = FakeRunner(State(editions={year: edition(year=year) for year in (2025, 2027, 2026)}))

    assert [e.year for e in await list_editions(runner)] == [2027, 2026, 2025]


def test_an_edition_says_when_the_schedule_moves_it_next() -> None:
    in_submission = edition(Phase.SUBMISSION)
    s = in_submission.schedule
    assert in_submission.next_change(s.submission_opens + timedelta(days=1)) == (
        s.submission_closes,
        Phase.REVIEW,
    )


def test_after_sending_an_edition_back_to_submissions_it_says_voting_comes_next() -> None:
    """Reopened during the review, it goes on to voting at `voting_opens` (an override holds
    until the schedule's next date): the admin sees it coming and can move it to review first."""
    reopened = edition(Phase.REVIEW)
    s = reopened.schedule
    during_review = s.submission_closes + timedelta(days=5)
    reopened.change_phase(Phase.SUBMISSION, by="admin-1", now=during_review)

    assert reopened.next_change(during_review) == (s.voting_opens, Phase.VOTING)
    assert reopened.due_change(s.voting_opens) == Phase.VOTING


# --- an admin's changes ------------------------------------------------------------------------


def test_extending_the_submission_phase_moves_its_close_and_announces_it() -> None:
    open_edition = edition(Phase.SUBMISSION)  # NOW is within submissions
    later = open_edition.schedule.submission_closes + timedelta(days=7)

    event = open_edition.change(dates={"submission_closes": later}, now=NOW)

    assert isinstance(event, EditionChanged)
    assert event.payload.schedule.submission_closes == later
    assert event.payload.changed == ("schedule",)
    assert event.aggregate_version == open_edition.version == 2
    assert open_edition.schedule.submission_closes == later
    assert open_edition.due_change(later - timedelta(seconds=1)) is None
    assert open_edition.due_change(later) == Phase.REVIEW


def test_a_date_that_has_passed_stays_as_it_was() -> None:
    open_edition = edition(Phase.SUBMISSION)
    opened = open_edition.schedule.submission_opens

    with pytest.raises(InvalidInput, match="passed on") as refused:
        open_edition.change(
            title="Renamed", dates={"submission_opens": opened + timedelta(days=1)}, now=NOW
        )

    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/submission_opens"
    assert open_edition.schedule.submission_opens == opened
    assert open_edition.title == "WSIS Prizes 2027"
    assert open_edition.version == 1


def test_a_date_cannot_move_into_the_past() -> None:
    open_edition = edition(Phase.SUBMISSION)

    with pytest.raises(InvalidInput, match="POST /editions/2027/phase") as refused:
        open_edition.change(dates={"submission_closes": NOW - timedelta(minutes=1)}, now=NOW)

    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/submission_closes"
    assert open_edition.schedule == schedule()


def test_a_moved_date_keeps_the_schedule_in_order() -> None:
    open_edition = edition(Phase.SUBMISSION)
    after_voting_opens = open_edition.schedule.voting_opens + timedelta(days=1)

    with pytest.raises(InvalidInput, match="voting_closes must not be after") as refused:
        open_edition.change(
            dates={"voting_closes": open_edition.schedule.results_at + timedelta(days=1)}, now=NOW
        )
    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/voting_closes"

    with pytest.raises(InvalidInput, match="review_closes must not be after"):
        open_edition.change(dates={"review_closes": after_voting_opens}, now=NOW)

    moved = open_edition.change(
        dates={"review_closes": after_voting_opens, "voting_opens": after_voting_opens}, now=NOW
    )
    assert moved is not None
    assert open_edition.schedule.voting_opens == after_voting_opens


def test_dates_stay_within_two_years_of_the_edition() -> None:
    open_edition = edition(Phase.SUBMISSION)

    with pytest.raises(InvalidInput, match="within 2 years of 2027"):
        open_edition.change(
            dates={"ceremony_at": open_edition.schedule.results_at.replace(year=2031)}, now=NOW
        )


def test_the_ceremony_can_be_added_and_removed() -> None:
    open_edition = edition(Phase.SUBMISSION)
    ceremony = open_edition.schedule.results_at + timedelta(days=30)

    assert open_edition.change(dates={"ceremony_at": ceremony}, now=NOW) is not None
    with_results = open_edition.model_copy(update={"phase": Phase.RESULTS})
    assert with_results.next_change(open_edition.schedule.results_at) == (ceremony, Phase.CLOSED)
    assert open_edition.change(dates={"ceremony_at": None}, now=NOW) is not None
    assert open_edition.schedule.ceremony_at is None
    assert open_edition.version == 3


def test_title_and_running_counts_change_at_any_time() -> None:
    closed = edition(Phase.CLOSED)

    event = closed.change(title="WSIS Prizes 2027: Champions", show_running_counts=True, now=NOW)

    assert event is not None
    assert event.payload.changed == ("title", "show_running_counts")
    assert (closed.title, closed.show_running_counts) == ("WSIS Prizes 2027: Champions", True)


def test_a_change_that_changes_nothing_announces_nothing() -> None:
    open_edition = edition(Phase.SUBMISSION)
    same = open_edition.schedule

    assert (
        open_edition.change(
            title=open_edition.title,
            dates={"submission_opens": same.submission_opens, "voting_closes": same.voting_closes},
            show_running_counts=False,
            now=NOW,
        )
        is None
    )
    assert open_edition.version == 1


async def test_change_edition_saves_and_publishes_together() -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.SUBMISSION)}))
    later = schedule().voting_closes + timedelta(days=2)

    changed = await change_edition(
        runner,
        FixedClock(NOW),
        year=YEAR,
        title=None,
        dates={"voting_closes": later, "results_at": later + timedelta(days=9)},
        show_running_counts=None,
    )

    assert runner.editions[YEAR].schedule.voting_closes == later == changed.schedule.voting_closes
    [(event, _)] = runner.published
    assert isinstance(event, EditionChanged)
    assert decode(topic_of(event), encode(event)) == event


async def test_a_refused_change_stores_and_publishes_nothing() -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.SUBMISSION)}))

    with pytest.raises(InvalidInput):
        await change_edition(
            runner,
            FixedClock(NOW),
            year=YEAR,
            title="A new title",
            dates={"submission_opens": NOW + timedelta(days=1)},
            show_running_counts=None,
        )

    assert runner.published == []
    assert runner.editions[YEAR].title == "WSIS Prizes 2027"


def test_a_moved_date_comes_at_least_a_minute_after_the_change() -> None:
    """Every service, and every API process's copy of the edition, learns of it before."""
    open_edition = edition(Phase.SUBMISSION)

    with pytest.raises(InvalidInput, match="less than a minute from now"):
        open_edition.change(dates={"submission_closes": NOW + timedelta(seconds=30)}, now=NOW)
    assert open_edition.change(dates={"submission_closes": NOW + timedelta(minutes=1)}, now=NOW)


def test_the_dates_of_a_phase_the_edition_has_left_stay() -> None:
    """Voting closed early by an admin: moving its close would answer 200 and change nothing."""
    closed_early = edition(Phase.SELECTION)
    voting_closes = closed_early.schedule.voting_closes
    before_the_close = voting_closes - timedelta(days=1)

    with pytest.raises(InvalidInput, match="ends the voting phase, which edition 2027") as refused:
        closed_early.change(
            dates={"voting_closes": voting_closes + timedelta(days=3)}, now=before_the_close
        )

    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/voting_closes"
    assert closed_early.change(
        dates={"results_at": closed_early.schedule.results_at + timedelta(days=3)},
        now=before_the_close,
    )


def test_dates_are_kept_in_utc_to_the_millisecond_as_mongodb_stores_them() -> None:
    open_edition = edition(Phase.SUBMISSION)
    later = open_edition.schedule.voting_closes + timedelta(microseconds=123_456)
    in_tokyo = later.astimezone(timezone(timedelta(hours=9)))

    assert open_edition.change(dates={"voting_closes": in_tokyo}, now=NOW) is not None
    assert open_edition.schedule.voting_closes == later.replace(microsecond=123_000)
    assert open_edition.schedule.voting_closes.utcoffset() == timedelta(0)
    assert open_edition.change(dates={"voting_closes": in_tokyo}, now=NOW) is None, "the same"


def test_a_refusal_points_at_the_date_that_was_sent() -> None:
    open_edition = edition(Phase.SUBMISSION)
    too_early = open_edition.schedule.voting_closes - timedelta(days=1)

    with pytest.raises(InvalidInput, match="voting_closes must not be after") as refused:
        open_edition.change(dates={"results_at": too_early}, now=NOW)

    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/results_at"


def test_the_next_change_is_one_already_due() -> None:
    """Between a close date and the scheduler's next pass the edition still says submission:
    what comes next is the review, now, not voting in a month."""
    open_edition = edition(Phase.SUBMISSION)
    closes = open_edition.schedule.submission_closes

    assert open_edition.next_change(closes + timedelta(seconds=2)) == (closes, Phase.REVIEW)


def test_a_phase_change_carries_the_running_counts_setting() -> None:
    shown = edition(Phase.VOTING)
    shown.change(show_running_counts=True, now=NOW)

    event = shown.change_phase(Phase.SELECTION, by="schedule", now=NOW)

    assert event.payload.show_running_counts is True


def test_submissions_sent_back_by_an_admin_get_a_new_close() -> None:
    """Their close has passed, but the edition is in submissions again: the admin sets when
    they close again, and the schedule moves the edition to the review then, not to voting."""
    reopened = edition(Phase.REVIEW)
    later = reopened.schedule.submission_closes + timedelta(days=2)
    reopened.change_phase(Phase.SUBMISSION, by="admin", now=later)
    new_close = later + timedelta(days=7)

    assert reopened.fixed_dates(later) == {"submission_opens"}
    assert reopened.change(dates={"submission_closes": new_close}, now=later) is not None
    assert reopened.next_change(later) == (new_close, Phase.REVIEW)
    assert reopened.due_change(new_close) == Phase.REVIEW


def test_a_close_the_scheduler_has_not_acted_on_yet_can_still_be_put_off() -> None:
    open_edition = edition(Phase.SUBMISSION)
    closes = open_edition.schedule.submission_closes
    just_after = closes + timedelta(seconds=2)

    assert "submission_closes" not in open_edition.fixed_dates(just_after)
    assert open_edition.change(
        dates={"submission_closes": closes + timedelta(days=3)}, now=just_after
    )
    assert open_edition.due_change(just_after) is None


def test_the_fixed_dates_are_the_passed_ones_and_those_of_phases_left() -> None:
    voting = edition(Phase.VOTING)  # opened early by an admin, during the review
    during = voting.schedule.review_closes - timedelta(days=10)

    assert voting.fixed_dates(during) == {
        "submission_opens",
        "submission_closes",
        "review_closes",
        "voting_opens",
    }
    with pytest.raises(InvalidInput, match="ends the review phase"):
        voting.change(dates={"review_closes": during + timedelta(days=1)}, now=during)


def test_a_date_mongodb_cannot_store_is_refused_at_its_field() -> None:
    open_edition = edition(Phase.SUBMISSION)
    end_of_time = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))

    with pytest.raises(InvalidInput, match="not a date MongoDB can store") as refused:
        open_edition.change(dates={"ceremony_at": end_of_time}, now=NOW)
    assert refused.value.extensions["errors"][0]["pointer"] == "/schedule/ceremony_at"


async def test_a_change_made_on_an_edition_read_before_another_change_is_refused() -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.SUBMISSION)}))

    async def change(version: int | None, title: str) -> Edition:
        return await change_edition(
            runner,
            FixedClock(NOW),
            year=YEAR,
            title=title,
            dates={},
            show_running_counts=None,
            expected_version=version,
        )

    assert (await change(1, "WSIS Prizes 2027: first")).version == 2
    with pytest.raises(PreconditionFailed, match="changed since you read it") as refused:
        await change(1, "WSIS Prizes 2027: second")
    assert refused.value.status == 412
    assert runner.editions[YEAR].title == "WSIS Prizes 2027: first"
    assert (await change(None, "WSIS Prizes 2027: without a check")).version == 3


@pytest.mark.parametrize("sent", ['"²"', '"' + "9" * 5000 + '"', "yesterday", '"-1"'])
def test_an_if_match_that_is_no_version_is_a_422_not_a_500(sent: str) -> None:
    with pytest.raises(InvalidInput, match="send the ETag"):
        _version_in(sent)


def test_an_if_match_names_a_version() -> None:
    assert [_version_in(v) for v in ('"7"', 'W/"7"', "*", None)] == [7, 7, None, None]
