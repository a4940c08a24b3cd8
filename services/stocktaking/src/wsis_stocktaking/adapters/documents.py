"""The text of a submitted contribution document: plain text, Markdown, PDF or DOCX.

The type is read from the bytes, never from the file name or the Content-Type a client sent
(both are easy to get wrong and easy to forge). Every refusal says what to send instead.

A document is untrusted input parsed in the API process, so each format is bounded before it is
parsed: the whole file by size, a PDF by its number of pages and a DOCX — a ZIP archive — by the
sizes its directory declares, before anything is inflated (CPython's zipfile never inflates a
member beyond its declared size and checks its CRC, so a lying directory fails instead of
filling memory). pypdf bounds each stream it inflates itself (`pypdf.Configuration`).
"""

from __future__ import annotations

import codecs
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType, PdfReader
from pypdf.errors import LimitReachedError

from wsis_shared.errors import InvalidInput, PayloadTooLarge, WsisError
from wsis_stocktaking.domain.contributions import ExtractedText

PDF_TYPE: Final = "application/pdf"
DOCX_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SEND_INSTEAD: Final = "send a PDF with its text, a DOCX, or plain text or Markdown (UTF-8)"
_MB: Final = 1024 * 1024


@dataclass(frozen=True)
class DocumentLimits:
    max_bytes: int = 10 * _MB
    max_pdf_pages: int = 300
    max_text_chars: int = 1_000_000
    max_unpacked_bytes: int = 64 * _MB
    """Sum of the declared sizes of a DOCX's parts: a 10 MB DOCX of text inflates to far less."""
    max_compression_ratio: int = 200
    """Text XML compresses about 10:1; a part declared far beyond that is a bomb, not a text."""
    ratio_checked_from_bytes: int = _MB
    """Small parts may compress very well (a run of spaces) without any harm."""
    max_zip_members: int = 2_000


def read_document(data: bytes, limits: DocumentLimits) -> ExtractedText:
    """The text of `data`, with the format its bytes show; 413/422 problems say what to send."""
    check_file_size(len(data), limits)
    if not data.strip():
        raise InvalidInput(f"the file is empty: {SEND_INSTEAD}", reason="empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return _read_pdf(data, limits)
    if data.startswith(b"PK\x03\x04"):
        return _read_docx(data, limits)
    _refuse_known_binary(data)
    return _read_text(data, limits)


def check_file_size(size: int, limits: DocumentLimits, *, lower_bound: bool = False) -> None:
    """413 for a file above the limit; `lower_bound`: reading stopped past the limit, so the
    file has at least `size` bytes."""
    if size > limits.max_bytes:
        has = f"more than {_size(limits.max_bytes)}" if lower_bound else _size(size)
        raise PayloadTooLarge(
            f"the file has {has}; a contribution may have at most {_size(limits.max_bytes)}: "
            "send the contribution alone, or its text",
            max_bytes=limits.max_bytes,
            reason="too-large",
        )


def _size(count: int) -> str:
    return f"{count / _MB:.1f} MB" if count >= _MB else f"{count:,} bytes"


def _refuse_known_binary(data: bytes) -> None:
    refusals = (
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word (.doc) or other legacy Office file"),
        (b"{\\rtf", "an RTF document"),
        (b"PK\x05\x06", "an empty ZIP archive"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
    )
    for magic, what in refusals:
        if data.startswith(magic):
            scanned = " (a scan cannot be read: we do not run OCR)" if "image" in what else ""
            raise InvalidInput(
                f"this is {what}{scanned}; save it as DOCX or PDF, or {SEND_INSTEAD}",
                found=what,
                reason="unsupported-type",
            )


# --- plain text and Markdown --------------------------------------------------------------------

_UNICODE_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MOST_CONTROL_CHARS_IN_TEXT: Final = 0.01


def _read_text(data: bytes, limits: DocumentLimits) -> ExtractedText:
    text, charset = _decode(data)
    _check_length(len(text), limits, what="the text")
    sample = text[:100_000]
    if len(_CONTROL.findall(sample)) > _MOST_CONTROL_CHARS_IN_TEXT * len(sample):
        raise InvalidInput(
            f"this file is not a document type we can read: {SEND_INSTEAD}",
            reason="unsupported-type",
        )
    if re.match(r"\s*<(?:!doctype\s+html|html)\b", sample, re.IGNORECASE):
        raise InvalidInput(
            f"this is an HTML page; save it as PDF or DOCX, or paste its text: {SEND_INSTEAD}",
            reason="unsupported-type",
        )
    if looks_like_markdown(text):
        extracted = ExtractedText(
            format="markdown",
            media_type=f"text/markdown; charset={charset}",
            text=tidy(markdown_to_text(text)),
        )
    else:
        extracted = ExtractedText(
            format="text", media_type=f"text/plain; charset={charset}", text=tidy(text)
        )
    return _checked(extracted, limits, what="the text")


def _decode(data: bytes) -> tuple[str, str]:
    """The text and its charset: a Unicode BOM wins, then UTF-8, then Windows-1252 (what a
    text file saved on Windows in Western Europe usually is)."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.removesuffix("-sig")
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:4096]:
        raise InvalidInput(
            f"this file is not a document type we can read: {SEND_INSTEAD}",
            reason="unsupported-type",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise InvalidInput(
            f"the text is neither UTF-8 nor Windows-1252: save it as UTF-8, or {SEND_INSTEAD}",
            reason="unsupported-encoding",
        ) from None


_MARKDOWN_SIGNS: Final = (
    re.compile(r"^#{1,6}[ \t]+\S", re.M),  # ATX heading
    re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),  # strong emphasis
    re.compile(r"(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])"),  # emphasis
    re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)"),  # link or image
    re.compile(r"^[ \t]{0,3}>[ \t]", re.M),  # block quote
    re.compile(r"^[ \t]{0,3}```", re.M),  # code fence
    re.compile(r"^\|.*\|[ \t]*$", re.M),  # table row
    re.compile(r"^\S.*\n[ \t]{0,3}(?:=+|-+)[ \t]*$", re.M),  # setext heading
    re.compile(r"<(?:sup|sub|p|br|em|strong|b|i)\b[^>]*>", re.I),  # inline HTML
)


def looks_like_markdown(text: str) -> bool:
    """Two different kinds of Markdown markup make a text Markdown; a lone asterisk or a
    bulleted list does not (plain texts have them too)."""
    sample = text[:200_000]
    return sum(1 for sign in _MARKDOWN_SIGNS if sign.search(sample)) >= 2


_FENCE: Final = re.compile(r"^[ \t]{0,3}(```|~~~)")
_ATX_HEADING: Final = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE: Final = re.compile(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$")
_THEMATIC_BREAK: Final = re.compile(r"^[ \t]{0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE_DELIMITER: Final = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*(?::?-+:?)?[ \t]*$")
_REFERENCE_DEFINITION: Final = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_BLOCK_QUOTE: Final = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_LIST_MARKER: Final = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")
_INLINE: Final = (
    (re.compile(r"<!--(?:(?!<!--|-->).)*-->", re.S), ""),
    (re.compile(r"<br\s*/?>|</p\s*>|</div\s*>|</li\s*>|</h[1-6]\s*>", re.I), "\n"),
    (re.compile(r"<(https?://[^>\s]+|mailto:[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),
    (re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),
    (re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)"), r"\1"),
    (re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
    # Strong emphasis may run over a line break, never over a blank line or another marker (so
    # a text full of unmatched markers costs linear time).
    (re.compile(r"\*\*(?=\S)((?:(?!\*\*)[^\n]|\n(?![ \t]*\n))+?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"__(?=\S)((?:(?!__)[^\n]|\n(?![ \t]*\n))+?)(?<=\S)__"), r"\1"),
    (re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*\\])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w\\])_(?=[^\s_])([^_\n]+?)(?<=[^\s_\\])_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)([^~\n]+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])"), r"\1"),
)


def markdown_to_text(markdown: str) -> str:
    """The words of a Markdown text without its markup; headings stay, each on its own line
    between blank lines, so the tagger and a reader still see the document's structure."""
    lines: list[str] = []
    in_fence = False

    def heading(text: str) -> None:
        if lines and lines[-1]:
            lines.append("")
        lines.extend([text.strip(), ""])

    for line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            lines.append(line.rstrip())
            continue
        if _SETEXT_UNDERLINE.match(line) and lines and lines[-1].strip():
            heading(lines.pop())
            continue
        if _THEMATIC_BREAK.match(line) or _SETEXT_UNDERLINE.match(line):
            lines.append("")
            continue
        if _TABLE_DELIMITER.match(line) or _REFERENCE_DEFINITION.match(line):
            continue
        if atx := _ATX_HEADING.match(line):
            heading(atx["text"])
            continue
        line = _LIST_MARKER.sub("", _BLOCK_QUOTE.sub("", line))
        if line.lstrip().startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            line = " | ".join(cell for cell in cells if cell)
        lines.append(line.rstrip())
    text = "\n".join(lines)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    text = text.replace("**", "").replace("__", "")
    return html.unescape(text)


def tidy(text: str) -> str:
    """One form for every source: NFC, \\n line ends, no control characters or soft hyphens,
    no trailing blanks, at most one empty line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.replace("\u00ad", "").replace("\x0c", "\n"))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_FEWEST_LETTERS: Final = 20


def _check_length(length: int, limits: DocumentLimits, *, what: str) -> None:
    if length > limits.max_text_chars:
        raise PayloadTooLarge(
            f"{what} has {length:,} characters; a contribution may have at most "
            f"{limits.max_text_chars:,}: send the contribution alone",
            max_text_chars=limits.max_text_chars,
            reason="too-long",
        )


def _checked(extracted: ExtractedText, limits: DocumentLimits, *, what: str) -> ExtractedText:
    _check_length(len(extracted.text), limits, what=what)
    if sum(char.isalpha() for char in extracted.text[:10_000]) < _FEWEST_LETTERS:
        raise InvalidInput(f"{what} holds no words to read: {SEND_INSTEAD}", reason="no-text")
    return extracted


# --- PDF ----------------------------------------------------------------------------------------

_HYPHENATED_LINE_END: Final = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_PAGE_WITHOUT_TEXT_LETTERS: Final = 20
_MOSTLY_SCANNED_FROM_PAGES: Final = 4


def _read_pdf(data: bytes, limits: DocumentLimits) -> ExtractedText:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise InvalidInput(
                "the PDF is protected by a password: save or print it again without one, "
                "or send a DOCX or the text",
                reason="encrypted",
            )
        page_count = len(reader.pages)
        if page_count == 0:
            raise InvalidInput(
                "the PDF has no pages: it may be damaged; export it again from the word "
                "processor, or send a DOCX or the text",
                reason="unreadable",
            )
        if page_count > limits.max_pdf_pages:
            raise PayloadTooLarge(
                f"the PDF has {page_count} pages; at most {limits.max_pdf_pages} are read: send "
                "the contribution alone, without annexes",
                max_pages=limits.max_pdf_pages,
                reason="too-many-pages",
            )
        pages: list[str] = []
        length = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            length += len(pages[-1])
            if length > limits.max_text_chars:
                break
    except WsisError:
        raise
    except MemoryError:
        raise
    except LimitReachedError as exc:
        raise InvalidInput(
            "a part of the PDF inflates beyond what is read (pypdf stops each stream at 75 MB): "
            "refused as a possible decompression bomb; export the PDF again, or send a DOCX or "
            "the text",
            reason="pdf-bomb",
        ) from exc
    except Exception as exc:
        # pypdf raises many kinds of errors on a damaged file; none is the client's to debug.
        raise InvalidInput(
            f"the PDF cannot be read ({type(exc).__name__}): it may be damaged; export it "
            "again from the word processor, or send a DOCX or the text",
            reason="unreadable",
        ) from exc
    without_text = sum(
        1 for text in pages if sum(c.isalpha() for c in text) < _PAGE_WITHOUT_TEXT_LETTERS
    )
    no_text_at_all = without_text == len(pages)
    mostly_scanned = len(pages) >= _MOSTLY_SCANNED_FROM_PAGES and without_text * 2 > len(pages)
    if no_text_at_all or mostly_scanned:
        which = (
            "none of its pages has text"
            if no_text_at_all
            else f"{without_text} of its {len(pages)} pages have no text"
        )
        raise InvalidInput(
            f"the PDF seems to be scanned images ({which}) and we do not run OCR: "
            "send the PDF exported from the word processor, a DOCX, or the text",
            reason="no-text",
        )
    text = _HYPHENATED_LINE_END.sub("", "\n\n".join(tidy(page) for page in pages))
    extracted = ExtractedText(format="pdf", media_type=PDF_TYPE, text=tidy(text), pages=page_count)
    return _checked(extracted, limits, what="the PDF")


# --- DOCX ---------------------------------------------------------------------------------------

_OTHER_ZIP_DOCUMENTS: Final = (
    ("xl/workbook.xml", "an Excel workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("content.xml", "an OpenDocument file"),
)


def _read_docx(data: bytes, limits: DocumentLimits) -> ExtractedText:
    _check_archive(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_document_lines(document.iter_inner_content()))
    except WsisError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        if "macroEnabled" in str(exc):
            raise InvalidInput(
                "this is a macro-enabled Word document (.docm): save it as a plain DOCX or PDF",
                reason="unsupported-type",
            ) from exc
        raise InvalidInput(
            f"the DOCX cannot be read ({type(exc).__name__}): it may be damaged; save it again "
            "from the word processor, or send a PDF or the text",
            reason="unreadable",
        ) from exc
    extracted = ExtractedText(format="docx", media_type=DOCX_TYPE, text=tidy("\n".join(lines)))
    return _checked(extracted, limits, what="the DOCX")


def _check_archive(data: bytes, limits: DocumentLimits) -> None:
    """Refuse a ZIP that is not a Word document, or whose parts would inflate beyond what a text
    needs, from its directory alone (nothing is inflated here)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except MemoryError:
        raise
    except Exception as exc:  # zipfile's errors on a damaged directory are of many kinds
        raise InvalidInput(
            "the file starts like a DOCX (a ZIP archive) but the archive is damaged: "
            f"{SEND_INSTEAD}",
            reason="unreadable",
        ) from exc
    if len(members) > limits.max_zip_members:
        raise InvalidInput(
            f"the archive has {len(members):,} parts; a DOCX has a few dozen: refused as a "
            f"possible zip bomb; {SEND_INSTEAD}",
            reason="zip-bomb",
        )
    declared = sum(member.file_size for member in members)
    if declared > limits.max_unpacked_bytes:
        raise PayloadTooLarge(
            f"the DOCX would unpack to {_size(declared)}, more than the "
            f"{_size(limits.max_unpacked_bytes)} read: refused as a possible zip bomb; send "
            "the contribution without embedded media, or a PDF",
            reason="zip-bomb",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limits.ratio_checked_from_bytes and (
            ratio > limits.max_compression_ratio
        ):
            raise InvalidInput(
                f"a part of the DOCX ({member.filename}) is compressed {ratio:,.0f} to 1, far "
                "beyond any document: refused as a possible zip bomb; save the document again, "
                "or send a PDF",
                reason="zip-bomb",
            )
    names = {member.filename for member in members}
    if "word/document.xml" not in names:
        what = next((kind for part, kind in _OTHER_ZIP_DOCUMENTS if part in names), "a ZIP archive")
        raise InvalidInput(
            f"this is {what}, not a Word document: save it as DOCX or PDF, or {SEND_INSTEAD}",
            found=what,
            reason="unsupported-type",
        )


def _document_lines(blocks: Iterator[Paragraph | Table]) -> Iterator[str]:
    """Paragraphs and tables in document order; a heading gets a line of its own, each table
    cell its lines (a merged cell once), each table row ends with an empty line."""
    for block in blocks:
        if isinstance(block, Paragraph):
            if _is_heading(block):
                yield from ("", block.text, "")
            else:
                yield block.text
            continue
        yield ""
        for row in block.rows:
            seen: list[object] = []
            for cell in row.cells:
                if any(cell._tc is other for other in seen):
                    continue
                seen.append(cell._tc)
                yield from _document_lines(cell.iter_inner_content())
            yield ""


def _is_heading(paragraph: Paragraph) -> bool:
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    return name.startswith("Heading") or name == "Title"


def read_submitted_text(
    text: str, *, format: Literal["text", "markdown", "fields"], limits: DocumentLimits
) -> ExtractedText:
    """The text of a contribution sent as JSON: Markdown loses its markup like an uploaded
    Markdown file does."""
    _check_length(len(text), limits, what="the text")
    plain = markdown_to_text(text) if format == "markdown" else text
    media_type = "text/markdown" if format == "markdown" else "text/plain"
    extracted = ExtractedText(
        format=format, media_type=f"{media_type}; charset=utf-8", text=tidy(plain)
    )
    return _checked(extracted, limits, what="the text")
