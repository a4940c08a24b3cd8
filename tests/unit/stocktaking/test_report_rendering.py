"""The four editions of a report show the figures and nothing else: the numbers read back from
the PDF, the HTML tables, the CSV and the JSON equal the figures; every PDF page renders to a
non-blank image; the same figures give the same bytes; organisations' texts are shown, never run.

The rendered pages (PNG) and the HTML are left in `test-artifacts/reports/` for a person to look
at.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

import pypdfium2  # type: ignore[import-untyped]  # ships no type information
import pytest
from PIL import Image

from tests.unit.stocktaking.report_builders import (
    T0,
    YEAR,
    contribution,
    random_contributions,
    random_entries,
    record,
    tag,
)
from tests.unit.stocktaking.report_reading import between, count_rows, number, pdf_text
from wsis_shared.vocabulary import Category, Region, StakeholderType
from wsis_stocktaking.adapters.report_rendering import RENDERERS
from wsis_stocktaking.adapters.report_rendering.csv_export import render_csv
from wsis_stocktaking.adapters.report_rendering.html import render_html
from wsis_stocktaking.adapters.report_rendering.json_export import render_json
from wsis_stocktaking.adapters.report_rendering.pdf import render_pdf
from wsis_stocktaking.domain.reports import (
    Count,
    StocktakingReport,
    SuccessStoriesReport,
    stocktaking_report,
    success_stories,
)

ARTIFACTS: Final = Path(__file__).resolve().parents[3] / "test-artifacts" / "reports"
HOSTILE: Final = '<script>alert("x")</script> & =HYPERLINK("http://evil")'


@pytest.fixture(scope="module")
def report() -> StocktakingReport:
    contributions = [
        *random_contributions(400),
        contribution(
            "hostile",
            tag("C10", evidence=f"Ethics {HOSTILE}"),
            organisation=f"Org {HOSTILE}",
            title="Министерство цифрового развития",
            submitted_at=T0 + timedelta(days=60),
        ),
    ]
    return stocktaking_report(YEAR, random_entries(5_000), contributions)


@pytest.fixture(scope="module")
def stories() -> SuccessStoriesReport:
    records = []
    for index, category in enumerate(Category):
        for place in range(5 if index % 3 else 0):
            records.append(
                record(
                    f"{category.value}-{place}",
                    champion=True,
                    winner=place == 0,
                    entry_fields={
                        "category": category,
                        "title": f"Project {place} in {category.value}",
                        "organisation_name": HOSTILE if place == 1 else f"Org {index}-{place}",
                        "short_description": "Connected 300 rural schools. " * 12,
                        "website": "javascript:alert(1)" if place == 2 else "https://example.org",
                        "region": list(Region)[place],
                        "stakeholder_type": list(StakeholderType)[place],
                    },
                )
            )
    return success_stories(YEAR, records)


def _artifact(name: str, data: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)


# --- PDF --------------------------------------------------------------------------------------


def _table_rows(section: str, counts: tuple[Count, ...]) -> None:
    """Each figure's row shows its count and share beside its code, then its name."""
    rows = count_rows(section)
    assert list(rows) == [count.code for count in counts]
    for count in counts:
        entries, share, name = rows[count.code]
        assert (entries, share) == (count.count, count.share_percent)
        assert count.label.startswith(name)  # a long name wraps onto the next line


def test_the_numbers_in_the_pdf_equal_the_figures(report: StocktakingReport) -> None:
    text = pdf_text(render_pdf(report))
    headline = report.headline
    for name, value in (
        ("Entries counted", headline.entries_counted),
        ("Withdrawn entries left out", headline.entries_withdrawn),
        ("Countries", headline.countries),
        ("Nominated for the public vote", headline.nominated),
        ("Finalists (winners and champions)", headline.finalists),
        ("Winners", headline.winners),
        ("Entries naming no SDG", headline.entries_without_sdg),
        ("Contributions received", headline.contributions),
        ("Contributions counted for an action line", headline.contributions_in_effect),
    ):
        assert re.search(rf"^\s*{re.escape(name)}\s+{value:,}\s*$", text, re.MULTILINE), name
    sections = [
        ("Entries by action line", report.by_action_line),
        ("Entries by prize category", report.by_category),
        ("Entries by region", report.by_region),
        ("Entries by stakeholder type", report.by_stakeholder_type),
        ("Entries by Sustainable Development Goal", report.by_sdg),
    ]
    for (heading, counts), following in zip(
        sections, [*(heading for heading, _ in sections[1:]), "The WSIS–SDG matrix"], strict=True
    ):
        _table_rows(between(text, heading, following), counts)

    matrix = between(text, "The WSIS–SDG matrix", "Contributions by action line")
    for row in report.matrix:
        found = re.findall(
            rf"^\s*{row.action_line.value}((?:\s+[\d,]+){{17}})\s*$", matrix, re.MULTILINE
        )
        assert len(found) == 1, row.action_line
        assert tuple(number(cell) for cell in found[0].split()) == row.counts

    contributions = between(text, "Contributions by action line", "Highlights from")
    for section in report.contributions:
        found = re.findall(
            rf"^\s*{section.action_line.value}\s{{2,}}([\d,]+)\s+([\d,]+)\s{{2,}}.+$",
            contributions,
            re.MULTILINE,
        )
        assert [(number(a), number(b)) for a, b in found] == [
            (section.in_effect, section.awaiting_editor)
        ]
    flat = re.sub(r"\s+", " ", between(text, "Highlights from", None))
    for section in report.contributions:
        for highlight in section.highlights:
            assert highlight.title in flat
    assert 'Org <script>alert("x")</script> &' in flat  # shown as text, verbatim


def test_scripts_the_pdf_font_lacks_and_control_characters_do_not_break_the_pdf() -> None:
    """The PDF font covers Latin, Greek and Cyrillic; other scripts show as empty boxes there
    (the HTML edition shows every script), but never stop the report."""
    report = stocktaking_report(
        YEAR, [], [contribution("far", tag("C3"), title="数字 العربية \x00\x07\u200b Access 2027")]
    )
    text = pdf_text(render_pdf(report))
    assert "Access 2027" in text


def test_the_numbers_in_the_success_stories_pdf_equal_the_figures(
    stories: SuccessStoriesReport,
) -> None:
    text = re.sub(r"\s+", " ", pdf_text(render_pdf(stories)))
    assert f"Winners: {stories.winners} · Champions: {stories.champions}" in text
    positions = []
    for section in stories.categories:
        for story in section.stories:
            positions.append(text.index(f"{story.role.upper()} {story.title}"))
    assert positions == sorted(positions)  # category order, the winner first
    assert text.count("No winner or champion has been announced") == sum(
        not section.stories for section in stories.categories
    )


def _non_white_share(pdf: bytes, name: str) -> list[float]:
    document = pypdfium2.PdfDocument(pdf)
    shares = []
    try:
        for index in range(len(document)):
            image = document[index].render(scale=1.0).to_pil()
            _artifact(f"{name}-page-{index + 1}.png", _png(image))
            grey = image.convert("L")
            histogram = grey.histogram()
            shares.append(1 - sum(histogram[245:]) / (grey.width * grey.height))
    finally:
        document.close()
    return shares


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_pdf_page_renders_to_a_page_with_content(
    report: StocktakingReport, stories: SuccessStoriesReport
) -> None:
    empty = stocktaking_report(YEAR, [])
    for name, document in (
        ("stocktaking-report", report),
        ("success-stories", stories),
        ("empty-edition", empty),
    ):
        shares = _non_white_share(render_pdf(document), name)
        assert len(shares) >= 2, name
        # A page with its footer alone has 0.2% ink; two headings and a line have 1.2%.
        assert min(shares) > 0.005, (name, shares)


# --- HTML -------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table of a page: its caption and the text of each row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._in_caption = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "caption":
            self._in_caption, self._caption = True, ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
            assert self._caption is not None
            self.tables[self._caption] = []
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._caption is not None:
            self.tables[self._caption].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_caption and self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def test_the_tables_of_the_html_equal_the_figures(report: StocktakingReport) -> None:
    html = render_html(report)
    _artifact("stocktaking-report.html", html)
    parser = _Tables()
    parser.feed(html.decode())
    for caption, counts in (
        ("Entries by action line (table)", report.by_action_line),
        ("Entries by prize category (table)", report.by_category),
        ("Entries by region (table)", report.by_region),
        ("Entries by stakeholder type (table)", report.by_stakeholder_type),
        ("Entries by Sustainable Development Goal (table)", report.by_sdg),
    ):
        rows = parser.tables[caption][1:]
        assert rows == [[c.code, c.label, f"{c.count:,}", f"{c.share_percent}%"] for c in counts], (
            caption
        )
    matrix = parser.tables["The WSIS–SDG matrix (table): entries by action line and SDG"][1:]
    assert matrix == [
        [row.action_line.value, *(f"{count:,}" for count in row.counts)] for row in report.matrix
    ]
    contributions = parser.tables["Contributions by action line (table)"][1:]
    assert contributions == [
        [s.action_line.value, s.label, f"{s.in_effect:,}", f"{s.awaiting_editor:,}"]
        for s in report.contributions
    ]


def test_the_html_charts_are_named_svg_with_a_title_per_mark(report: StocktakingReport) -> None:
    html = render_html(report).decode()
    charts = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    assert len(charts) == 6  # five bar charts and the heat map
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    for chart in charts:
        # Well-formed XML, so any SVG viewer reads it (our own output: no untrusted XML here).
        svg = ElementTree.fromstring(chart)  # noqa: S314
        assert svg.get("role") == "img"
        labelled_by = (svg.get("aria-labelledby") or "").split()
        assert labelled_by
        assert set(labelled_by) <= ids
        namespace = "{http://www.w3.org/2000/svg}"
        assert svg.find(f"{namespace}title") is not None
        marks = svg.findall(f".//{namespace}rect")
        titled = [group for group in svg.iter(f"{namespace}g") if group.find(f"{namespace}rect")]
        assert marks
        assert all(group.find(f"{namespace}title") is not None for group in titled)
    heat_map = charts[-1]
    c4 = next(row for row in report.matrix if row.action_line.value == "C4")
    assert f"C4 × SDG 4 (Quality education): {c4.counts[3]:,} entries" in heat_map


def test_organisations_texts_are_shown_in_the_html_never_run(
    report: StocktakingReport, stories: SuccessStoriesReport
) -> None:
    for document in (report, stories):
        html = render_html(document).decode()
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;" in html
    stories_html = render_html(stories).decode()
    _artifact("success-stories.html", stories_html.encode())
    assert 'href="javascript:' not in stories_html
    assert 'href="https://example.org"' in stories_html


def test_the_html_says_when_highlights_are_only_suggestions() -> None:
    report = stocktaking_report(
        YEAR, [], [contribution("guess", tag("C3", source="inferred", confidence=0.95))]
    )
    html = render_html(report).decode()
    assert report.contributions_note is not None
    assert report.contributions_note in html
    assert "suggested (95% confidence)" in html


# --- CSV and JSON -----------------------------------------------------------------------------


def test_the_csv_holds_every_figure(report: StocktakingReport) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report).decode("utf-8-sig"))))
    values = {(row["table"], row["row"], row["column"]): row["value"] for row in rows}
    for table, counts in (
        ("by_action_line", report.by_action_line),
        ("by_category", report.by_category),
        ("by_region", report.by_region),
        ("by_stakeholder_type", report.by_stakeholder_type),
        ("by_sdg", report.by_sdg),
    ):
        for count in counts:
            assert int(values[table, count.code, ""]) == count.count
            assert float(values[f"{table}_share_percent", count.code, ""]) == count.share_percent
    for row in report.matrix:
        for sdg, cell in enumerate(row.counts, start=1):
            assert int(values["wsis_sdg_matrix", row.action_line.value, f"SDG{sdg}"]) == cell
    assert int(values["headline", "entries_counted", ""]) == report.headline.entries_counted


def test_the_success_stories_csv_has_a_row_per_story_and_no_formula(
    stories: SuccessStoriesReport,
) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(stories).decode("utf-8-sig"))))
    expected = [story for section in stories.categories for story in section.stories]
    assert [row["entry_id"] for row in rows] == [story.entry_id for story in expected]
    assert all(not row["organisation"].startswith(("=", "+", "-", "@")) for row in rows)


def test_the_json_is_the_figures(report: StocktakingReport) -> None:
    assert json.loads(render_json(report)) == report.model_dump(mode="json")
    assert StocktakingReport.model_validate_json(render_json(report)) == report


# --- reproducible -----------------------------------------------------------------------------


def test_the_same_inputs_give_byte_identical_documents() -> None:
    entries, contributions = random_entries(3_000, seed=3), random_contributions(200, seed=5)
    first = stocktaking_report(YEAR, entries, contributions)
    again = stocktaking_report(YEAR, list(reversed(entries)), list(reversed(contributions)))
    for renderer in RENDERERS:
        assert renderer.render(first) == renderer.render(again), renderer.format


def test_different_inputs_give_different_documents() -> None:
    """Guards the test above: a renderer that ignored its input would pass it."""
    first = stocktaking_report(YEAR, random_entries(300, seed=1))
    second = stocktaking_report(YEAR, random_entries(301, seed=1))
    for renderer in RENDERERS:
        assert renderer.render(first) != renderer.render(second), renderer.format
