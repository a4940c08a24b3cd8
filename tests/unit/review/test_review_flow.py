"""The review's use cases end to end on in-memory repositories: the expert group, eligibility,
assignment with declines, conflicts and overrides, scoring, nominations and winners."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.unit.review.fakes import FakeRunner, ReviewState
from wsis_review.domain.candidates import Candidate
from wsis_review.domain.editions import EditionReview, ReviewRules
from wsis_review.domain.reviewers import DeclaredConflict, ReviewerFields, ReviewerUpdate
from wsis_review.domain.reviews import CriterionScore, ReviewChanges
from wsis_review.service_layer import assignments, candidates, reviewers, reviews, winners
from wsis_review.service_layer.unit_of_work import UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PhaseClosed
from wsis_shared.events import (
    ChampionsList,
    EligibilityDecided,
    EntryPublic,
    Finalist,
    NominationDecided,
    ReviewAssigned,
    ReviewUnassigned,
    WinnerSelected,
)
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, Role, StakeholderType

YEAR = 2027
NOW = datetime(2027, 3, 1, tzinfo=UTC)
CHAIR = Principal(subject="chair", roles=frozenset({Role.CHAIR}))


def reviewer_principal(subject: str) -> Principal:
    return Principal(subject=subject, roles=frozenset({Role.REVIEWER}))


def entry(entry_id: str, organisation: str = "Org A", country: str = "KE") -> EntryPublic:
    return EntryPublic(
        entry_id=entry_id,
        category=Category.C4,
        title=f"Project {entry_id}",
        short_description="Digital skills for rural teachers.",
        organisation_id=f"id-{organisation}",
        organisation_name=organisation,
        country=country,
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        action_lines=(ActionLine.C4,),
        sdgs=(4,),
    )


def fields(organisation: str, country: str = "FR", max_load: int = 10) -> ReviewerFields:
    return ReviewerFields(
        name=f"Expert of {organisation}",
        email="expert@example.org",
        organisation=organisation,
        country=country,
        categories=(Category.C4,),
        max_load=max_load,
    )


async def setup(k: int = 2, entries: tuple[EntryPublic, ...] = (), experts: int = 4) -> FakeRunner:
    runner = FakeRunner(
        ReviewState(
            editions={
                YEAR: EditionReview(
                    year=YEAR, phase=Phase.REVIEW, rules=ReviewRules(reviewers_per_entry=k)
                )
            }
        )
    )
    for n in range(experts):
        await reviewers.add_reviewer(
            runner, reviewer_id=f"r{n}", fields=fields(f"Expert Org {n}"), by=CHAIR, now=NOW
        )
    for e in entries:
        runner.state.candidates[e.entry_id] = Candidate(
            entry=e, edition=YEAR, status="eligible", received_at=NOW
        )
    return runner


def active_pairs(runner: FakeRunner) -> set[tuple[str, str]]:
    return {
        (r.entry_id, r.reviewer_id)
        for r in runner.state.assignments.values()
        if r.status == "active"
    }


# --- the expert group ------------------------------------------------------------------------


async def test_a_reviewer_is_added_once() -> None:
    runner = await setup(experts=1)

    with pytest.raises(AlreadyExists):
        await reviewers.add_reviewer(
            runner, reviewer_id="r0", fields=fields("Other"), by=CHAIR, now=NOW
        )


CSV = """reviewer_id,name,email,organisation,country,languages,categories,max_load
ana,Ana Silva,ana@example.org,University of Lisbon,PT,pt;en,C4;C7.e-learning,20
bad-email,Bo,not-an-email,Org,SE,,C4,5
,No Id,x@example.org,Org,SE,,C4,5
cat,Cat,cat@example.org,Org,XX,,C99,5
ana,Ana again,ana2@example.org,Org,PT,,C4,5
"""


async def test_a_csv_import_reports_each_row_and_imports_the_valid_ones() -> None:
    runner = await setup(experts=0)

    report = await reviewers.import_reviewers(runner, text=CSV, dry_run=False, by=CHAIR, now=NOW)

    by_line = {r.row: r for r in report}
    assert by_line[2].outcome == "created"
    assert by_line[3].outcome == "error"
    assert {e["column"] for e in by_line[3].errors} == {"email"}
    assert {e["column"] for e in by_line[4].errors} == {"reviewer_id"}
    assert [e["column"] for e in by_line[5].errors] == ["country", "categories"]
    assert by_line[5].errors[1]["detail"].startswith("'C99' is not a prize category")
    assert not any(e["detail"].startswith("Value error") for e in by_line[5].errors)
    assert by_line[6].outcome == "error", "the same reviewer twice in one file"
    assert set(runner.state.reviewers) == {"ana"}
    ana = runner.state.reviewers["ana"]
    assert ana.languages == ("en", "pt")
    assert ana.categories == (Category.C4, Category.C7_E_LEARNING)


async def test_a_reimport_updates_the_filled_columns_and_keeps_the_rest() -> None:
    runner = await setup(experts=0)
    await reviewers.import_reviewers(runner, text=CSV, dry_run=False, by=CHAIR, now=NOW)
    runner.state.reviewers["ana"] = runner.state.reviewers["ana"].model_copy(
        update={"active": False}
    )

    again = "reviewer_id,name,email,organisation,country,categories\n"
    again += "ana,Ana Silva,ana@example.org,University of Porto,PT,C4\n"
    [row] = await reviewers.import_reviewers(runner, text=again, dry_run=False, by=CHAIR, now=NOW)

    ana = runner.state.reviewers["ana"]
    assert row.outcome == "updated"
    assert ana.organisation == "University of Porto"
    assert ana.categories == (Category.C4,)
    assert (ana.languages, ana.max_load, ana.active) == (("en", "pt"), 20, False)


async def test_deactivating_a_reviewer_hands_their_open_assignments_over() -> None:
    runner = await setup(k=1, entries=(entry("e1"),), experts=2)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    [(_, assigned)] = active_pairs(runner)

    await reviewers.update_reviewer(
        runner, reviewer_id=assigned, update=ReviewerUpdate(active=False), by=CHAIR, now=NOW
    )

    [(_, replacement)] = active_pairs(runner)
    assert replacement != assigned
    ended = runner.state.assignments[f"e1:{assigned}"]
    assert ended.ended_reason == "reviewer_deactivated"


async def test_a_dry_run_changes_nothing_and_a_missing_column_is_refused() -> None:
    runner = await setup(experts=0)

    report = await reviewers.import_reviewers(runner, text=CSV, dry_run=True, by=CHAIR, now=NOW)

    assert report[0].outcome == "valid"
    assert runner.state.reviewers == {}
    with pytest.raises(InvalidInput, match="email"):
        await reviewers.import_reviewers(
            runner, text="reviewer_id,name\nx,y\n", dry_run=False, by=CHAIR, now=NOW
        )


# --- eligibility and assignment ----------------------------------------------------------------


async def test_eligibility_needs_a_reason_when_refused_and_publishes_the_decision() -> None:
    runner = await setup()
    runner.state.candidates["e1"] = Candidate(entry=entry("e1"), edition=YEAR, received_at=NOW)

    with pytest.raises(InvalidInput, match="why"):
        await candidates.decide_eligibility(
            runner, entry_id="e1", eligible=False, reason=None, note=None, by=CHAIR, now=NOW
        )
    decided = await candidates.decide_eligibility(
        runner,
        entry_id="e1",
        eligible=False,
        reason="project_not_completed",
        note="still a pilot",
        by=CHAIR,
        now=NOW,
    )

    assert decided.status == "ineligible"
    [(event, _)] = runner.published
    assert isinstance(event, EligibilityDecided)
    assert (event.payload.eligible, event.payload.reason) == (False, "project_not_completed")


async def test_a_run_assigns_k_reviewers_without_conflicts_and_a_rerun_moves_nothing() -> None:
    runner = await setup(
        k=2, entries=(entry("e1", "Expert Org 0"), entry("e2"), entry("e3")), experts=4
    )

    run = await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)

    pairs = active_pairs(runner)
    assert len(pairs) == 6
    assert run.plan.uncovered == ()
    assert ("e1", "r0") not in pairs, "r0 works for the organisation that submitted e1"
    assert run.plan.spread <= 1
    assert all(isinstance(e, ReviewAssigned) for e, _ in runner.published)
    assert len(runner.published) == 6

    again = await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    assert again.plan.new_pairs == ()
    assert active_pairs(runner) == pairs


async def test_a_late_entry_gets_reviewers_and_the_others_keep_theirs() -> None:
    runner = await setup(k=2, entries=(entry("e1"), entry("e2")), experts=4)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    before = active_pairs(runner)

    runner.state.candidates["e3"] = Candidate(
        entry=entry("e3"), edition=YEAR, status="eligible", received_at=NOW
    )
    run = await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)

    assert {p.entry_id for p in run.plan.new_pairs} == {"e3"}
    assert before < active_pairs(runner)


async def test_assignment_is_refused_outside_the_review_phase() -> None:
    runner = await setup(entries=(entry("e1"),))
    runner.state.editions[YEAR].phase = Phase.VOTING

    with pytest.raises(PhaseClosed):
        await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)


async def test_an_uncoverable_entry_is_reported_with_its_reason() -> None:
    runner = await setup(k=2, entries=(entry("e1", "Expert Org 0"),), experts=2)

    run = await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)

    [uncovered] = run.plan.uncovered
    assert uncovered.entry_id == "e1"
    assert uncovered.missing == 1
    assert "same organisation" in uncovered.reason


async def test_a_decline_finds_a_replacement_for_that_entry_only() -> None:
    runner = await setup(k=2, entries=(entry("e1"), entry("e2")), experts=5)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    runner.published.clear()
    declining = sorted(r for e, r in active_pairs(runner) if e == "e1")[0]
    others = {p for p in active_pairs(runner) if p[0] == "e2"}

    await assignments.decline(
        runner,
        entry_id="e1",
        reviewer=reviewer_principal(declining),
        reason="I advised this team last year",
        now=NOW,
    )

    e1 = {r for e, r in active_pairs(runner) if e == "e1"}
    assert len(e1) == 2
    assert declining not in e1
    assert {p for p in active_pairs(runner) if p[0] == "e2"} == others
    kinds = [type(e) for e, _ in runner.published]
    assert kinds == [ReviewUnassigned, ReviewAssigned]
    record = runner.state.assignments[f"e1:{declining}"]
    assert (record.status, record.decline_reason) == ("declined", "I advised this team last year")


async def test_nobody_declines_or_scores_another_reviewers_assignment() -> None:
    runner = await setup(k=1, entries=(entry("e1"),), experts=2)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    [(_, assigned)] = active_pairs(runner)
    other = "r1" if assigned == "r0" else "r0"

    with pytest.raises(NotFound):
        await assignments.decline(
            runner, entry_id="e1", reviewer=reviewer_principal(other), reason="not mine", now=NOW
        )
    with pytest.raises(NotFound):
        await assignments.my_assignment(runner, entry_id="e1", reviewer=reviewer_principal(other))
    with pytest.raises(NotFound):
        await reviews.save_review(
            runner,
            entry_id="e1",
            changes=ReviewChanges(overall_comment="sneaky"),
            reviewer=reviewer_principal(other),
            now=NOW,
        )
    assert runner.state.reviews == {}


async def test_a_declared_conflict_hands_open_assignments_to_someone_else() -> None:
    runner = await setup(k=1, entries=(entry("e1", "Org A"),), experts=2)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    [(_, assigned)] = active_pairs(runner)

    await assignments.declare_conflict(
        runner,
        reviewer=reviewer_principal(assigned),
        conflict=DeclaredConflict(organisation="  org a "),
        now=NOW,
    )

    [(_, replacement)] = active_pairs(runner)
    assert replacement != assigned
    assert runner.state.reviewers[assigned].conflict_organisations == ("org a",)


async def test_a_conflict_declared_in_another_unicode_form_is_the_same_organisation() -> None:
    sao_paulo = "Universidade de São Paulo"
    decomposed = unicodedata.normalize("NFD", sao_paulo)  # a + combining tilde
    runner = await setup(k=1, entries=(entry("e1", sao_paulo),), experts=2)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    [(_, assigned)] = active_pairs(runner)

    for typed in (decomposed, sao_paulo.upper()):
        await assignments.declare_conflict(
            runner,
            reviewer=reviewer_principal(assigned),
            conflict=DeclaredConflict(organisation=typed),
            now=NOW,
        )

    [(_, replacement)] = active_pairs(runner)
    assert replacement != assigned
    declared = runner.state.reviewers[assigned].conflict_organisations
    assert len(declared) == 1, f"one organisation, declared twice in two forms: {declared}"


async def test_an_imported_reviewer_id_follows_the_rule_of_post_reviewers() -> None:
    runner = await setup(experts=0)
    header = "reviewer_id,name,email,organisation,country,categories\n"
    ids = ["kenji sato", "x/y", "a" * 5000, "ken\x00ji", "fine.id@example:org-1"]
    text = header + "".join(f'"{i}",N,n@example.org,Org,JP,C4\n' for i in ids)

    report = await reviewers.import_reviewers(runner, text=text, dry_run=False, by=CHAIR, now=NOW)

    assert [r.outcome for r in report] == ["error"] * 4 + ["created"]
    for row in report[:4]:
        assert [e["column"] for e in row.errors] == ["reviewer_id"], row.errors
    assert "at most 200 characters" in report[2].errors[0]["detail"]
    assert set(runner.state.reviewers) == {"fine.id@example:org-1"}


async def test_import_rows_are_numbered_by_the_line_they_start_on() -> None:
    runner = await setup(experts=0)
    text = (
        "reviewer_id,name,email,organisation,country,categories\n"  # line 1
        "kenji,Kenji,kenji@example.org,Keio,JP,C4\n"  # 2
        "\n"  # 3: blank
        'lucia,Lucía,lucia@example.org,"Fiocruz\nRio",BR,C4\n'  # 4 and 5
        "\r\n"  # 6: blank
        "tomas,Tomas,tomas@,Charles,XZ,C12\r\n"  # 7
    )

    report = await reviewers.import_reviewers(runner, text=text, dry_run=True, by=CHAIR, now=NOW)

    assert [(r.row, r.reviewer_id) for r in report] == [(2, "kenji"), (4, "lucia"), (7, "tomas")]


async def test_the_chair_override_refuses_a_conflicted_reviewer() -> None:
    runner = await setup(k=1, entries=(entry("e1", "Expert Org 0"),), experts=3)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)

    with pytest.raises(Conflict, match="same organisation"):
        await assignments.override(
            runner,
            entry_id="e1",
            add_reviewer_id="r0",
            remove_reviewer_id=None,
            chair=CHAIR,
            now=NOW,
        )
    [(_, assigned)] = active_pairs(runner)
    free = ({"r1", "r2"} - {assigned}).pop()
    records = await assignments.override(
        runner,
        entry_id="e1",
        add_reviewer_id=free,
        remove_reviewer_id=assigned,
        chair=CHAIR,
        now=NOW,
    )
    assert [(r.reviewer_id, r.assigned_by) for r in records] == [(free, "chair")]


async def test_an_ineligible_entry_frees_its_reviewers() -> None:
    runner = await setup(k=2, entries=(entry("e1"),), experts=3)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)

    await candidates.decide_eligibility(
        runner, entry_id="e1", eligible=False, reason="duplicate", note=None, by=CHAIR, now=NOW
    )

    assert active_pairs(runner) == set()


# --- scoring, ranking, nominations ---------------------------------------------------------


FULL = ReviewChanges(
    scores={
        key: CriterionScore(score=8, comment="good")
        for key in ("impact", "innovation", "sustainability", "replicability", "alignment")
    },
    recommendation="nominate",
)


async def _score(runner: FakeRunner, entry_id: str, reviewer_id: str, mark: int) -> None:
    changes = FULL.model_copy(
        update={"scores": {k: CriterionScore(score=mark) for k in FULL.scores}}
    )
    principal = reviewer_principal(reviewer_id)
    await reviews.save_review(
        runner, entry_id=entry_id, changes=changes, reviewer=principal, now=NOW
    )
    await reviews.submit_review(runner, entry_id=entry_id, reviewer=principal, now=NOW)


async def test_scoring_is_audited_and_closes_with_the_review_phase() -> None:
    runner = await setup(k=1, entries=(entry("e1"),), experts=1)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    r0 = reviewer_principal("r0")

    await reviews.save_review(
        runner, entry_id="e1", changes=ReviewChanges(overall_comment="draft"), reviewer=r0, now=NOW
    )
    with pytest.raises(InvalidInput):
        await reviews.submit_review(runner, entry_id="e1", reviewer=r0, now=NOW)
    await _score(runner, "e1", "r0", 7)

    trail = await reviews.review_trail(runner, entry_id="e1")
    assert [a.action for a in trail if a.subject.startswith("review:")] == [
        "saved",
        "saved",
        "submitted",
    ]
    runner.state.editions[YEAR].phase = Phase.VOTING
    with pytest.raises(PhaseClosed):
        await reviews.save_review(
            runner,
            entry_id="e1",
            changes=ReviewChanges(overall_comment="late"),
            reviewer=r0,
            now=NOW + timedelta(days=40),
        )


async def test_bulk_nomination_takes_the_top_of_each_category_with_review_figures() -> None:
    runner = await setup(k=1, entries=(entry("e1"), entry("e2"), entry("e3")), experts=1)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    for entry_id, mark in (("e1", 5), ("e2", 9), ("e3", 7)):
        await _score(runner, entry_id, "r0", mark)
    runner.published.clear()

    preview = await candidates.nominate_in_bulk(
        runner,
        edition_year=YEAR,
        top_per_category=2,
        min_normalised_score=None,
        categories=None,
        reason=None,
        dry_run=True,
        chair=CHAIR,
        now=NOW,
    )
    assert [c.entry_id for c in preview] == ["e2", "e3"]
    assert runner.published == []

    await candidates.nominate_in_bulk(
        runner,
        edition_year=YEAR,
        top_per_category=2,
        min_normalised_score=None,
        categories=(Category.C4,),
        reason="top two",
        dry_run=False,
        chair=CHAIR,
        now=NOW,
    )
    events = [e for e, _ in runner.published]
    assert all(isinstance(e, NominationDecided) for e in events)
    assert [e.aggregate_id for e in events] == ["e2", "e3"]
    summary = events[0].payload.review_summary  # type: ignore[attr-defined]
    assert summary is not None
    assert summary.reviews == 1
    assert summary.weighted_mean == pytest.approx(10 * 8 / 9, abs=1e-3)
    assert runner.state.candidates["e1"].status == "eligible"


async def test_a_category_named_twice_is_nominated_from_once_in_a_dry_run_too() -> None:
    runner = await setup(k=1, entries=(entry("e1"), entry("e2")), experts=1)
    await assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW)
    for entry_id, mark in (("e1", 5), ("e2", 9)):
        await _score(runner, entry_id, "r0", mark)

    async def nominate(dry_run: bool) -> list[str]:
        chosen = await candidates.nominate_in_bulk(
            runner,
            edition_year=YEAR,
            top_per_category=5,
            min_normalised_score=None,
            categories=(Category.C4, Category.C4),
            reason=None,
            dry_run=dry_run,
            chair=CHAIR,
            now=NOW,
        )
        return [c.entry_id for c in chosen]

    assert await nominate(dry_run=True) == ["e2", "e1"]
    assert await nominate(dry_run=False) == ["e2", "e1"]


# --- winners ---------------------------------------------------------------------------------


async def test_the_winner_is_one_of_the_five_finalists_once() -> None:
    runner = await setup(experts=0)
    finalists = tuple(Finalist(entry_id=f"f{n}", votes=100 - n, rank=n) for n in range(1, 6))

    async def announce(uow: UnitOfWork) -> None:
        await winners.record_finalists(
            uow,
            YEAR,
            ChampionsList(category=Category.C4, finalists=finalists, tie_break_rule="earliest"),
            NOW,
        )

    await runner.run(announce)
    with pytest.raises(InvalidInput, match="not one of the finalists"):
        await winners.select_winner(
            runner, year=YEAR, category=Category.C4, entry_id="e9", chair=CHAIR, now=NOW
        )
    with pytest.raises(NotFound):
        await winners.select_winner(
            runner, year=YEAR, category=Category.C5, entry_id="f1", chair=CHAIR, now=NOW
        )
    await winners.select_winner(
        runner, year=YEAR, category=Category.C4, entry_id="f3", chair=CHAIR, now=NOW
    )
    with pytest.raises(Conflict, match="exactly one winner"):
        await winners.select_winner(
            runner, year=YEAR, category=Category.C4, entry_id="f1", chair=CHAIR, now=NOW
        )

    [(event, _)] = runner.published
    assert isinstance(event, WinnerSelected)
    assert event.payload.winner_entry_id == "f3"
    assert event.payload.champion_entry_ids == ("f1", "f2", "f4", "f5")


@pytest.mark.parametrize(
    "change", [{"name": "Ana\u202e"}, {"organisation": "Uni\u0000versity"}, {"name": "Ana\nBo"}]
)
def test_a_reviewers_name_and_organisation_are_one_line_of_visible_text(
    change: dict[str, str],
) -> None:
    with pytest.raises(ValidationError, match="invisible character"):
        ReviewerFields.model_validate(fields("University").model_dump() | change)
    with pytest.raises(ValidationError, match="invisible character"):
        ReviewerUpdate.model_validate(change)
