"""A report in every format it is published in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from wsis_stocktaking.adapters.report_rendering import csv_export, html, json_export, pdf
from wsis_stocktaking.domain.reports import Report, ReportFormat


@dataclass(frozen=True)
class Renderer:
    format: ReportFormat
    media_type: str
    render: Callable[[Report], bytes]


RENDERERS: Final[tuple[Renderer, ...]] = (
    Renderer("html", html.MEDIA_TYPE, html.render_html),
    Renderer("pdf", pdf.MEDIA_TYPE, pdf.render_pdf),
    Renderer("csv", csv_export.MEDIA_TYPE, csv_export.render_csv),
    Renderer("json", json_export.MEDIA_TYPE, json_export.render_json),
)
FORMATS: Final[tuple[ReportFormat, ...]] = tuple(renderer.format for renderer in RENDERERS)
MEDIA_TYPES: Final[dict[ReportFormat, str]] = {
    renderer.format: renderer.media_type for renderer in RENDERERS
}

__all__ = ["FORMATS", "MEDIA_TYPES", "RENDERERS", "Renderer", "ReportFormat"]
