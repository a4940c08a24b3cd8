"""Cells a spreadsheet would run as formulas are turned into text; everything else is kept."""

from __future__ import annotations

import pytest

from wsis_shared.spreadsheets import formula_safe


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://evil.example.org","Open")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(typed: str) -> None:
    assert formula_safe(typed) == "'" + typed


@pytest.mark.parametrize("kept", ["Digital skills for all", "", "a=b", "1-2", " =1", "'quoted"])
def test_other_text_is_kept_as_typed(kept: str) -> None:
    assert formula_safe(kept) == kept


@pytest.mark.parametrize("number", [-3, -2.5, 0, 12])
def test_numbers_stay_numbers(number: float) -> None:
    assert formula_safe(number) == number
