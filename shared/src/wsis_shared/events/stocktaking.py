"""Events of the `wsis.stocktaking.v1` topic."""

from __future__ import annotations

from typing import Literal

from wsis_shared.events.envelope import EventBase, Frozen


class PublishedReport(Frozen):
    report_id: str
    kind: Literal["stocktaking-report", "success-stories"]
    formats: tuple[Literal["html", "pdf", "csv", "json"], ...]


class ReportPublished(EventBase):
    event_type: Literal["report.published"] = "report.published"
    payload: PublishedReport
