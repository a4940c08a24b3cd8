"""The PDF edition of a report, typeset with ReportLab: the same figures as the HTML, as vector
charts (reportlab.graphics) beside tables, a heat map of the WSIS–SDG matrix, and a bounded
number of contribution highlights, so the document stays a readable report at any catalogue size.

Reproducible: `invariant=1` fixes the creation date and the document id, and every input is
iterated in the order the figures give, so the same figures give the same bytes.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

import reportlab  # type: ignore[import-untyped]  # ReportLab ships no type information
from reportlab.graphics.shapes import Drawing, Rect, String  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wsis_stocktaking.adapters.report_rendering.charts import (
    BAR_COLOUR,
    bars,
    dated,
    format_count,
    heat_colour,
    heat_text_colour,
)
from wsis_stocktaking.domain.reports import (
    SDGS,
    ActionLineContributions,
    Count,
    Report,
    StocktakingReport,
    SuccessStoriesReport,
)

MEDIA_TYPE: Final = "application/pdf"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 16 * mm
FRAME_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN

FONT: Final = "WsisSans"
FONT_BOLD: Final = "WsisSans-Bold"
# DejaVu covers Latin, Greek, Cyrillic and more of the world's organisation names; ReportLab's
# own Vera (Latin only) keeps the service working on a machine without it.
_FONT_CANDIDATES: Final = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
        Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf",
    ),
)

INK: Final = colors.HexColor("#1a1a1a")
ACCENT: Final = colors.HexColor("#08306b")
RULE: Final = colors.HexColor("#c6dbef")
MUTED: Final = colors.HexColor("#444444")
SUGGESTED: Final = colors.HexColor("#7a4a00")


# ReportLab keeps fonts and caches in module state and does not promise thread safety; reports
# are rendered in worker threads, so one PDF is built at a time per process.
_ONE_AT_A_TIME: Final = threading.Lock()


@cache
def _register_fonts() -> None:
    regular, bold = next(
        (pair for pair in _FONT_CANDIDATES if pair[0].is_file() and pair[1].is_file()),
        _FONT_CANDIDATES[-1],
    )
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _style(name: str, **overrides: Any) -> ParagraphStyle:
    values: dict[str, Any] = {"fontName": FONT, "fontSize": 9, "leading": 12, "textColor": INK}
    return ParagraphStyle(name, **(values | overrides))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": _style("title", fontName=FONT_BOLD, fontSize=22, leading=27, textColor=ACCENT),
        "as_of": _style("as_of", fontSize=10, leading=14, textColor=MUTED, spaceAfter=10),
        "h1": _style(
            "h1",
            fontName=FONT_BOLD,
            fontSize=14,
            leading=18,
            textColor=ACCENT,
            spaceBefore=14,
            spaceAfter=6,
        ),
        "h2": _style(
            "h2",
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "body": _style("body", spaceAfter=4),
        "rule": _style(
            "rule",
            backColor=colors.HexColor("#f2f6fb"),
            borderPadding=5,
            spaceBefore=4,
            spaceAfter=10,
        ),
        "note": _style("note", textColor=MUTED, spaceAfter=4),
        "cell": _style("cell", fontSize=8, leading=10),
        "quote": _style(
            "quote", fontSize=8, leading=10.5, leftIndent=12, textColor=MUTED, spaceAfter=6
        ),
        "role": _style("role", fontName=FONT_BOLD, fontSize=8, leading=10, textColor=SUGGESTED),
        "story_title": _style("story_title", fontName=FONT_BOLD, fontSize=10.5, leading=13),
    }


def _text(value: str) -> str:
    """Paragraph markup of a user's text: escaped, without the control characters a PDF cannot
    show."""
    visible = "".join(
        character if character in "\n\t" or unicodedata.category(character) != "Cc" else " "
        for character in value
    )
    return escape(visible)


def _para(value: str, style: str) -> Paragraph:
    return Paragraph(value, _styles()[style])


# --- charts -----------------------------------------------------------------------------------

BAR_ROW: Final = 14.0
BAR_THICKNESS: Final = 9.0
BAR_LABEL_WIDTH: Final = 110.0
BAR_VALUE_WIDTH: Final = 80.0


def _bar_label(count: Count) -> str:
    if count.code.startswith("SDG"):
        return f"SDG {count.code.removeprefix('SDG')}"
    return count.code if len(count.code) <= 22 else count.label


def bar_chart(counts: Sequence[Count]) -> Drawing:
    rows = bars(counts)
    height = len(rows) * BAR_ROW + 4
    drawing = Drawing(FRAME_WIDTH, height)
    area = FRAME_WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    for index, (bar, count) in enumerate(zip(rows, counts, strict=True)):
        baseline = height - (index + 1) * BAR_ROW + 4
        drawing.add(
            String(
                BAR_LABEL_WIDTH - 5,
                baseline,
                _bar_label(count),
                fontName=FONT,
                fontSize=7.5,
                textAnchor="end",
                fillColor=INK,
            )
        )
        length = bar.fraction * area
        drawing.add(
            Rect(
                BAR_LABEL_WIDTH,
                baseline - 2,
                length,
                BAR_THICKNESS,
                fillColor=colors.HexColor(BAR_COLOUR),
                strokeColor=None,
            )
        )
        drawing.add(
            String(
                BAR_LABEL_WIDTH + length + 4,
                baseline,
                f"{format_count(bar.count)}",
                fontName=FONT,
                fontSize=7.5,
                fillColor=INK,
            )
        )
    return drawing


HEAT_LABEL_WIDTH: Final = 34.0
HEAT_CELL_WIDTH: Final = 26.5
HEAT_CELL_HEIGHT: Final = 17.0
HEAT_HEADER: Final = 16.0
HEAT_LEGEND: Final = 26.0


def heat_map(report: StocktakingReport) -> Drawing:
    """The matrix as coloured cells, each with its number, so the figure is its own table."""
    rows = report.matrix
    maximum = report.matrix_max
    grid_height = len(rows) * HEAT_CELL_HEIGHT
    height = HEAT_LEGEND + grid_height + HEAT_HEADER
    drawing = Drawing(HEAT_LABEL_WIDTH + len(SDGS) * HEAT_CELL_WIDTH + 2, height)
    top = HEAT_LEGEND + grid_height
    drawing.add(
        String(
            HEAT_LABEL_WIDTH - 4,
            top + 5,
            "SDG",
            fontName=FONT_BOLD,
            fontSize=7,
            textAnchor="end",
            fillColor=INK,
        )
    )
    for column, sdg in enumerate(SDGS):
        drawing.add(
            String(
                HEAT_LABEL_WIDTH + (column + 0.5) * HEAT_CELL_WIDTH,
                top + 5,
                str(sdg),
                fontName=FONT_BOLD,
                fontSize=7,
                textAnchor="middle",
                fillColor=INK,
            )
        )
    for index, row in enumerate(rows):
        y = top - (index + 1) * HEAT_CELL_HEIGHT
        drawing.add(
            String(
                HEAT_LABEL_WIDTH - 4,
                y + 6,
                row.action_line.value,
                fontName=FONT_BOLD,
                fontSize=7,
                textAnchor="end",
                fillColor=INK,
            )
        )
        for column, count in enumerate(row.counts):
            x = HEAT_LABEL_WIDTH + column * HEAT_CELL_WIDTH
            drawing.add(
                Rect(
                    x,
                    y,
                    HEAT_CELL_WIDTH,
                    HEAT_CELL_HEIGHT,
                    fillColor=colors.HexColor(heat_colour(count, maximum)),
                    strokeColor=colors.white,
                    strokeWidth=0.5,
                )
            )
            drawing.add(
                String(
                    x + HEAT_CELL_WIDTH / 2,
                    y + 6,
                    format_count(count),
                    fontName=FONT,
                    fontSize=6,
                    textAnchor="middle",
                    fillColor=colors.HexColor(heat_text_colour(count, maximum)),
                )
            )
    steps = 20
    for step in range(steps):
        drawing.add(
            Rect(
                HEAT_LABEL_WIDTH + step * 8,
                4,
                8,
                8,
                fillColor=colors.HexColor(heat_colour(step, steps - 1)),
                strokeColor=None,
            )
        )
    drawing.add(String(HEAT_LABEL_WIDTH - 4, 5, "0", fontName=FONT, fontSize=6.5, textAnchor="end"))
    drawing.add(
        String(
            HEAT_LABEL_WIDTH + steps * 8 + 4,
            5,
            f"{format_count(maximum)} entries",
            fontName=FONT,
            fontSize=6.5,
        )
    )
    return drawing


# --- tables -----------------------------------------------------------------------------------

_TABLE_STYLE: Final = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 0), (2, -1), "RIGHT"),
        ("LEFTPADDING", (3, 0), (3, -1), 12),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)


def count_table(counts: Sequence[Count], code_heading: str) -> Table:
    # The numbers sit beside the code, before the name that may wrap, so a row's figures are on
    # its first line for a reader and for text extraction alike.
    rows: list[list[Any]] = [[code_heading, "Entries", "Share", "Name"]]
    rows.extend(
        [
            count.code,
            format_count(count.count),
            f"{count.share_percent}%",
            _para(_text(count.label), "cell"),
        ]
        for count in counts
    )
    widths = [0.28 * FRAME_WIDTH, 0.11 * FRAME_WIDTH, 0.1 * FRAME_WIDTH, 0.51 * FRAME_WIDTH]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(_TABLE_STYLE)
    return table


def _contributions_table(sections: Sequence[ActionLineContributions]) -> Table:
    rows: list[list[Any]] = [["Action line", "Counted", "Awaiting an editor", "Name"]]
    rows.extend(
        [
            section.action_line.value,
            format_count(section.in_effect),
            format_count(section.awaiting_editor),
            _para(_text(section.label), "cell"),
        ]
        for section in sections
    )
    widths = [0.14 * FRAME_WIDTH, 0.12 * FRAME_WIDTH, 0.2 * FRAME_WIDTH, 0.54 * FRAME_WIDTH]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(_TABLE_STYLE)
    return table


def _highlights(section: ActionLineContributions) -> list[Flowable]:
    flowables: list[Flowable] = [_para(f"{section.action_line.value} {_text(section.label)}", "h2")]
    if section.highlights_basis == "none":
        waiting = (
            f", and no suggestion is confident enough to show "
            f"({format_count(section.awaiting_editor)} awaiting an editor)"
            if section.awaiting_editor
            else ""
        )
        flowables.append(
            _para(f"No contribution counts for this action line yet{waiting}.", "note")
        )
        return flowables
    if section.highlights_basis == "suggested":
        flowables.append(
            _para(
                "No contribution counts for this action line yet; these are machine "
                "suggestions awaiting an editor.",
                "note",
            )
        )
    for number, highlight in enumerate(section.highlights, start=1):
        mark = (
            f' <font color="#7a4a00"><b>[suggested, {highlight.confidence * 100:.0f}% '
            f"confidence]</b></font>"
            if highlight.suggested
            else ""
        )
        flowables.append(
            _para(
                f"{number}. <b>{_text(highlight.organisation)}</b> — "
                f"{_text(highlight.title)}{mark}",
                "body",
            )
        )
        if highlight.evidence:
            flowables.append(_para(f"“{_text(highlight.evidence)}”", "quote"))
    return flowables


# --- documents --------------------------------------------------------------------------------


def _stocktaking_story(report: StocktakingReport) -> list[Flowable]:
    headline = report.headline
    facts = [
        ("Entries counted", headline.entries_counted),
        ("Withdrawn entries left out", headline.entries_withdrawn),
        ("Countries", headline.countries),
        ("Nominated for the public vote", headline.nominated),
        ("Finalists (winners and champions)", headline.finalists),
        ("Winners", headline.winners),
        ("Entries naming no SDG", headline.entries_without_sdg),
        ("Contributions received", headline.contributions),
        ("Contributions counted for an action line", headline.contributions_in_effect),
    ]
    facts_table = Table(
        [[name, format_count(value)] for name, value in facts],
        colWidths=[0.6 * FRAME_WIDTH, 0.2 * FRAME_WIDTH],
        hAlign="LEFT",
    )
    facts_table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTNAME", (1, 0), (1, -1), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
            ]
        )
    )
    story: list[Flowable] = [
        _para(f"WSIS Stocktaking Report {report.edition}", "title"),
        _para(dated(report.as_of), "as_of"),
        _para("What this report counts", "h1"),
        _para(_text(report.counting_rule), "rule"),
        facts_table,
    ]
    sections = (
        ("Entries by action line", report.by_action_line, "Action line"),
        ("Entries by prize category", report.by_category, "Category"),
        ("Entries by region", report.by_region, "Region"),
        ("Entries by stakeholder type", report.by_stakeholder_type, "Stakeholder type"),
        ("Entries by Sustainable Development Goal", report.by_sdg, "SDG"),
    )
    for heading, counts, code_heading in sections:
        story.append(CondPageBreak(80 * mm))
        story.append(KeepTogether([_para(heading, "h1"), bar_chart(counts)]))
        story.append(Spacer(1, 4))
        story.append(count_table(counts, code_heading))
    story.append(CondPageBreak(120 * mm))
    story.append(
        KeepTogether(
            [
                _para("The WSIS–SDG matrix", "h1"),
                _para(
                    "Entries concerning each action line (rows) and each Sustainable "
                    "Development Goal (columns); the darker the cell, the more entries.",
                    "body",
                ),
                heat_map(report),
            ]
        )
    )
    story.append(CondPageBreak(80 * mm))
    story.append(_para("Contributions by action line", "h1"))
    story.append(_para(_text(report.contribution_rule), "rule"))
    if report.contributions_note:
        story.append(_para(_text(report.contributions_note), "note"))
    story.append(_contributions_table(report.contributions))
    story.append(_para("Highlights from the contributions", "h1"))
    for section in report.contributions:
        flowables = _highlights(section)
        # The heading never ends a page alone: it stays with the first highlight.
        story.append(KeepTogether(flowables[:3]))
        story.extend(flowables[3:])
    return story


def _success_story(report: SuccessStoriesReport) -> list[Flowable]:
    story: list[Flowable] = [
        _para(f"WSIS Success Stories {report.edition}", "title"),
        _para(dated(report.as_of), "as_of"),
        _para(_text(report.selection_rule), "rule"),
        _para(
            f"Winners: <b>{format_count(report.winners)}</b> · "
            f"Champions: <b>{format_count(report.champions)}</b>",
            "body",
        ),
    ]
    for section in report.categories:
        story.append(CondPageBreak(50 * mm))
        story.append(_para(f"{section.category.value} {_text(section.label)}", "h1"))
        if not section.stories:
            story.append(
                _para("No winner or champion has been announced in this category yet.", "note")
            )
        for entry in section.stories:
            lines = [
                _para(entry.role.upper(), "role"),
                _para(_text(entry.title), "story_title"),
                _para(
                    f"<b>{_text(entry.organisation)}</b> — {_text(entry.country)}, "
                    f"{_text(entry.region.value)} · {_text(entry.stakeholder_type.value)}",
                    "body",
                ),
                _para(_text(entry.description), "body"),
            ]
            if entry.impact:
                lines.append(_para(f"<b>Impact:</b> {_text(entry.impact)}", "body"))
            if entry.website:
                lines.append(_para(_text(entry.website), "note"))
            lines.append(Spacer(1, 6))
            story.append(KeepTogether(lines))
    return story


def _footer(title: str, as_of: str) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, f"{title} · {as_of}")
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"page {document.page}")
        canvas.restoreState()

    return draw


def render_pdf(report: Report) -> bytes:
    with _ONE_AT_A_TIME:
        return _typeset(report)


def _typeset(report: Report) -> bytes:
    _register_fonts()
    if isinstance(report, SuccessStoriesReport):
        title = f"WSIS Success Stories {report.edition}"
        story = _success_story(report)
    else:
        title = f"WSIS Stocktaking Report {report.edition}"
        story = _stocktaking_story(report)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author="International Telecommunication Union (ITU) — WSIS",
        subject=title,
        creator="WSIS Stocktaking",
        invariant=1,
    )
    footer = _footer(title, dated(report.as_of))
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
