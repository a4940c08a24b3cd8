"""Attachments of an entry: PDF, PNG or JPEG, at most 10 MB each, sniffed from the content."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from wsis_shared.web import attachment_disposition
from wsis_submissions.adapters.files import LINK_LIFETIME_S
from wsis_submissions.domain.entries import Attachment
from wsis_submissions.entrypoints.http.dependencies import (
    Files,
    Links,
    Now,
    ReviewTeam,
    Submitter,
    SubmitterOrAdmin,
    UoW,
)
from wsis_submissions.service_layer import attachments as use_cases

router = APIRouter(tags=["attachments"])
_UPLOAD_LIMIT = use_cases.MAX_ATTACHMENT_BYTES + 64 * 1024


# What a download answers: the file's bytes with its sniffed type (not JSON).
_FILE: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "the file, with its type as sniffed from its content at upload",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in ("application/pdf", "image/png", "image/jpeg")
        },
    }
}


class AttachmentLink(BaseModel):
    url: str
    expires_in_s: int


def _file_response(download: use_cases.Download) -> Response:
    attachment = download.attachment
    return Response(
        download.data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": attachment_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=300",
        },
    )


@router.post(
    "/entries/{entry_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    max_body_size=_UPLOAD_LIMIT,
    summary="Attach a file: send its bytes as the body (submitter)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def add_attachment(
    entry_id: str,
    request: Request,
    author: Submitter,
    uow: UoW,
    now: Now,
    files: Files,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> Attachment:
    data = await request.body()
    return await use_cases.add_attachment(
        uow, now, files, entry_id=entry_id, filename=filename, data=data, author=author
    )


@router.get(
    "/entries/{entry_id}/attachments/{attachment_id}",
    summary="Download (its team)",
    response_class=Response,
    responses=_FILE,
)
async def download(
    entry_id: str, attachment_id: str, reader: SubmitterOrAdmin, uow: UoW, files: Files
) -> Response:
    found = await use_cases.find_attachment(
        uow, files, entry_id=entry_id, attachment_id=attachment_id, reader=reader
    )
    return _file_response(found)


@router.delete(
    "/entries/{entry_id}/attachments/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an attachment (submitter)",
)
async def remove(
    entry_id: str, attachment_id: str, author: Submitter, uow: UoW, now: Now, files: Files
) -> None:
    await use_cases.remove_attachment(
        uow, now, files, entry_id=entry_id, attachment_id=attachment_id, author=author
    )


@router.post(
    "/entries/{entry_id}/attachments/{attachment_id}/link",
    summary="A signed link to the file, valid 15 minutes (reviewer, chair, admin)",
)
async def signed_link(
    entry_id: str,
    attachment_id: str,
    request: Request,
    reviewer: ReviewTeam,
    uow: UoW,
    files: Files,
    links: Links,
) -> AttachmentLink:
    await use_cases.find_attachment(
        uow, files, entry_id=entry_id, attachment_id=attachment_id, reader=None
    )
    token = links.sign(entry_id, attachment_id)
    return AttachmentLink(
        url=str(request.url_for("download_signed", token=token)),
        expires_in_s=LINK_LIFETIME_S,
    )


@router.get(
    "/attachments/{token}",
    name="download_signed",
    summary="Download by a signed link (no sign-in)",
    response_class=Response,
    responses=_FILE,
)
async def download_signed(token: str, uow: UoW, files: Files, links: Links) -> Response:
    entry_id, attachment_id = links.verify(token)
    found = await use_cases.find_attachment(
        uow, files, entry_id=entry_id, attachment_id=attachment_id, reader=None
    )
    return _file_response(found)
