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
    return mime


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
        entry.attach(attachment, now=clock())
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
        removed = entry.detach(attachment_id, now=clock())
        await uow.entries.save(entry)
        await record_history(uow, entry, author, "detached", {"attachment": removed.filename})
        return removed

    await runner.run(work)
    await files.delete(attachment_id)


async def find_attachment(
    runner: Runner, files: FileStore, *, entry_id: str, attachment_id: str, reader: Principal | None
) -> Download:
    """The file; `reader` None means the caller holds a valid signed link."""

    async def work(uow: UnitOfWork) -> Attachment:
        entry = await uow.entries.get(entry_id)
        if reader is not None:
            check_owner(entry, reader)
        for attachment in entry.attachments:
            if attachment.attachment_id == attachment_id:
                return attachment
        raise NotFound(f"entry {entry_id} has no attachment {attachment_id}")

    attachment = await runner.run(work)
    return Download(attachment=attachment, data=await files.get(attachment_id))
