"""What the HTML and the PDF draw alike: bar lengths, heat-map colours and number formats, so
both show the same figures the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from wsis_stocktaking.domain.reports import Count

# A sequential blue scale (light = few, dark = many), readable in greyscale print.
_LOW: Final = (0xF2, 0xF6, 0xFB)
_HIGH: Final = (0x08, 0x30, 0x6B)
DARK_TEXT: Final = "#1a1a1a"
LIGHT_TEXT: Final = "#ffffff"
BAR_COLOUR: Final = "#1f5fa8"
# Not `%B`: month names from the locale would make the same report differ between machines.
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Bar:
    code: str
    label: str
    count: int
    share_percent: float
    fraction: float
    """Length relative to the longest bar of the chart, 0–1."""

    @property
    def description(self) -> str:
        return f"{self.code} {self.label}: {format_count(self.count)} ({self.share_percent}%)"


def bars(counts: Sequence[Count]) -> list[Bar]:
    longest = max((count.count for count in counts), default=0)
    return [
        Bar(
            code=count.code,
            label=count.label,
            count=count.count,
            share_percent=count.share_percent,
            fraction=count.count / longest if longest else 0.0,
        )
        for count in counts
    ]


def heat_intensity(count: int, maximum: int) -> float:
    return count / maximum if maximum else 0.0


def heat_colour(count: int, maximum: int) -> str:
    t = heat_intensity(count, maximum)
    red, green, blue = (
        round(low + (high - low) * t) for low, high in zip(_LOW, _HIGH, strict=True)
    )
    return f"#{red:02x}{green:02x}{blue:02x}"


def heat_text_colour(count: int, maximum: int) -> str:
    return LIGHT_TEXT if heat_intensity(count, maximum) > 0.5 else DARK_TEXT


def format_count(number: int) -> str:
    return f"{number:,}"


def dated(moment: datetime | None) -> str:
    """The date line of a report: the time of its newest input, never the time it was made."""
    if moment is None:
        return "No data yet: nothing has been recorded for this edition"
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"Data as of {moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"
