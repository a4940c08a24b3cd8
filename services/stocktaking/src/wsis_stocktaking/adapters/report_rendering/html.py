"""The HTML edition of a report: one self-contained page (no script, no external asset) with
inline SVG charts that screen readers can name, and every charted number again in a table.

Chart geometry is computed here and the template only places it, so the template stays markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from wsis_shared.vocabulary import SDG_NAMES
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
    Count,
    Report,
    StocktakingReport,
    SuccessStoriesReport,
)

MEDIA_TYPE: Final = "text/html; charset=utf-8"

CHART_WIDTH: Final = 720
LABEL_WIDTH: Final = 190
VALUE_WIDTH: Final = 90
ROW_HEIGHT: Final = 24
BAR_HEIGHT: Final = 16

HEAT_LABEL_WIDTH: Final = 48
HEAT_HEADER_HEIGHT: Final = 40
HEAT_CELL_WIDTH: Final = 36
HEAT_CELL_HEIGHT: Final = 28
HEAT_LEGEND_HEIGHT: Final = 44


@dataclass(frozen=True)
class BarView:
    y: int
    label: str
    length: float
    value: str
    title: str


@dataclass(frozen=True)
class BarChartView:
    chart_id: str
    heading: str
    description: str
    width: int
    height: int
    label_width: int
    bar_colour: str
    bar_height: int
    rows: tuple[BarView, ...]
    counts: tuple[Count, ...]
    code_heading: str


@dataclass(frozen=True)
class HeatCellView:
    x: int
    y: int
    colour: str
    text_colour: str
    value: str
    title: str


@dataclass(frozen=True)
class HeatRowView:
    y: int
    code: str
    label: str
    cells: tuple[HeatCellView, ...]
    counts: tuple[str, ...]


@dataclass(frozen=True)
class HeatMapView:
    width: int
    height: int
    label_width: int
    header_height: int
    cell_width: int
    cell_height: int
    columns: tuple[tuple[int, int, str], ...]  # (x centre, sdg, name)
    rows: tuple[HeatRowView, ...]
    legend_y: int
    legend_low: str
    legend_high: str
    maximum: str


def _bar_chart(
    chart_id: str, heading: str, counts: tuple[Count, ...], code_heading: str, label_of_code: bool
) -> BarChartView:
    bar_area = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = tuple(
        BarView(
            y=index * ROW_HEIGHT,
            label=_short_label(bar.code) if label_of_code else bar.label,
            length=round(bar.fraction * bar_area, 2),
            value=f"{format_count(bar.count)} ({bar.share_percent}%)",
            title=bar.description,
        )
        for index, bar in enumerate(bars(counts))
    )
    largest = max(counts, key=lambda count: count.count, default=None)  # the first on a tie
    description = (
        f"Horizontal bar chart of {len(counts)} bars. The largest is {largest.code} "
        f"{largest.label} with {format_count(largest.count)}."
        if largest is not None and largest.count
        else f"Horizontal bar chart of {len(counts)} bars, all zero."
    )
    return BarChartView(
        chart_id=chart_id,
        heading=heading,
        description=description,
        width=CHART_WIDTH,
        height=len(rows) * ROW_HEIGHT + 4,
        label_width=LABEL_WIDTH,
        bar_colour=BAR_COLOUR,
        bar_height=BAR_HEIGHT,
        rows=rows,
        counts=counts,
        code_heading=code_heading,
    )


def _short_label(code: str) -> str:
    return f"SDG {code.removeprefix('SDG')}" if code.startswith("SDG") else code


def _heat_map(report: StocktakingReport) -> HeatMapView:
    maximum = report.matrix_max
    top = HEAT_HEADER_HEIGHT
    rows = tuple(
        HeatRowView(
            y=top + index * HEAT_CELL_HEIGHT,
            code=row.action_line.value,
            label=row.label,
            cells=tuple(
                HeatCellView(
                    x=HEAT_LABEL_WIDTH + column * HEAT_CELL_WIDTH,
                    y=top + index * HEAT_CELL_HEIGHT,
                    colour=heat_colour(count, maximum),
                    text_colour=heat_text_colour(count, maximum),
                    value=format_count(count),
                    title=f"{row.action_line.value} × SDG {sdg} ({SDG_NAMES[sdg]}): "
                    f"{format_count(count)} entries",
                )
                for column, (sdg, count) in enumerate(zip(SDGS, row.counts, strict=True))
            ),
            counts=tuple(format_count(count) for count in row.counts),
        )
        for index, row in enumerate(report.matrix)
    )
    grid_bottom = top + len(rows) * HEAT_CELL_HEIGHT
    return HeatMapView(
        width=HEAT_LABEL_WIDTH + len(SDGS) * HEAT_CELL_WIDTH + 2,
        height=grid_bottom + HEAT_LEGEND_HEIGHT,
        label_width=HEAT_LABEL_WIDTH,
        header_height=HEAT_HEADER_HEIGHT,
        cell_width=HEAT_CELL_WIDTH,
        cell_height=HEAT_CELL_HEIGHT,
        columns=tuple(
            (
                HEAT_LABEL_WIDTH + column * HEAT_CELL_WIDTH + HEAT_CELL_WIDTH // 2,
                sdg,
                SDG_NAMES[sdg],
            )
            for column, sdg in enumerate(SDGS)
        ),
        rows=rows,
        legend_y=grid_bottom + 14,
        legend_low=heat_colour(0, 1),
        legend_high=heat_colour(1, 1),
        maximum=format_count(maximum),
    )


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("wsis_stocktaking", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["thousands"] = format_count
    return environment


def render_html(report: Report) -> bytes:
    environment = _environment()
    as_of = dated(report.as_of)
    if isinstance(report, SuccessStoriesReport):
        template = environment.get_template("reports/success-stories.html.j2")
        return template.render(report=report, as_of=as_of).encode()
    template = environment.get_template("reports/stocktaking-report.html.j2")
    charts = (
        _bar_chart(
            "action-lines", "Entries by action line", report.by_action_line, "Action line", True
        ),
        _bar_chart("categories", "Entries by prize category", report.by_category, "Category", True),
        _bar_chart("regions", "Entries by region", report.by_region, "Region", False),
        _bar_chart(
            "stakeholders",
            "Entries by stakeholder type",
            report.by_stakeholder_type,
            "Stakeholder type",
            False,
        ),
        _bar_chart("sdgs", "Entries by Sustainable Development Goal", report.by_sdg, "SDG", True),
    )
    return template.render(
        report=report, as_of=as_of, charts=charts, heat_map=_heat_map(report)
    ).encode()
