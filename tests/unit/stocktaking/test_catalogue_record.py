"""The public record of an entry: its status is derived from facts, whatever their order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from wsis_shared.vocabulary import Phase
from wsis_stocktaking.domain.catalogue import CatalogueRecord, EditionView, LifecycleStatus

YEAR = 2027


def _record(**facts: Any) -> CatalogueRecord:
    return CatalogueRecord(entry_id="entry-1", edition=YEAR, **facts)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({}, "submitted"),
        ({"eligible": True}, "eligible"),
        ({"eligible": False}, "ineligible"),
        ({"eligible": True, "nominated": True}, "nominated"),
        ({"eligible": False, "withdrawn": True}, "withdrawn"),
        ({"nominated": False}, "not_nominated"),
        ({"nominated": True}, "nominated"),
        ({"nominated": True, "champion": True}, "champion"),
        ({"nominated": True, "champion": True, "winner": True}, "winner"),
        ({"nominated": True, "winner": True}, "winner"),
        ({"nominated": True, "champion": True, "winner": True, "withdrawn": True}, "withdrawn"),
        ({"withdrawn": True}, "withdrawn"),
        ({"nominated": False, "withdrawn": True}, "withdrawn"),
    ],
)
def test_status_of_a_record(facts: dict[str, Any], status: LifecycleStatus) -> None:
    assert _record(**facts).status == status


def test_a_champion_seen_before_its_nomination_is_a_champion() -> None:
    """Topics are not ordered with each other: results may arrive before the nomination."""
    assert _record(champion=True).status == "champion"
    assert _record(winner=True).status == "winner"


def test_votes_do_not_change_the_status() -> None:
    assert _record(nominated=True, votes=1234).status == "nominated"


PRECEDENCE: list[tuple[str, Any, LifecycleStatus]] = [
    ("withdrawn", True, "withdrawn"),
    ("winner", True, "winner"),
    ("champion", True, "champion"),
    ("nominated", True, "nominated"),
    ("nominated", False, "not_nominated"),
]


@pytest.mark.parametrize("rank", range(len(PRECEDENCE)))
def test_precedence_withdrawn_winner_champion_nominated_not_nominated_submitted(rank: int) -> None:
    """Whatever the lower-ranked facts, the highest-ranked fact decides the status."""
    field, value, status = PRECEDENCE[rank]
    lower = [(f, v) for f, v, _ in PRECEDENCE[rank + 1 :] if f != field]
    for size in range(len(lower) + 1):
        for combination in itertools.combinations(lower, size):
            facts = dict(combination)
            facts[field] = value
            assert _record(**facts).status == status, facts


@pytest.mark.parametrize(
    ("phase", "show_running_counts", "public"),
    [
        *[
            (phase, show, False)
            for phase in Phase
            if phase.order < Phase.VOTING.order
            for show in (False, True)
        ],
        (Phase.VOTING, False, False),
        (Phase.VOTING, True, True),
        (Phase.SELECTION, False, False),
        (Phase.RESULTS, False, True),
        (Phase.RESULTS, True, True),
        (Phase.CLOSED, False, True),
        (Phase.CLOSED, True, True),
    ],
)
def test_vote_counts_public(phase: Phase, show_running_counts: bool, public: bool) -> None:
    view = EditionView(year=YEAR, phase=phase, show_running_counts=show_running_counts)

    assert view.vote_counts_public() is public


def test_a_new_edition_hides_its_counts() -> None:
    assert EditionView(year=YEAR).vote_counts_public() is False


@pytest.mark.parametrize(
    ("phase", "show", "public"),
    [
        (Phase.VOTING, True, True),
        (Phase.SELECTION, True, True),
        (Phase.SELECTION, False, False),
        (Phase.REVIEW, True, False),
        (Phase.RESULTS, False, True),
    ],
)
def test_running_counts_stay_shown_from_voting_until_results(
    phase: Phase, show: bool, public: bool
) -> None:
    assert (
        EditionView(year=2027, phase=phase, show_running_counts=show).vote_counts_public() is public
    )
