"""Text that people typed, on its way into a spreadsheet.

A CSV cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading one of those) is run as a formula when the file is opened: a
project team's title `=HYPERLINK("http://…","Open")` would become a live link in the admin's
Excel, and worse formulas exist (OWASP, "CSV Injection"). Such a cell gets a leading apostrophe,
which spreadsheets show as the text itself. Numbers pass through as numbers.

Why not the `defusedcsv` package: it leaves a leading tab or carriage return alone, and it
rewrites every `|` inside an affected cell — it would change what people wrote.
"""

from __future__ import annotations

from typing import Final, TypeVar

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
# Without it Excel reads a UTF-8 CSV in the machine's local code page: "Министерство" mangled.
BYTE_ORDER_MARK: Final = "\ufeff"

T = TypeVar("T")


def formula_safe(value: T) -> T | str:
    """The value, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
