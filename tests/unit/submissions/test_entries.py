"""A project team's entry: drafting, the rules of submission, and the use cases around them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.submissions.builders import (
    NOW,
    YEAR,
    admin,
    content,
    draft,
    edition,
    submitter,
    words,
)
from tests.unit.submissions.fakes import FakeRunner, FixedClock, State
from wsis_shared.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PhaseClosed,
)
from wsis_shared.events import SubmissionSubmitted, decode, encode, topic_of
from wsis_shared.text import word_count
from wsis_shared.vocabulary import ActionLine, Category, Phase, ProjectStatus, Region
from wsis_submissions.domain.entries import REQUIRED_TO_SUBMIT, EntryContent
from wsis_submissions.service_layer.entries import (
    NearDuplicate,
    PreviousWinner,
    create_draft,
    edit_draft,
    entry_history,
    get_entry,
    list_entries,
    record_winner,
    submit_entry,
)
from wsis_submissions.service_layer.unit_of_work import UnitOfWork

# --- the submission phase ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phase", [Phase.PLANNED, Phase.REVIEW, Phase.VOTING, Phase.RESULTS, Phase.CLOSED]
)
def test_submit_outside_the_submission_phase_is_refused(phase: Phase) -> None:
    entry = draft()

    with pytest.raises(PhaseClosed) as refused:
        entry.submit(edition(phase), now=NOW)

    error = refused.value
    assert error.status == 409
    assert error.code == "phase-closed"
    assert "submission phase" in error.detail
    assert f"in the {phase} phase" in error.detail
    assert error.extensions["current_phase"] == phase
    assert error.extensions["required_phase"] == Phase.SUBMISSION
    assert error.extensions["opens_at"] == edition().schedule.submission_opens
    assert error.extensions["closes_at"] == edition().schedule.submission_closes


def test_a_refused_submission_leaves_the_draft_as_it_was() -> None:
    entry = draft()
    before = entry.model_copy(deep=True)

    with pytest.raises(PhaseClosed):
        entry.submit(edition(Phase.REVIEW), now=NOW)

    assert entry == before


# --- completeness --------------------------------------------------------------------------------


def test_submit_lists_every_missing_field() -> None:
    entry = draft()
    entry.content = EntryContent()

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert refused.value.status == 422
    assert refused.value.extensions["missing"] == list(REQUIRED_TO_SUBMIT)
    assert _pointers(refused.value) == {f"/{name}" for name in REQUIRED_TO_SUBMIT}
    for name in REQUIRED_TO_SUBMIT:
        assert name in refused.value.detail


def test_submit_lists_only_the_missing_fields() -> None:
    entry = draft(title=None, country=None, sdgs=(), sdg_targets=())

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert refused.value.extensions["missing"] == ["title", "sdgs", "country"]
    assert _pointers(refused.value) == {"/title", "/sdgs", "/country"}
    assert entry.status == "draft"
    assert entry.version == 1


def test_a_name_of_spaces_saved_in_a_draft_counts_as_missing() -> None:
    """Drafts saved before names were trimmed may hold one."""
    entry = draft(title="   ", contact_name=" \t")

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert refused.value.extensions["missing"] == ["title", "contact_name"]


def _pointers(error: InvalidInput) -> set[str]:
    return {problem["pointer"] for problem in error.extensions["errors"]}


def _problem_at(error: InvalidInput, pointer: str) -> str:
    [detail] = [p["detail"] for p in error.extensions["errors"] if p["pointer"] == pointer]
    assert isinstance(detail, str)
    return detail


def test_website_and_action_lines_are_optional() -> None:
    entry = draft(website=None, action_lines=(), sdg_targets=())

    event = entry.submit(edition(), now=NOW)

    assert event.payload.website is None
    assert event.payload.action_lines == (ActionLine.C7,)


# --- the short description -----------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 149, 201, 400])
def test_short_description_outside_150_to_200_words_is_refused_with_the_count(
    count: int,
) -> None:
    text = words(count) if count else "—"
    entry = draft(short_description=text)

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert _pointers(refused.value) == {"/short_description"}
    reason = _problem_at(refused.value, "/short_description")
    assert f"has {count} words" in reason
    assert "150" in reason
    assert "200" in reason
    assert f"has {count} words" in refused.value.detail


@pytest.mark.parametrize("count", [150, 175, 200])
def test_short_description_of_150_to_200_words_is_accepted(count: int) -> None:
    event = draft(short_description=words(count)).submit(edition(), now=NOW)

    assert word_count(event.payload.short_description) == count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("ICT-enabled services", 2),
        ("the team's work", 3),
        ("  spaced\n\nout\ttext  ", 3),
        ("Voilà, déjà vu!", 3),
        ("", 0),
        # Scripts with combining vowel signs: one word each, not one per sign.
        ("हिन्दी भाषा में विवरण", 4),
        ("தமிழ் மொழி", 2),
        ("cafe\u0301 re\u0301sume\u0301", 2),  # decomposed, as pasted from a Mac
        # Scripts written without spaces: ICU's dictionaries find the words.
        ("我们的项目为农村学校提供数字技能培训。", 10),
        ("สวัสดีครับ ยินดีต้อนรับสู่ประเทศไทย", 6),
        ("solar - powered", 2),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


# --- eligibility -------------------------------------------------------------------------------


def test_an_ongoing_project_is_not_eligible() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(project_status=ProjectStatus.ONGOING).submit(edition(), now=NOW)

    assert _pointers(refused.value) == {"/project_status"}


def test_a_project_that_has_not_started_is_not_eligible() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(start_date=NOW.date() + timedelta(days=2)).submit(edition(), now=NOW)

    assert _pointers(refused.value) == {"/start_date"}


def test_a_project_started_today_is_eligible() -> None:
    draft(start_date=NOW.date()).submit(edition(), now=NOW)


def test_a_project_started_today_east_of_greenwich_is_eligible() -> None:
    """At noon UTC it is already tomorrow in Kiribati (UTC+14)."""
    draft(start_date=NOW.date() + timedelta(days=1)).submit(edition(), now=NOW)


def test_sdg_targets_must_belong_to_the_sdgs_listed() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(sdgs=(3,), sdg_targets=("3.8", "4.1")).submit(edition(), now=NOW)

    assert _pointers(refused.value) == {"/sdg_targets"}
    assert "4.1" in _problem_at(refused.value, "/sdg_targets")


def test_every_problem_is_reported_at_once() -> None:
    entry = draft(title=None, short_description=words(20), project_status=ProjectStatus.ONGOING)

    with pytest.raises(InvalidInput) as refused:
        entry.submit(edition(), now=NOW)

    assert _pointers(refused.value) == {"/title", "/short_description", "/project_status"}


# --- category ------------------------------------------------------------------------------------


def test_category_not_open_in_the_edition_is_refused() -> None:
    entry = draft(category=Category.C9)

    with pytest.raises(Conflict) as refused:
        entry.submit(edition(categories=(Category.C1, Category.C2)), now=NOW)

    assert "C9" in refused.value.detail
    assert entry.status == "draft"


# --- a correct submission ------------------------------------------------------------------------


def test_submit_returns_the_public_entry_with_the_region_of_the_country() -> None:
    entry = draft()

    event = entry.submit(edition(), now=NOW)

    assert isinstance(event, SubmissionSubmitted)
    assert event.aggregate_id == "entry-1"
    assert event.edition == YEAR
    assert event.occurred_at == NOW
    public = event.payload
    assert public.entry_id == "entry-1"
    assert public.organisation_id == "org-1"
    assert public.organisation_name == "Ministry of Health"
    assert public.category == Category.C7_E_HEALTH
    assert public.country == "KE"
    assert public.region == Region.AFRICA
    assert public.sdgs == (3, 9)
    # the category's own action line first, then the team's, without duplicates
    assert public.action_lines == (ActionLine.C7, ActionLine.C3)


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("EG", Region.ARAB_STATES),
        ("BR", Region.AMERICAS),
        ("KZ", Region.CIS),
        ("IR", Region.ASIA_PACIFIC),
        ("UA", Region.EUROPE),
        ("ZA", Region.AFRICA),
    ],
)
def test_region_is_derived_from_the_country(country: str, region: Region) -> None:
    event = draft(country=country).submit(edition(), now=NOW)

    assert event.payload.region == region


def test_submit_increments_the_version_and_records_the_time() -> None:
    entry = draft()
    assert entry.version == 1

    event = entry.submit(edition(), now=NOW)

    assert entry.status == "submitted"
    assert entry.version == 2
    assert event.aggregate_version == entry.version
    assert entry.submitted_at == NOW
    assert entry.updated_at == NOW


def test_duplicate_action_lines_are_kept_once() -> None:
    entry = draft(action_lines=(ActionLine.C7, ActionLine.C3, ActionLine.C7))

    event = entry.submit(edition(), now=NOW)

    assert event.payload.action_lines == (ActionLine.C7, ActionLine.C3)


def test_the_submitted_event_survives_the_wire() -> None:
    event = draft().submit(edition(), now=NOW)

    assert decode(topic_of(event), encode(event)) == event


def test_a_second_submit_is_refused() -> None:
    entry = draft()
    entry.submit(edition(), now=NOW)

    with pytest.raises(Conflict) as refused:
        entry.submit(edition(), now=NOW + timedelta(minutes=1))

    assert "already submitted" in refused.value.detail
    assert refused.value.extensions["entry_status"] == "submitted"
    assert entry.version == 2


# --- editing -------------------------------------------------------------------------------------


def test_editing_a_draft_changes_only_the_fields_sent() -> None:
    entry = draft()

    changed = entry.edit(EntryContent(title="A better title"), now=NOW)

    assert changed == {"title": "A better title"}
    assert entry.content.title == "A better title"
    assert entry.content.country == "KE"
    assert entry.content.category == Category.C7_E_HEALTH
    assert entry.version == 2
    assert entry.updated_at == NOW


def test_editing_a_submitted_entry_is_refused() -> None:
    entry = draft()
    entry.submit(edition(), now=NOW)

    with pytest.raises(Conflict) as refused:
        entry.edit(EntryContent(title="Sneaky change"), now=NOW)

    assert refused.value.extensions["entry_status"] == "submitted"
    assert entry.content.title == "Telemedicine for rural clinics"
    assert entry.version == 2


# --- use cases -----------------------------------------------------------------------------------


def test_an_edit_that_changes_nothing_keeps_the_version() -> None:
    entry = draft()

    assert entry.edit(EntryContent(title=entry.content.title), now=NOW) == {}
    assert entry.version == 1


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner(State(editions={YEAR: edition()}))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def test_create_draft_stores_a_draft_of_the_author_organisation(
    runner: FakeRunner, clock: FixedClock
) -> None:
    entry = await create_draft(
        runner, clock, year=YEAR, content=EntryContent(title="Work in progress"), author=submitter()
    )

    assert entry.status == "draft"
    assert entry.organisation_id == "org-1"
    assert entry.created_by == "alice"
    assert entry.created_at == NOW
    assert runner.entries[entry.entry_id] == entry
    assert runner.published == [], "a draft is private: no event"


@pytest.mark.parametrize("phase", [Phase.REVIEW, Phase.VOTING, Phase.CLOSED])
async def test_a_draft_is_started_only_while_it_can_still_be_submitted(
    clock: FixedClock, phase: Phase
) -> None:
    runner = FakeRunner(State(editions={YEAR: edition(phase)}))

    with pytest.raises(PhaseClosed, match="starting a draft is possible only in the submission"):
        await create_draft(
            runner, clock, year=YEAR, content=EntryContent(title="Too late"), author=submitter()
        )

    assert runner.entries == {}
    planned = FakeRunner(State(editions={YEAR: edition(Phase.PLANNED)}))
    assert await create_draft(
        planned, clock, year=YEAR, content=EntryContent(title="Early"), author=submitter()
    )


async def test_create_draft_needs_an_organisation(runner: FakeRunner, clock: FixedClock) -> None:
    with pytest.raises(Forbidden):
        await create_draft(
            runner,
            clock,
            year=YEAR,
            content=EntryContent(),
            author=submitter(organisation_id=None),
        )

    assert runner.entries == {}


async def test_edit_draft_refuses_a_category_the_edition_does_not_open(
    clock: FixedClock,
) -> None:
    runner = FakeRunner(State(editions={YEAR: edition(categories=(Category.C1,))}))
    draft = await create_draft(
        runner, clock, year=YEAR, content=EntryContent(category=Category.C1), author=submitter()
    )

    with pytest.raises(Conflict):
        await edit_draft(
            runner,
            clock,
            entry_id=draft.entry_id,
            changes=EntryContent(category=Category.C2),
            author=submitter(),
        )

    assert runner.entries[draft.entry_id].content.category == Category.C1


async def test_create_draft_in_an_unknown_edition_is_not_found(
    runner: FakeRunner, clock: FixedClock
) -> None:
    with pytest.raises(NotFound):
        await create_draft(runner, clock, year=YEAR + 1, content=EntryContent(), author=submitter())


async def test_create_draft_refuses_a_category_the_edition_does_not_open(
    clock: FixedClock,
) -> None:
    runner = FakeRunner(State(editions={YEAR: edition(categories=(Category.C1,))}))

    with pytest.raises(Conflict):
        await create_draft(
            runner,
            clock,
            year=YEAR,
            content=EntryContent(category=Category.C2),
            author=submitter(),
        )

    assert runner.entries == {}


async def test_submit_entry_publishes_the_submission(runner: FakeRunner, clock: FixedClock) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    clock.advance(hours=1)

    entry = await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())

    assert entry.status == "submitted"
    assert runner.entries[entry.entry_id].status == "submitted"
    [(event, key)] = runner.published
    assert isinstance(event, SubmissionSubmitted)
    assert event.aggregate_id == entry.entry_id
    assert event.aggregate_version == entry.version
    assert event.occurred_at == clock.now
    assert event.payload.region == Region.AFRICA
    assert key in (None, entry.entry_id), "keyed by the entry id (the default)"


async def test_another_organisations_submitter_gets_not_found(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    intruder = submitter("mallory", organisation_id="org-2")

    with pytest.raises(NotFound) as refused:
        await submit_entry(runner, clock, entry_id=created.entry_id, author=intruder)
    assert created.entry_id in refused.value.detail
    with pytest.raises(NotFound):
        await get_entry(runner, entry_id=created.entry_id, reader=intruder)
    with pytest.raises(NotFound):
        await edit_draft(
            runner, clock, entry_id=created.entry_id, changes=content(), author=intruder
        )

    assert runner.published == []
    assert runner.entries[created.entry_id].status == "draft"
    assert runner.entries[created.entry_id].version == 1


async def test_not_found_looks_the_same_for_missing_and_foreign_entries(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    intruder = submitter("mallory", organisation_id="org-2")

    with pytest.raises(NotFound) as foreign:
        await get_entry(runner, entry_id=created.entry_id, reader=intruder)
    with pytest.raises(NotFound) as missing:
        await get_entry(runner, entry_id="no-such-entry", reader=intruder)

    assert foreign.value.detail.replace(created.entry_id, "ID") == missing.value.detail.replace(
        "no-such-entry", "ID"
    )


async def test_an_admin_may_submit_any_organisations_entry(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())

    entry = await submit_entry(runner, clock, entry_id=created.entry_id, author=admin())

    assert entry.status == "submitted"
    assert len(runner.published) == 1


async def test_submit_entry_outside_the_phase_publishes_nothing(clock: FixedClock) -> None:
    runner = FakeRunner(State(editions={YEAR: edition(Phase.SUBMISSION)}))
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    runner.editions[YEAR].phase = Phase.REVIEW  # the draft was not submitted in time

    with pytest.raises(PhaseClosed):
        await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())

    assert runner.published == []
    assert runner.entries[created.entry_id].status == "draft"


async def test_one_submitted_entry_per_category_per_organisation(
    runner: FakeRunner, clock: FixedClock
) -> None:
    first = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    other_project = content(title="Mobile money for farmers", short_description=words(160, "m"))
    second = await create_draft(runner, clock, year=YEAR, content=other_project, author=submitter())
    await submit_entry(runner, clock, entry_id=first.entry_id, author=submitter())

    with pytest.raises(AlreadyExists):
        await submit_entry(runner, clock, entry_id=second.entry_id, author=submitter())

    assert len(runner.published) == 1
    assert runner.entries[second.entry_id].status == "draft"


async def test_a_second_submit_through_the_use_case_is_refused(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())

    with pytest.raises(Conflict):
        await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())

    assert len(runner.published) == 1


async def test_edit_draft_then_list_entries_of_the_organisation(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(
        runner, clock, year=YEAR, content=EntryContent(title="First"), author=submitter()
    )
    await create_draft(
        runner,
        clock,
        year=YEAR,
        content=EntryContent(title="Theirs"),
        author=submitter("bob", organisation_id="org-2"),
    )

    await edit_draft(
        runner,
        clock,
        entry_id=created.entry_id,
        changes=EntryContent(title="Second"),
        author=submitter("carol"),
    )
    mine = await list_entries(runner, year=YEAR, reader=submitter())

    assert [entry.content.title for entry in mine] == ["Second"]


async def test_create_draft_and_submit_are_recorded_in_the_history(
    runner: FakeRunner, clock: FixedClock
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    clock.advance(minutes=5)
    await edit_draft(
        runner,
        clock,
        entry_id=created.entry_id,
        changes=EntryContent(title="Telemedicine for remote clinics"),
        author=submitter("carol"),
    )
    clock.advance(minutes=5)
    await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())

    history = await entry_history(runner, entry_id=created.entry_id, reader=submitter())

    assert [(r.action, r.by, r.version) for r in history] == [
        ("created", "alice", 1),
        ("edited", "carol", 2),
        ("submitted", "alice", 3),
    ]
    assert history[1].changes == {"title": "Telemedicine for remote clinics"}


# --- the same project only once, and never a previous winner ------------------------------------


async def test_the_same_project_from_another_organisation_is_a_near_duplicate(
    runner: FakeRunner, clock: FixedClock
) -> None:
    first = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=first.entry_id, author=submitter())
    bob = submitter("bob", organisation_id="org-2")
    copy = await create_draft(runner, clock, year=YEAR, content=content(), author=bob)

    with pytest.raises(NearDuplicate) as refused:
        await submit_entry(runner, clock, entry_id=copy.entry_id, author=bob)

    assert refused.value.status == 409
    assert refused.value.extensions["similar_entry_id"] is None, "another org's id stays hidden"
    assert len(runner.published) == 1
    assert runner.entries[copy.entry_id].status == "draft"


async def test_the_same_project_in_another_category_is_a_near_duplicate(
    runner: FakeRunner, clock: FixedClock
) -> None:
    first = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=first.entry_id, author=submitter())
    again = await create_draft(
        runner, clock, year=YEAR, content=content(category=Category.C3), author=submitter()
    )

    with pytest.raises(NearDuplicate) as refused:
        await submit_entry(runner, clock, entry_id=again.entry_id, author=submitter())

    assert refused.value.extensions["similar_entry_id"] == first.entry_id


async def test_a_different_project_is_no_duplicate(runner: FakeRunner, clock: FixedClock) -> None:
    first = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=first.entry_id, author=submitter())
    bob = submitter("bob", organisation_id="org-2")
    other = await create_draft(
        runner,
        clock,
        year=YEAR,
        content=content(title="Mobile money for farmers", short_description=words(160, "m")),
        author=bob,
    )

    await submit_entry(runner, clock, entry_id=other.entry_id, author=bob)

    assert len(runner.published) == 2


async def test_titles_of_emoji_only_are_not_all_the_same_title(
    runner: FakeRunner, clock: FixedClock
) -> None:
    first = await create_draft(
        runner, clock, year=YEAR, content=content(title="🌍🌱💧"), author=submitter()
    )
    await submit_entry(runner, clock, entry_id=first.entry_id, author=submitter())
    bob = submitter("bob", organisation_id="org-2")
    other = await create_draft(
        runner,
        clock,
        year=YEAR,
        content=content(title="📚✏️🎓", short_description=words(160, "m")),
        author=bob,
    )
    # The same title, and half the description kept: the same project.
    half_kept = " ".join(words(170).split()[:85]) + " " + words(85, "q")
    again = await create_draft(
        runner,
        clock,
        year=YEAR,
        content=content(title="🌍🌱💧", category=Category.C3, short_description=half_kept),
        author=bob,
    )

    await submit_entry(runner, clock, entry_id=other.entry_id, author=bob)
    with pytest.raises(NearDuplicate):  # the very same emoji title is still the same title
        await submit_entry(runner, clock, entry_id=again.entry_id, author=bob)


async def test_a_common_title_with_another_description_is_another_project(
    runner: FakeRunner, clock: FixedClock
) -> None:
    """Many countries submit a "National Broadband Strategy": the title alone never refuses."""
    kenya = await create_draft(
        runner,
        clock,
        year=YEAR,
        content=content(title="National Broadband Strategy"),
        author=submitter(),
    )
    await submit_entry(runner, clock, entry_id=kenya.entry_id, author=submitter())
    ghana_team = submitter("kofi", organisation_id="org-gh")
    ghana = await create_draft(
        runner,
        clock,
        year=YEAR,
        content=content(
            title="National Broadband Strategy", country="GH", short_description=words(170, "g")
        ),
        author=ghana_team,
    )

    await submit_entry(runner, clock, entry_id=ghana.entry_id, author=ghana_team)

    assert len(runner.published) == 2


async def test_a_previous_winner_is_not_eligible(clock: FixedClock) -> None:
    runner = FakeRunner(State(editions={YEAR - 1: edition(year=YEAR - 1), YEAR: edition()}))
    old = await create_draft(runner, clock, year=YEAR - 1, content=content(), author=submitter())
    await submit_entry(runner, clock, entry_id=old.entry_id, author=submitter())

    async def won(uow: UnitOfWork) -> None:
        await record_winner(uow, entry_id=old.entry_id, edition=YEAR - 1)

    await runner.run(won)
    again = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())

    with pytest.raises(PreviousWinner) as refused:
        await submit_entry(runner, clock, entry_id=again.entry_id, author=submitter())

    assert str(YEAR - 1) in refused.value.detail
    assert runner.entries[again.entry_id].status == "draft"
