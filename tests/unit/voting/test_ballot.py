"""The ballot's rules: the voting window, valid choices, who sees counts, pseudonyms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wsis_shared.errors import InvalidInput, NotFound, PhaseClosed
from wsis_shared.events import EditionSchedule, NomineeCard
from wsis_shared.vocabulary import Category, Phase, Region, StakeholderType
from wsis_voting.domain.ballot import (
    Nominee,
    VotingEdition,
    check_ballot_choice,
    tally_key,
    voter_pseudonym,
)

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


CLOSES = VOTING_OPENS + timedelta(days=30)


def test_the_clock_closes_the_window_at_the_scheduled_time() -> None:
    edition = _edition(Phase.VOTING)
    edition.phase_changed_at = VOTING_OPENS
    with pytest.raises(PhaseClosed, match="is closed"):
        edition.require_open_window(CLOSES)


def test_voting_opened_again_by_an_admin_after_the_close_stays_open_until_their_next_change() -> (
    None
):
    """After an outage on the last day the organisers extend voting by opening it again."""
    edition = _edition(Phase.VOTING)
    edition.phase_changed_at = CLOSES + timedelta(hours=2)
    edition.require_open_window(CLOSES + timedelta(hours=5))


def test_once_the_results_are_decided_voting_never_opens_again() -> None:
    edition = _edition(Phase.VOTING)  # an admin's override back to voting, after the results
    edition.phase_changed_at = CLOSES + timedelta(days=2)
    edition.finalised_at = CLOSES + timedelta(days=1)
    with pytest.raises(PhaseClosed) as refused:
        edition.require_open_window(CLOSES + timedelta(days=2, hours=1))

    assert "results were decided" in refused.value.detail
    assert "cannot open again" in refused.value.detail


def test_a_paused_or_early_closed_window_says_so() -> None:
    paused = _edition(Phase.REVIEW)
    with pytest.raises(PhaseClosed, match="paused by the organisers"):
        paused.require_open_window(NOW)
    closed_early = _edition(Phase.SELECTION)
    closed_early.phase_changed_at = NOW
    with pytest.raises(PhaseClosed, match="closed early by the organisers on 2027-04-04"):
        closed_early.require_open_window(NOW + timedelta(hours=1))


def test_at_the_scheduled_opening_the_window_is_opening_not_paused() -> None:
    """The scheduler's pass and the event take seconds: voters sent at the opening by a
    campaign are told to try again, not that someone paused the vote."""
    in_review = _edition(Phase.REVIEW)
    in_review.phase_changed_at = VOTING_OPENS - timedelta(days=1)

    with pytest.raises(PhaseClosed, match="is opening now") as refused:
        in_review.require_open_window(VOTING_OPENS + timedelta(seconds=3))
    assert "try again in a few seconds" in refused.value.detail
    with pytest.raises(PhaseClosed, match="paused by the organisers"):
        in_review.require_open_window(VOTING_OPENS + timedelta(minutes=5))
    in_review.phase_changed_at = VOTING_OPENS + timedelta(seconds=1)  # an admin, after it
    with pytest.raises(PhaseClosed, match="paused by the organisers"):
        in_review.require_open_window(VOTING_OPENS + timedelta(seconds=3))


def test_an_edition_never_announced_is_not_found() -> None:
    with pytest.raises(NotFound, match="no edition 2027"):
        VotingEdition(year=YEAR).require_open_window()


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
