"""Reading a report PDF back as text, for tests that compare its numbers with their source."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    """Every page's text laid out as on the page, so a table row is one line."""
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)


def between(text: str, start: str, end: str | None) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin) if end else None]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def count_rows(section: str) -> dict[str, tuple[int, float, str]]:
    """The rows of a figures table (`code  entries  share%  name`): code -> (entries, share,
    the first line of the name)."""
    rows: dict[str, tuple[int, float, str]] = {}
    for code, count, share, name in re.findall(
        r"^\s*(\S+(?: \S+)*)\s{2,}([\d,]+)\s+([\d.]+)%\s{2,}(.+?)\s*$", section, re.MULTILINE
    ):
        assert code not in rows, f"{code} twice"
        rows[code] = (number(count), float(share), name)
    return rows


def matrix_rows(section: str) -> dict[str, tuple[int, ...]]:
    """The heat map's rows: action line -> the 17 numbers written in its cells."""
    return {
        line: tuple(number(cell) for cell in cells.split())
        for line, cells in re.findall(r"^\s*(C\d+)((?:\s+[\d,]+){17})\s*$", section, re.MULTILINE)
    }
