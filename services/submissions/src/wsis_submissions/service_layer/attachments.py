"""Use cases of attachments: PDF, PNG or JPEG files a team adds to its entry.

The type is sniffed from the content, never taken from the name or the client's header. Files
live in GridFS; reviewers reach them by a signed, expiring link (they hold no team's token).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Final, Protocol

import filetype

from wsis_shared.auth import Principal
from wsis_shared.errors import InvalidInput, NotFound, PayloadTooLarge
from wsis_shared.text import file_stem
from wsis_submissions.domain.entries import Attachment, Entry
from wsis_submissions.service_layer.clock import Clock
from wsis_submissions.service_layer.entries import check_owner, record_history
from wsis_submissions.service_layer.unit_of_work import Runner, UnitOfWork

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
ALLOWED_TYPES: Final = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class FileStore(Protocol):
    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None: ...
    async def get(self, file_id: str) -> bytes: ...
    async def delete(self, file_id: str) -> None: ...


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    data: bytes


def sniff(data: bytes) -> str:
    if not data:
        raise InvalidInput("the file is empty")
    kind = filetype.guess(data[:8192])
    mime: str | None = kind.mime if kind is not None else None
    if mime not in ALLOWED_TYPES:
        found = f"a {mime} file" if mime else "a file of unknown type"
        raise InvalidInput(
            f"this is {found}; attachments must be PDF, PNG or JPEG",
            allowed=sorted(ALLOWED_TYPES),
        )
    check_structure(data, mime)
    return mime


def check_structure(data: bytes, mime: str) -> None:
    """The magic number says only how a file starts: a reviewer must be able to open what is
    stored, so a cut-off upload (or a page that merely starts like a PDF) is refused now, while
    the team still has the complete file. Each format's frame is walked from its start to its
    end marker — no parser, no decoding — and what follows the end is left alone: phones append
    data after a JPEG's end (Samsung's "SEFT" trailer, a motion photo's video), and writers pad
    PNGs and PDFs."""
    if mime == "image/png":
        _check_png(data)
    elif mime == "image/jpeg":
        _check_jpeg(data)
    elif mime == "application/pdf":
        _check_pdf(data)


def _cut_off(kind: str, where: str) -> InvalidInput:
    return InvalidInput(
        f"the {kind} seems cut off ({where}): upload the complete file",
        reason=f"{kind.split()[0].lower()}-truncated",
    )


def _check_png(data: bytes) -> None:
    # The signature, then chunks (length, type, data, CRC), IHDR first, until IEND.
    if data[8:16] != b"\x00\x00\x00\x0dIHDR" and len(data) >= 16:
        raise InvalidInput(
            "the PNG image is damaged (its header is missing): export it again and upload the "
            "new file",
            reason="png-damaged",
        )
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        at += 12 + length
        if at > len(data):
            break
        if kind == b"IEND":
            return
    raise _cut_off("PNG image", "its end is missing")


_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0–7: no length


def _check_jpeg(data: bytes) -> None:
    # SOI, then segments (FF, marker, 2-byte length) up to the first scan (SOS); in the scans an
    # FF is followed by 00 (stuffed) or a restart marker, so the first FFD9 after the first scan
    # is the image's end (EXIF thumbnails, with their own FFD9, sit in segments before it).
    if not data.startswith(b"\xff\xd8"):
        raise _cut_off("JPEG image", "its start is missing")
    at = 2
    while True:
        while at < len(data) and data[at] == 0xFF and at + 1 < len(data) and data[at + 1] == 0xFF:
            at += 1  # fill bytes
        if at + 2 > len(data) or data[at] != 0xFF:
            raise _cut_off("JPEG image", "it stops before the picture")
        marker = data[at + 1]
        if marker == 0xD9:
            return
        if marker in _JPEG_STANDALONE:
            at += 2
            continue
        if at + 4 > len(data):
            raise _cut_off("JPEG image", "it stops before the picture")
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        at += 2 + length
        if marker == 0xDA:  # the first scan: its end is the image's end marker
            if data.find(b"\xff\xd9", at) == -1:
                raise _cut_off("JPEG image", "its end is missing")
            return


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        raise InvalidInput(
            "this is not a PDF document (it does not start with %PDF-): export the document as "
            "PDF and upload that file",
            reason="pdf-damaged",
        )
    # Every PDF (each revision of one, too) ends with %%EOF; padding may follow.
    if data.rfind(b"%%EOF") < 5:
        raise _cut_off("PDF", "its end is missing")


def safe_filename(name: str | None, mime: str) -> str:
    return f"{file_stem(name) or 'attachment'}.{ALLOWED_TYPES[mime]}"


async def add_attachment(
    runner: Runner,
    clock: Clock,
    files: FileStore,
    *,
    entry_id: str,
    filename: str | None,
    data: bytes,
    author: Principal,
) -> Attachment:
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(
            f"the file has {len(data):,} bytes; attachments may have at most "
            f"{MAX_ATTACHMENT_BYTES:,}"
        )
    mime = sniff(data)
    attachment = Attachment(
        attachment_id=uuid.uuid4().hex,
        filename=safe_filename(filename, mime),
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=clock(),
    )

    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        edition = await uow.editions.get_recent(entry.edition)
        entry.attach(attachment, edition, now=clock())
        await uow.entries.save(entry)
        await record_history(uow, entry, author, "attached", {"attachment": attachment.filename})
        return entry

    # GridFS writes cannot join a transaction: store the file first, forget it if the entry
    # refuses it.
    await files.put(attachment.attachment_id, data, {"entry_id": entry_id, "content_type": mime})
    try:
        await runner.run(work)
    except BaseException:
        await files.delete(attachment.attachment_id)
        raise
    return attachment


async def remove_attachment(
    runner: Runner,
    clock: Clock,
    files: FileStore,
    *,
    entry_id: str,
    attachment_id: str,
    author: Principal,
) -> None:
    async def work(uow: UnitOfWork) -> Attachment:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        edition = await uow.editions.get_recent(entry.edition)
        removed = entry.detach(attachment_id, edition, now=clock())
        await uow.entries.save(entry)
        await record_history(uow, entry, author, "detached", {"attachment": removed.filename})
        return removed

    await runner.run(work)
    await files.delete(attachment_id)


def _of_entry(entry: Entry, attachment_id: str) -> Attachment:
    for attachment in entry.attachments:
        if attachment.attachment_id == attachment_id:
            return attachment
    raise NotFound(f"entry {entry.entry_id} has no attachment {attachment_id}")


def _check_reviewable(entry: Entry) -> None:
    """The expert group reads a submitted entry's files, and only those: a draft is not theirs
    to read, a withdrawn entry's files are the team's again. The same answer as a missing one."""
    if entry.status != "submitted":
        raise NotFound(f"no submitted entry {entry.entry_id}")


async def describe_attachment(
    runner: Runner, *, entry_id: str, attachment_id: str, reader: Principal | None
) -> Attachment:
    """The attachment's record; `reader` None means the caller holds a signed link (or is of
    the review team), which reaches submitted entries only."""

    async def work(uow: UnitOfWork) -> Attachment:
        entry = await uow.entries.get(entry_id)
        if reader is not None:
            check_owner(entry, reader)
        else:
            _check_reviewable(entry)
        return _of_entry(entry, attachment_id)

    return await runner.run(work)


async def find_attachment(
    runner: Runner, files: FileStore, *, entry_id: str, attachment_id: str, reader: Principal | None
) -> Download:
    """The file; `reader` None means the caller holds a valid signed link."""
    attachment = await describe_attachment(
        runner, entry_id=entry_id, attachment_id=attachment_id, reader=reader
    )
    return Download(attachment=attachment, data=await files.get(attachment_id))


async def attachments_to_review(runner: Runner, *, entry_id: str) -> list[Attachment]:
    """A submitted entry's attachments, for the review team (who cannot read the entry itself:
    contact details stay with the team)."""

    async def work(uow: UnitOfWork) -> list[Attachment]:
        entry = await uow.entries.get(entry_id)
        _check_reviewable(entry)
        return list(entry.attachments)

    return await runner.run(work)
