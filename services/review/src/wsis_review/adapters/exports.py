"""CSV and XLSX renderings of an export table.

Cells come from reviewers' free text, so nothing a reviewer types may become a spreadsheet
formula when the chair opens the file: CSV cells starting with = + - @ (or tab/CR) are prefixed
with an apostrophe (OWASP's advice for CSV injection), and XlsxWriter is told to write every
string as a string.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter

from wsis_review.service_layer.progress import ExportTable
from wsis_shared.spreadsheets import BYTE_ORDER_MARK, formula_safe


def _csv_cell(value: Any) -> Any:
    return "" if value is None else formula_safe(value)


def to_csv(table: ExportTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return (BYTE_ORDER_MARK + buffer.getvalue()).encode()


def to_xlsx(table: ExportTable, sheet: str = "Reviews") -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, table.columns, bold)
    for number, row in enumerate(table.rows, start=1):
        worksheet.write_row(number, 0, ["" if value is None else value for value in row])
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
    workbook.close()
    return buffer.getvalue()
