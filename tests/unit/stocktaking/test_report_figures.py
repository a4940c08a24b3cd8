"""The figures of the Stocktaking Report and the Success Stories, from entries and contributions."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.stocktaking.report_builders import (
    T0,
    YEAR,
    contribution,
    entry,
    random_contributions,
    random_entries,
    record,
    tag,
)
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.reports import (
    HIGHLIGHTS_PER_ACTION_LINE,
    ActionLineContributions,
    ReportEntry,
    StocktakingReport,
    excerpt,
    stocktaking_report,
    success_stories,
)


def _count(counts: tuple[object, ...], code: str) -> int:
    for item in counts:
        if getattr(item, "code", None) == code:
            return int(getattr(item, "count"))  # noqa: B009
    raise AssertionError(f"no figure {code}")


def _section(report: StocktakingReport, line: ActionLine) -> ActionLineContributions:
    return next(section for section in report.contributions if section.action_line is line)


# --- which entries count ----------------------------------------------------------------------


def test_an_edition_without_entries_gives_every_figure_as_zero() -> None:
    report = stocktaking_report(YEAR, [])
    assert report.as_of is None
    assert report.headline.entries_counted == 0
    assert [count.code for count in report.by_action_line] == [line.value for line in ActionLine]
    assert [count.code for count in report.by_category] == [c.value for c in Category]
    assert [count.code for count in report.by_region] == [region.value for region in Region]
    assert len(report.by_stakeholder_type) == len(StakeholderType)
    assert [count.code for count in report.by_sdg] == [f"SDG{sdg}" for sdg in range(1, 18)]
    assert all(count.count == 0 and count.share_percent == 0.0 for count in report.by_category)
    assert len(report.matrix) == 11
    assert all(row.counts == (0,) * 17 for row in report.matrix)
    assert report.matrix_max == 0
    assert report.contributions_note == "No contribution has been received for this edition yet."


def test_withdrawn_entries_are_left_out_and_said_to_be() -> None:
    report = stocktaking_report(
        YEAR,
        [
            entry("kept"),
            entry("withdrawn", withdrawn=True, updated_at=T0 + timedelta(days=2)),
        ],
    )
    assert report.headline.entries_counted == 1
    assert report.headline.entries_withdrawn == 1
    assert _count(report.by_category, "C4") == 1
    # A withdrawal is a change of the data: it dates the report.
    assert report.as_of == T0 + timedelta(days=2)
    assert "not been withdrawn" in report.counting_rule


def test_an_entry_counts_for_its_categorys_action_line_and_the_ones_it_names() -> None:
    report = stocktaking_report(
        YEAR,
        [
            entry("health", category=Category.C7_E_HEALTH, named_action_lines=(ActionLine.C4,)),
            entry("again", category=Category.C4, named_action_lines=(ActionLine.C4,)),
        ],
    )
    assert _count(report.by_action_line, "C7") == 1
    assert _count(report.by_action_line, "C4") == 2  # named twice by "again": counted once
    assert _count(report.by_category, "C7.e-health") == 1
    assert sum(count.count for count in report.by_category) == 2


def test_the_matrix_crosses_every_action_line_of_an_entry_with_every_sdg() -> None:
    report = stocktaking_report(
        YEAR,
        [
            entry(
                "one",
                category=Category.C7_E_LEARNING,
                named_action_lines=(ActionLine.C4,),
                sdgs=frozenset({4, 10}),
            )
        ],
    )
    cells = {
        (row.action_line.value, sdg): count
        for row in report.matrix
        for sdg, count in enumerate(row.counts, start=1)
        if count
    }
    assert cells == {("C4", 4): 1, ("C4", 10): 1, ("C7", 4): 1, ("C7", 10): 1}
    assert report.matrix_max == 1


def test_sdgs_outside_1_to_17_are_not_counted_and_entries_without_one_are() -> None:
    report = stocktaking_report(
        YEAR, [entry("odd", sdgs=frozenset({0, 18})), entry("none", sdgs=frozenset())]
    )
    assert sum(count.count for count in report.by_sdg) == 0
    assert report.headline.entries_without_sdg == 2


def test_headline_counts_of_the_lifecycle_and_countries() -> None:
    report = stocktaking_report(
        YEAR,
        [
            entry("a", nominated=True, country="ke"),
            entry("b", champion=True, country="KE"),
            entry("c", champion=True, winner=True, country="CH"),
            entry("d"),
        ],
    )
    headline = report.headline
    assert (headline.nominated, headline.finalists, headline.winners) == (3, 2, 1)
    assert headline.countries == 2
    assert _count(report.by_region, "Africa") == 4
    shares = {count.code: count.share_percent for count in report.by_stakeholder_type}
    assert shares["government"] == 100.0


def test_a_record_without_its_submission_is_no_entry_yet() -> None:
    assert ReportEntry.of(CatalogueRecord(entry_id="x", edition=YEAR, votes=3)) is None
    built = ReportEntry.of(record("x", entry_fields={"category": Category.C7_E_HEALTH}))
    assert built is not None
    assert built.action_lines == {ActionLine.C7, ActionLine.C4}


entries_strategy = st.lists(
    st.builds(
        ReportEntry,
        entry_id=st.uuids().map(str),
        category=st.sampled_from(list(Category)),
        action_lines=st.frozensets(st.sampled_from(list(ActionLine)), max_size=4),
        sdgs=st.frozensets(st.integers(min_value=0, max_value=19), max_size=5),
        region=st.sampled_from(list(Region)),
        stakeholder_type=st.sampled_from(list(StakeholderType)),
        country=st.sampled_from(["KE", "CH", "BR"]),
        withdrawn=st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(entries_strategy, st.randoms(use_true_random=False))
def test_figures_equal_a_direct_count_whatever_the_order(
    entries: list[ReportEntry], shuffler: random.Random
) -> None:
    report = stocktaking_report(YEAR, entries)
    counted = [e for e in entries if not e.withdrawn]
    assert report.headline.entries_counted == len(counted)
    assert sum(count.count for count in report.by_category) == len(counted)
    for line in ActionLine:
        assert _count(report.by_action_line, line.value) == sum(
            line in e.action_lines for e in counted
        )
    for row in report.matrix:
        for sdg, cell in enumerate(row.counts, start=1):
            assert cell == sum(row.action_line in e.action_lines and sdg in e.sdgs for e in counted)
    for sdg in range(1, 18):
        assert _count(report.by_sdg, f"SDG{sdg}") == sum(sdg in e.sdgs for e in counted)
    shuffled = list(entries)
    shuffler.shuffle(shuffled)
    assert stocktaking_report(YEAR, shuffled) == report


# --- contributions ----------------------------------------------------------------------------


def test_only_tags_in_effect_count_for_an_action_line() -> None:
    report = stocktaking_report(
        YEAR,
        [],
        [
            contribution("explicit", tag("C4")),
            contribution("editor", tag("C4", source="editor", confidence=0.5)),
            contribution("confirmed", tag("C4", source="inferred", decision="confirmed")),
            contribution("rejected", tag("C4", decision="rejected")),
            contribution("unconfirmed", tag("C4", source="inferred", confidence=0.9)),
            contribution("sdg only", tag("SDG4", kind="sdg")),
        ],
    )
    section = _section(report, ActionLine.C4)
    assert section.in_effect == 3
    assert section.awaiting_editor == 1
    assert section.highlights_basis == "in-effect"
    assert {h.contribution_id for h in section.highlights} == {"explicit", "editor", "confirmed"}
    assert report.headline.contributions == 6
    assert report.headline.contributions_in_effect == 3


def test_c7_applications_count_for_c7_once_per_contribution() -> None:
    report = stocktaking_report(
        YEAR,
        [],
        [
            contribution(
                "health",
                tag("C7.e-health", confidence=1.0, evidence="Telemedicine in 40 clinics."),
                tag("C7", source="editor", confidence=0.6, evidence=None),
            )
        ],
    )
    section = _section(report, ActionLine.C7)
    assert section.in_effect == 1
    assert [h.evidence for h in section.highlights] == ["Telemedicine in 40 clinics."]


def test_highlights_are_bounded_and_ordered_by_confidence_recency_and_id() -> None:
    contributions = [
        contribution(
            f"c{number:02d}",
            tag("C4", source="editor", confidence=0.5 + number / 100),
            submitted_at=T0,
        )
        for number in range(12)
    ]
    contributions += [
        contribution("tie-old", tag("C4", confidence=1.0), submitted_at=T0),
        contribution("tie-new", tag("C4", confidence=1.0), submitted_at=T0 + timedelta(days=1)),
        contribution("tie-new-b", tag("C4", confidence=1.0), submitted_at=T0 + timedelta(days=1)),
    ]
    section = _section(stocktaking_report(YEAR, [], contributions), ActionLine.C4)
    assert section.in_effect == 15
    assert len(section.highlights) == HIGHLIGHTS_PER_ACTION_LINE
    assert [h.contribution_id for h in section.highlights] == [
        "tie-new",
        "tie-new-b",
        "tie-old",
        "c11",
        "c10",
    ]
    reversed_order = stocktaking_report(YEAR, [], list(reversed(contributions)))
    assert _section(reversed_order, ActionLine.C4) == section


def test_without_any_tag_in_effect_the_report_shows_confident_suggestions_marked() -> None:
    report = stocktaking_report(
        YEAR,
        [],
        [
            contribution("strong", tag("C5", source="inferred", confidence=0.92)),
            contribution("weak", tag("C5", source="inferred", confidence=0.4)),
            contribution("weak only", tag("C9", source="inferred", confidence=0.3)),
        ],
    )
    c5, c9 = _section(report, ActionLine.C5), _section(report, ActionLine.C9)
    assert (c5.in_effect, c5.awaiting_editor, c5.highlights_basis) == (0, 2, "suggested")
    assert [(h.contribution_id, h.suggested) for h in c5.highlights] == [("strong", True)]
    assert (c9.highlights_basis, c9.highlights, c9.awaiting_editor) == ("none", (), 1)
    assert report.headline.contributions_in_effect == 0
    assert report.contributions_note is not None
    assert "no editor has confirmed" in report.contributions_note


def test_contributions_of_other_editions_are_ignored_and_duplicates_count_once() -> None:
    report = stocktaking_report(
        YEAR,
        [],
        [
            contribution("same", tag("C4")),
            contribution("same", tag("C4")),
            contribution("older", tag("C4"), edition=YEAR - 1),
        ],
    )
    assert report.headline.contributions == 1
    assert _section(report, ActionLine.C4).in_effect == 1


def test_a_contribution_dates_the_report_when_it_is_the_newest_input() -> None:
    later = T0 + timedelta(days=30)
    report = stocktaking_report(YEAR, [entry()], [contribution("c", submitted_at=later)])
    assert report.as_of == later


def test_the_evidence_is_one_line_cut_at_a_word() -> None:
    assert excerpt("  We trained\n 500   teachers. ") == "We trained 500 teachers."
    assert excerpt("   ") is None
    long = "word " * 200
    cut = excerpt(long, limit=50)
    assert cut is not None
    assert len(cut) <= 50
    assert cut.endswith("word…")


def test_the_same_inputs_give_equal_reports() -> None:
    entries, contributions = random_entries(2_000), random_contributions(300)
    first = stocktaking_report(YEAR, entries, contributions)
    second = stocktaking_report(YEAR, reversed(entries), reversed(contributions))
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


# --- success stories --------------------------------------------------------------------------


def test_success_stories_are_winner_first_then_champions_by_title_per_category() -> None:
    records = [
        record("b", champion=True, entry_fields={"title": "Beta"}),
        record("w", champion=True, winner=True, entry_fields={"title": "Zulu"}),
        record("a", champion=True, entry_fields={"title": "alpha"}),
        record(
            "h",
            winner=True,
            entry_fields={"category": Category.C7_E_HEALTH, "title": "Health"},
            updated_at=T0 + timedelta(days=3),
        ),
        record("gone", champion=True, withdrawn=True, updated_at=T0 + timedelta(days=9)),
        record("other year", winner=True, edition=YEAR - 1),
        record("nominee", nominated=True),
    ]
    report = success_stories(YEAR, records)
    by_category = {section.category: section for section in report.categories}
    assert list(by_category) == list(Category)
    assert [(s.entry_id, s.role) for s in by_category[Category.C4].stories] == [
        ("w", "winner"),
        ("a", "champion"),
        ("b", "champion"),
    ]
    assert [s.entry_id for s in by_category[Category.C7_E_HEALTH].stories] == ["h"]
    assert by_category[Category.C1].stories == ()
    assert (report.winners, report.champions) == (2, 2)
    assert report.as_of == T0 + timedelta(days=3)
    story = by_category[Category.C4].stories[0]
    assert story.description == "What project w did, in about 150 words."
    assert story.organisation == "Organisation of w"


def test_success_stories_of_an_edition_without_results_are_empty_not_an_error() -> None:
    report = success_stories(YEAR, [])
    assert (report.winners, report.champions, report.as_of) == (0, 0, None)
    assert len(report.categories) == 18
