"""The ballot: the voting window, valid choices, one vote per voter per category, the counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.voting.fakes import FakeRunner, State
from wsis_shared.errors import InvalidInput, PhaseClosed
from wsis_shared.events import EditionSchedule, NomineeCard, VoteCast, encode, topic_of
from wsis_shared.vocabulary import Category, Phase, Region, StakeholderType
from wsis_voting.domain.ballot import (
    AlreadyVoted,
    Nominee,
    VotingEdition,
    check_ballot_choice,
    tally_key,
    voter_pseudonym,
)
from wsis_voting.service_layer.unit_of_work import UnitOfWork
from wsis_voting.service_layer.voting import cast_vote, count_vote, results, votes_of

YEAR = 2027
VOTING_OPENS = datetime(2027, 4, 1, tzinfo=UTC)
NOW = VOTING_OPENS + timedelta(days=3)
VOTER = "auth0|vera@example.org"
KEY = b"test pseudonym key"


def _schedule() -> EditionSchedule:
    return EditionSchedule(
        submission_opens=VOTING_OPENS - timedelta(days=90),
        submission_closes=VOTING_OPENS - timedelta(days=30),
        review_closes=VOTING_OPENS - timedelta(days=1),
        voting_opens=VOTING_OPENS,
        voting_closes=VOTING_OPENS + timedelta(days=30),
        results_at=VOTING_OPENS + timedelta(days=40),
    )


def _edition(phase: Phase = Phase.VOTING, *, show_running_counts: bool = False) -> VotingEdition:
    return VotingEdition(
        year=YEAR,
        phase=phase,
        schedule=_schedule(),
        categories=tuple(Category),
        show_running_counts=show_running_counts,
    )


def _nominee(
    entry_id: str,
    category: Category = Category.C4,
    *,
    nominated: bool = True,
    edition: int = YEAR,
) -> Nominee:
    return Nominee(
        card=NomineeCard(
            entry_id=entry_id,
            category=category,
            title=f"Project {entry_id}",
            short_description="What voters read.",
            organisation_name="An organisation",
            country="KE",
            region=Region.AFRICA,
            stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        ),
        edition=edition,
        nominated=nominated,
    )


# --- the voting window ---------------------------------------------------------------------------

BEFORE_VOTING = [phase for phase in Phase if phase.order < Phase.VOTING.order]
AFTER_VOTING = [phase for phase in Phase if phase.order > Phase.VOTING.order]


def test_the_window_is_open_in_the_voting_phase() -> None:
    _edition(Phase.VOTING).require_open_window()


@pytest.mark.parametrize("phase", BEFORE_VOTING)
def test_before_the_window_opens_voting_is_refused(phase: Phase) -> None:
    with pytest.raises(PhaseClosed) as refused:
        _edition(phase).require_open_window()

    error = refused.value
    assert error.status == 409
    assert error.code == "phase-closed"
    assert "has not opened yet" in error.detail
    assert error.extensions["opens_at"] == VOTING_OPENS
    assert error.extensions["closes_at"] == VOTING_OPENS + timedelta(days=30)
    assert error.extensions["current_phase"] == phase
    assert error.extensions["required_phase"] == Phase.VOTING
    assert VOTING_OPENS.isoformat() in error.detail


@pytest.mark.parametrize("phase", AFTER_VOTING)
def test_after_the_window_closes_voting_is_refused(phase: Phase) -> None:
    with pytest.raises(PhaseClosed) as refused:
        _edition(phase).require_open_window()

    assert "is closed" in refused.value.detail
    assert refused.value.extensions["closes_at"] == VOTING_OPENS + timedelta(days=30)


def test_an_edition_never_announced_is_closed_without_dates() -> None:
    with pytest.raises(PhaseClosed) as refused:
        VotingEdition(year=YEAR).require_open_window()

    assert "opens_at" not in refused.value.extensions
    assert "closes_at" not in refused.value.extensions
    assert "has not opened yet" in refused.value.detail


# --- the choice ----------------------------------------------------------------------------------


def test_a_nominee_of_the_category_is_a_valid_choice() -> None:
    nominee = _nominee("entry-1", Category.C4)

    assert check_ballot_choice(nominee, YEAR, Category.C4, "entry-1") is nominee


@pytest.mark.parametrize(
    "nominee",
    [
        pytest.param(None, id="unknown-entry"),
        pytest.param(_nominee("entry-1", Category.C4, nominated=False), id="not-nominated"),
        pytest.param(_nominee("entry-1", Category.C9), id="other-category"),
        pytest.param(_nominee("entry-1", Category.C4, edition=YEAR - 1), id="other-edition"),
    ],
)
def test_an_invalid_choice_is_422(nominee: Nominee | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_ballot_choice(nominee, YEAR, Category.C4, "entry-1")

    assert refused.value.status == 422
    assert refused.value.extensions == {"category": Category.C4, "entry_id": "entry-1"}
    assert "entry-1" in refused.value.detail


# --- are running counts public? ------------------------------------------------------------------


@pytest.mark.parametrize("phase", BEFORE_VOTING)
@pytest.mark.parametrize("show", [False, True])
def test_counts_are_secret_before_voting(phase: Phase, show: bool) -> None:
    assert not _edition(phase, show_running_counts=show).counts_are_public()


@pytest.mark.parametrize("show", [False, True])
def test_during_voting_counts_are_public_only_if_the_edition_says_so(show: bool) -> None:
    assert _edition(Phase.VOTING, show_running_counts=show).counts_are_public() is show


def test_counts_kept_secret_during_voting_stay_secret_until_the_results() -> None:
    assert not _edition(Phase.SELECTION, show_running_counts=False).counts_are_public()


@pytest.mark.parametrize("phase", [Phase.RESULTS, Phase.CLOSED])
@pytest.mark.parametrize("show", [False, True])
def test_counts_are_public_once_results_are_out(phase: Phase, show: bool) -> None:
    assert _edition(phase, show_running_counts=show).counts_are_public()


# --- the pseudonym -------------------------------------------------------------------------------


def test_the_voter_pseudonym_is_stable_per_edition_and_reveals_nothing() -> None:
    pseudonym = voter_pseudonym(VOTER, YEAR, KEY)

    assert pseudonym == voter_pseudonym(VOTER, YEAR, KEY)
    assert pseudonym != voter_pseudonym("someone else", YEAR, KEY)
    assert pseudonym != voter_pseudonym(VOTER, YEAR + 1, KEY)
    assert pseudonym != voter_pseudonym(VOTER, YEAR, b"another key"), "keyed: not computable"
    assert VOTER not in pseudonym
    assert "vera" not in pseudonym


def test_the_tally_key_is_edition_and_category() -> None:
    assert tally_key(YEAR, Category.C7_E_HEALTH) == "2027:C7.e-health"


# --- casting a vote ------------------------------------------------------------------------------


@pytest.fixture
def runner() -> FakeRunner:
    nominees = [
        _nominee("entry-1", Category.C4),
        _nominee("entry-2", Category.C4),
        _nominee("entry-3", Category.C9),
        _nominee("entry-4", Category.C4, nominated=False),
    ]
    return FakeRunner(
        State(editions={YEAR: _edition()}, nominees={n.entry_id: n for n in nominees})
    )


async def _vote(
    runner: FakeRunner,
    entry_id: str = "entry-1",
    category: Category = Category.C4,
    voter: str = VOTER,
) -> None:
    await cast_vote(
        runner,
        edition=YEAR,
        category=category,
        entry_id=entry_id,
        voter=voter,
        now=NOW,
        pseudonym_key=KEY,
    )


async def test_cast_vote_publishes_a_pseudonymous_vote_keyed_by_category(
    runner: FakeRunner,
) -> None:
    vote = await cast_vote(
        runner,
        edition=YEAR,
        category=Category.C4,
        entry_id="entry-1",
        voter=VOTER,
        now=NOW,
        pseudonym_key=KEY,
    )

    [(event, key)] = runner.published
    assert isinstance(event, VoteCast)
    assert key == f"{YEAR}:{Category.C4}" == "2027:C4"
    assert topic_of(event) == "wsis.votes.v1"
    assert event.edition == YEAR
    assert event.occurred_at == NOW
    assert event.aggregate_id == vote.receipt_id
    assert event.payload.receipt_id == vote.receipt_id
    assert event.payload.entry_id == "entry-1"
    assert event.payload.category == Category.C4
    assert event.payload.voter_pseudonym == voter_pseudonym(VOTER, YEAR, KEY)
    assert event.payload.voter_pseudonym != VOTER
    assert VOTER not in encode(event).decode(), "the voter's identity never leaves voting"


async def test_cast_vote_stores_the_vote(runner: FakeRunner) -> None:
    vote = await cast_vote(
        runner,
        edition=YEAR,
        category=Category.C4,
        entry_id="entry-1",
        voter=VOTER,
        now=NOW,
        pseudonym_key=KEY,
    )

    assert await votes_of(runner, edition=YEAR, voter=VOTER) == [vote]
    assert vote.voter == VOTER
    assert vote.cast_at == NOW


async def test_a_second_vote_in_the_same_category_is_refused(runner: FakeRunner) -> None:
    await _vote(runner, "entry-1")
    [(first, _)] = runner.published
    assert isinstance(first, VoteCast)

    with pytest.raises(AlreadyVoted) as refused:
        await _vote(runner, "entry-2")

    assert refused.value.status == 409
    assert refused.value.code == "already-voted"
    assert refused.value.extensions["receipt_id"] == first.payload.receipt_id
    assert len(runner.published) == 1
    [kept] = await votes_of(runner, edition=YEAR, voter=VOTER)
    assert kept.entry_id == "entry-1"


async def test_the_same_vote_twice_is_refused_too(runner: FakeRunner) -> None:
    await _vote(runner, "entry-1")

    with pytest.raises(AlreadyVoted):
        await _vote(runner, "entry-1")

    assert len(runner.published) == 1


async def test_one_vote_in_each_category_and_for_each_voter(runner: FakeRunner) -> None:
    await _vote(runner, "entry-1", Category.C4)
    await _vote(runner, "entry-3", Category.C9)
    await _vote(runner, "entry-1", Category.C4, voter="someone else")

    assert [key for _, key in runner.published] == ["2027:C4", "2027:C9", "2027:C4"]
    assert len(await votes_of(runner, edition=YEAR, voter=VOTER)) == 2


@pytest.mark.parametrize("phase", [Phase.REVIEW, Phase.RESULTS])
async def test_no_vote_outside_the_window(runner: FakeRunner, phase: Phase) -> None:
    runner.state.editions[YEAR] = _edition(phase)

    with pytest.raises(PhaseClosed) as refused:
        await _vote(runner)

    assert refused.value.extensions["opens_at"] == VOTING_OPENS
    assert runner.published == []
    assert runner.state.votes == {}


async def test_no_vote_in_an_edition_voting_never_heard_of(runner: FakeRunner) -> None:
    with pytest.raises(PhaseClosed):
        await cast_vote(
            runner,
            edition=YEAR + 1,
            category=Category.C4,
            entry_id="entry-1",
            voter=VOTER,
            now=NOW,
            pseudonym_key=KEY,
        )

    assert runner.published == []


@pytest.mark.parametrize(
    ("entry_id", "category"),
    [
        pytest.param("no-such-entry", Category.C4, id="unknown"),
        pytest.param("entry-4", Category.C4, id="not-nominated"),
        pytest.param("entry-3", Category.C4, id="nominee-of-another-category"),
    ],
)
async def test_a_vote_for_a_non_nominee_is_422(
    runner: FakeRunner, entry_id: str, category: Category
) -> None:
    with pytest.raises(InvalidInput):
        await _vote(runner, entry_id, category)

    assert runner.published == []
    assert runner.state.votes == {}


async def test_a_nominee_of_another_edition_is_not_on_this_ballot(runner: FakeRunner) -> None:
    old = _nominee("entry-2026", Category.C4, edition=YEAR - 1)
    runner.state.nominees[old.entry_id] = old

    with pytest.raises(InvalidInput):
        await _vote(runner, "entry-2026", Category.C4)


# --- counting and results ------------------------------------------------------------------------


async def _count_published(runner: FakeRunner) -> None:
    for event, _ in runner.published:
        assert isinstance(event, VoteCast)

        async def work(uow: UnitOfWork, event: VoteCast = event) -> None:
            await count_vote(uow, event)

        await runner.run(work)


async def test_results_rank_by_counted_votes_when_public(runner: FakeRunner) -> None:
    runner.state.editions[YEAR] = _edition(show_running_counts=True)
    for voter in ("a", "b", "c"):
        await _vote(runner, "entry-2", voter=voter)
    await _vote(runner, "entry-1", voter="d")
    await _count_published(runner)

    result = await results(runner, edition=YEAR, category=Category.C4, privileged=False)

    assert result.counts_public
    assert [(n.entry_id, count) for n, count in result.nominees] == [
        ("entry-2", 3),
        ("entry-1", 1),
    ]


async def test_results_hide_counts_while_they_are_secret(runner: FakeRunner) -> None:
    await _vote(runner, "entry-2")
    await _count_published(runner)

    public = await results(runner, edition=YEAR, category=Category.C4, privileged=False)
    privileged = await results(runner, edition=YEAR, category=Category.C4, privileged=True)

    assert not public.counts_public
    assert {count for _, count in public.nominees} == {None}
    assert privileged.counts_public
    assert dict((n.entry_id, count) for n, count in privileged.nominees) == {
        "entry-1": 0,
        "entry-2": 1,
    }
