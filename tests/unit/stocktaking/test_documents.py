"""Reading contribution documents: the type comes from the bytes; PDFs and DOCX files are built
here (reportlab, python-docx), as are the hostile ones (an encrypted PDF, scans, zip bombs)."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from wsis_shared.errors import InvalidInput, PayloadTooLarge, WsisError
from wsis_stocktaking.adapters.documents import (
    DOCX_TYPE,
    PDF_TYPE,
    DocumentLimits,
    looks_like_markdown,
    markdown_to_text,
    read_document,
    read_submitted_text,
)

LIMITS = DocumentLimits()
MB = 1024 * 1024


def pdf_of(*pages: list[str], scanned: bool = False) -> bytes:
    """A PDF whose pages hold these lines; `scanned` pages are drawn shapes without text."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        if scanned or not lines:
            sheet.rect(60, 400, 400, 300, fill=1)
        for number, line in enumerate(lines):
            sheet.drawString(72, 780 - 16 * number, line)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def encrypted(pdf: bytes, *, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_of() -> bytes:
    document = docx.Document()
    document.add_heading("Digital skills for public servants", level=1)
    document.add_paragraph("Under Action Line C4 the Academy trained 1,200 civil servants.")
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "Activity"
    table.cell(0, 1).text = "Participants"
    table.cell(1, 0).text = "Cybersecurity awareness course"
    table.cell(1, 1).text = "640"
    merged = table.cell(2, 0).merge(table.cell(2, 1))
    merged.text = "Both courses were given in French and Arabic."
    document.add_paragraph("Next year the courses move online.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def refusal(data: bytes, limits: DocumentLimits = LIMITS) -> WsisError:
    with pytest.raises(WsisError) as refused:
        read_document(data, limits)
    assert refused.value.detail
    return refused.value


# --- plain text and Markdown --------------------------------------------------------------------


def test_plain_utf8_text() -> None:
    read = read_document(
        "Rapport annuel\r\n\r\nLe ministère a formé 300 agents.\r\n".encode(), LIMITS
    )

    assert read.format == "text"
    assert read.media_type == "text/plain; charset=utf-8"
    assert read.text == "Rapport annuel\n\nLe ministère a formé 300 agents."


def test_windows_1252_text_is_read_too() -> None:
    read = read_document("Côte d’Ivoire trained 40 teachers.".encode("cp1252"), LIMITS)

    assert read.text == "Côte d’Ivoire trained 40 teachers."
    assert read.media_type == "text/plain; charset=windows-1252"


def test_utf16_text_with_its_byte_order_mark() -> None:
    read = read_document("Report on digital inclusion in 2026".encode("utf-16"), LIMITS)
    assert read.text == "Report on digital inclusion in 2026"


MARKDOWN = """\
# Contribution of the *Coastal Data Network*

**Summary.** We publish [open data](https://data.example.org) on fisheries<sup>1</sup>.

Programme
---------

- Trained 120 __fisheries officers__
- Opened a `data portal`

| Year | Users |
|------|-------|
| 2026 | 4&nbsp;100 |

> Quote from a partner.
"""


def test_markdown_loses_its_markup_and_keeps_headings_as_lines() -> None:
    read = read_document(MARKDOWN.encode(), LIMITS)

    assert read.format == "markdown"
    assert read.media_type == "text/markdown; charset=utf-8"
    assert read.text == (
        "Contribution of the Coastal Data Network\n"
        "\n"
        "Summary. We publish open data on fisheries1.\n"
        "\n"
        "Programme\n"
        "\n"
        "Trained 120 fisheries officers\n"
        "Opened a data portal\n"
        "\n"
        "Year | Users\n"
        "2026 | 4\u00a0100\n"
        "\n"
        "Quote from a partner."
    )


def test_strong_emphasis_may_span_lines_but_not_paragraphs() -> None:
    assert markdown_to_text("**A title over\ntwo lines**") == "A title over\ntwo lines"
    assert markdown_to_text("**not\n\nclosed** here") == "not\n\nclosed here"


def test_a_plain_text_with_a_list_is_not_taken_for_markdown() -> None:
    text = "Our results:\n- 40 schools connected\n- 3 workshops, 2 * 20 participants"
    assert not looks_like_markdown(text)
    assert read_document(text.encode(), LIMITS).text == text


def test_markdown_sent_as_json_is_read_like_an_upload() -> None:
    markdown = "## Activities\n\nWe **trained** 40 nurses."
    read = read_submitted_text(markdown, format="markdown", limits=LIMITS)

    assert read.text == "Activities\n\nWe trained 40 nurses."
    assert read.format == "markdown"


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_text_from_every_page() -> None:
    pdf = pdf_of(
        ["Annual contribution 2026", "The Authority connected 40 schools to broadband."],
        ["Under Action Line C2 a new backbone reached the north."],
    )
    read = read_document(pdf, LIMITS)

    assert read.format == "pdf"
    assert read.media_type == PDF_TYPE
    assert read.pages == 2
    assert "connected 40 schools to broadband" in read.text
    assert read.text.index("Annual contribution") < read.text.index("Action Line C2")


def test_words_hyphenated_at_a_line_end_are_joined() -> None:
    pdf = pdf_of(["Our programme of capa-", "city building reached 300 people in rural districts."])
    assert "capacity building" in read_document(pdf, LIMITS).text


def test_a_password_protected_pdf_is_refused_with_what_to_do() -> None:
    pdf = encrypted(pdf_of(["Confidential contribution text of the ministry."]), user_password="x")
    refused = refusal(pdf)

    assert isinstance(refused, InvalidInput)
    assert refused.status == 422
    assert refused.extensions["reason"] == "encrypted"
    assert "password" in refused.detail
    assert "without one" in refused.detail


def test_a_pdf_restricted_only_by_an_owner_password_is_read() -> None:
    pdf = encrypted(
        pdf_of(["Printing is restricted, reading is not, in this report."]), user_password=""
    )
    assert "reading is not" in read_document(pdf, LIMITS).text


def test_a_scanned_pdf_is_refused() -> None:
    refused = refusal(pdf_of([], [], scanned=True))

    assert refused.status == 422
    assert refused.extensions["reason"] == "no-text"
    assert "OCR" in refused.detail


def test_a_mostly_scanned_pdf_is_refused() -> None:
    pdf = pdf_of(["Cover page: contribution of the Ministry of Health for 2026"], [], [], [], [])
    refused = refusal(pdf)

    assert refused.extensions["reason"] == "no-text"
    assert "4 of its 5 pages" in refused.detail


def test_too_many_pages_is_too_large() -> None:
    pdf = pdf_of(*[[f"Page {n} of the annual report on broadband roll-out."] for n in range(4)])
    refused = refusal(pdf, DocumentLimits(max_pdf_pages=3))

    assert isinstance(refused, PayloadTooLarge)
    assert refused.status == 413
    assert "4 pages" in refused.detail


@pytest.mark.parametrize(
    "damaged",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        pdf_of(["A report that was cut short in transfer."])[:300],
    ],
)
def test_a_damaged_pdf_is_refused_not_a_crash(damaged: bytes) -> None:
    refused = refusal(damaged)
    assert refused.status == 422
    assert "PDF" in refused.detail


# --- DOCX ---------------------------------------------------------------------------------------


def test_docx_paragraphs_headings_and_table_cells_in_order() -> None:
    read = read_document(docx_of(), LIMITS)

    assert read.format == "docx"
    assert read.media_type == DOCX_TYPE
    assert read.text == (
        "Digital skills for public servants\n"
        "\n"
        "Under Action Line C4 the Academy trained 1,200 civil servants.\n"
        "\n"
        "Activity\n"
        "Participants\n"
        "\n"
        "Cybersecurity awareness course\n"
        "640\n"
        "\n"
        "Both courses were given in French and Arabic.\n"
        "\n"
        "Next year the courses move online."
    )


def zip_of(members: dict[str, bytes | int]) -> bytes:
    """A ZIP archive; a member given as an int is that many zero bytes, written in chunks so
    the test itself stays small in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
                continue
            with archive.open(name, "w") as member:
                for _ in range(content // MB):
                    member.write(bytes(MB))
    return buffer.getvalue()


def declared_size(archive: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size rewritten in its directory and local
    header: a lying ZIP."""
    data = bytearray(archive)
    start = data.find(b"PK\x01\x02")
    while start != -1:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_length].decode() == member:
            struct.pack_into("<I", data, start + 24, size)
            local = struct.unpack_from("<I", data, start + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
            return bytes(data)
        start = data.find(b"PK\x01\x02", start + 4)
    raise AssertionError(f"no member {member}")


def test_a_zip_bomb_is_refused_from_its_directory() -> None:
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": 16 * MB})
    assert len(bomb) < 100_000

    refused = refusal(bomb)

    assert refused.status == 422
    assert refused.extensions["reason"] == "zip-bomb"
    assert "word/document.xml" in refused.detail


def test_a_docx_declaring_gigabytes_is_refused_without_inflating_anything() -> None:
    lying = declared_size(docx_of(), "word/document.xml", 3 * 1024 * MB)
    tracemalloc.start()
    try:
        refused = refusal(lying)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert isinstance(refused, PayloadTooLarge)
    assert refused.extensions["reason"] == "zip-bomb"
    assert peak < 5 * MB


def test_a_docx_understating_a_part_fails_instead_of_inflating_it() -> None:
    lying = declared_size(docx_of(), "word/document.xml", 200)
    refused = refusal(lying)

    assert refused.status == 422
    assert refused.extensions["reason"] == "unreadable"


def test_too_many_parts_is_refused() -> None:
    crowded = zip_of({f"word/media/image{n}.png": b"x" for n in range(30)})
    refused = refusal(crowded, DocumentLimits(max_zip_members=20))
    assert refused.extensions["reason"] == "zip-bomb"


def test_a_zip_that_is_not_a_word_document() -> None:
    workbook = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    refused = refusal(workbook)

    assert refused.status == 422
    assert "Excel workbook" in refused.detail
    assert "DOCX or PDF" in refused.detail


# --- everything else ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "OCR"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "JPEG"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Word"),
        (b"{\\rtf1\\ansi Report}", "RTF"),
        (b"<!DOCTYPE html><html><body>Report</body></html>", "HTML"),
        (bytes(range(256)) * 4, "not a document type"),
        (b"   \n\n  ", "empty"),
        (b"2026 2025 2024 - 12 14 16 / 40 % 30 %", "no words"),
    ],
)
def test_what_cannot_be_read_is_refused_with_a_reason(data: bytes, said: str) -> None:
    refused = refusal(data)
    assert refused.status == 422
    assert said in refused.detail


def test_the_type_is_read_from_the_bytes_only() -> None:
    # read_document takes no name and no Content-Type: a PDF is a PDF whatever it was called.
    assert (
        read_document(pdf_of(["A PDF sent as notes.txt, with its text."]), LIMITS).format == "pdf"
    )
    assert read_document(docx_of(), LIMITS).format == "docx"


def test_files_above_the_limit_are_too_large() -> None:
    refused = refusal(b"a" * 2001, DocumentLimits(max_bytes=2000))
    assert isinstance(refused, PayloadTooLarge)
    assert refused.detail.startswith("the file has 2,001 bytes; a contribution may have at most")


def test_texts_above_the_limit_are_too_large() -> None:
    refused = refusal(("word " * 300).encode(), DocumentLimits(max_text_chars=1000))
    assert isinstance(refused, PayloadTooLarge)
    assert refused.extensions["reason"] == "too-long"


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=3000).map(lambda tail: b"%PDF-1.4\n" + tail),
        st.binary(max_size=3000).map(lambda tail: b"PK\x03\x04" + tail),
        st.integers(min_value=0, max_value=20_000).map(
            lambda cut: pdf_of(["Some contribution text on broadband."])[:cut]
        ),
        st.integers(min_value=0, max_value=40_000).map(lambda cut: docx_of()[:cut]),
        st.text(max_size=2000).map(str.encode),
    )
)
def test_any_bytes_give_a_text_or_a_client_error(data: bytes) -> None:
    refused: WsisError | None = None
    try:
        read = read_document(data, LIMITS)
    except WsisError as error:
        refused = error
    if refused is None:
        assert read.text.strip()
    else:
        assert 400 <= refused.status < 500
        assert refused.detail
