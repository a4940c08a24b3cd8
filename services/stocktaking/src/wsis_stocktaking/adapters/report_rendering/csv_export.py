"""The CSV edition of a report: the figures as one long table a spreadsheet can pivot.

The Stocktaking Report gives one row per figure (`table, row, column, label, value`): a count by
action line is `by_action_line, C4, , Capacity building, 12`, a cell of the WSIS–SDG matrix is
`wsis_sdg_matrix, C4, SDG4, …, 3`. The Success Stories give one row per story. Spreadsheets
open it: text that would run as a formula is neutralised, and a byte-order mark tells Excel it
is UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final

from wsis_shared.spreadsheets import BYTE_ORDER_MARK, formula_safe
from wsis_shared.vocabulary import SDG_NAMES
from wsis_stocktaking.domain.reports import (
    SDGS,
    Report,
    StocktakingReport,
    SuccessStoriesReport,
)

MEDIA_TYPE: Final = "text/csv; charset=utf-8"

FIGURE_COLUMNS: Final = ("table", "row", "column", "label", "value")
STORY_COLUMNS: Final = (
    "category",
    "category_name",
    "role",
    "entry_id",
    "title",
    "organisation",
    "country",
    "region",
    "stakeholder_type",
    "description",
    "impact",
    "website",
)

Row = tuple[str | int | float, ...]


def _figure_rows(report: StocktakingReport) -> Iterator[Row]:
    headline = report.headline
    for name, value in headline.model_dump().items():
        yield ("headline", name, "", name.replace("_", " "), value)
    for table, counts in (
        ("by_action_line", report.by_action_line),
        ("by_category", report.by_category),
        ("by_region", report.by_region),
        ("by_stakeholder_type", report.by_stakeholder_type),
        ("by_sdg", report.by_sdg),
    ):
        for count in counts:
            yield (table, count.code, "", count.label, count.count)
            yield (f"{table}_share_percent", count.code, "", count.label, count.share_percent)
    for matrix_row in report.matrix:
        for sdg, value in zip(SDGS, matrix_row.counts, strict=True):
            yield (
                "wsis_sdg_matrix",
                matrix_row.action_line.value,
                f"SDG{sdg}",
                f"{matrix_row.label} × {SDG_NAMES[sdg]}",
                value,
            )
    for section in report.contributions:
        line = section.action_line.value
        yield ("contributions_counted", line, "", section.label, section.in_effect)
        yield ("contributions_awaiting_editor", line, "", section.label, section.awaiting_editor)


def _story_rows(report: SuccessStoriesReport) -> Iterator[Row]:
    for section in report.categories:
        for story in section.stories:
            yield (
                section.category.value,
                section.label,
                story.role,
                story.entry_id,
                story.title,
                story.organisation,
                story.country,
                story.region.value,
                story.stakeholder_type.value,
                story.description,
                story.impact or "",
                story.website or "",
            )


def render_csv(report: Report) -> bytes:
    buffer = io.StringIO(newline="")
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer, lineterminator="\r\n")
    if isinstance(report, SuccessStoriesReport):
        writer.writerow(STORY_COLUMNS)
        writer.writerows(tuple(formula_safe(value) for value in row) for row in _story_rows(report))
    else:
        writer.writerow(FIGURE_COLUMNS)
        writer.writerows(
            tuple(formula_safe(value) for value in row) for row in _figure_rows(report)
        )
    return buffer.getvalue().encode()
