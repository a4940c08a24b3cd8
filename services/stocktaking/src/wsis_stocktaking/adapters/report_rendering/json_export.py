"""The JSON edition of a report: the figures exactly as computed, keys sorted, so the same
figures always give the same bytes."""

from __future__ import annotations

import json
from typing import Final

from wsis_stocktaking.domain.reports import Report

MEDIA_TYPE: Final = "application/json"


def render_json(report: Report) -> bytes:
    document = report.model_dump(mode="json")
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
