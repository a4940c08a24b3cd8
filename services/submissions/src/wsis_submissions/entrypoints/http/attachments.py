"""Attachments of an entry: PDF, PNG or JPEG, at most 10 MB each, sniffed from the content."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from wsis_shared.errors import WsisError
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
_HEADERS_ONLY: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "the download's headers alone (Content-Type, Content-Length: its size)"}
}
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


class AttachmentToReview(BaseModel):
    """One file of a submitted entry as the review team sees it: what it is, and a signed link
    to open it (the reviewer's browser holds no token the service would take)."""

    attachment_id: str
    filename: str
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]
    size: int
    link: AttachmentLink


class UnsupportedMediaType(WsisError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


def _check_raw_body(request: Request, entry_id: str) -> None:
    """A form upload (curl -F) wraps the file in parts, and JSON is no file at all: the sniffer
    would call either "unknown type" and send a person looking at the wrong thing. A body sent
    without a type is read (curl --data-binary alone says application/x-www-form-urlencoded)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not (
        media_type.startswith("multipart/")
        or media_type == "application/json"
        or media_type.endswith("+json")
    ):
        return
    raise UnsupportedMediaType(
        f"a {media_type} body is not accepted: send the file's raw bytes as the body, with "
        "Content-Type application/octet-stream and the file's name in ?filename=, e.g. "
        f"curl -X POST '…/entries/{entry_id}/attachments?filename=report.pdf' "
        "-H 'Authorization: Bearer …' -H 'Content-Type: application/octet-stream' "
        "--data-binary @report.pdf",
        accepted=["application/octet-stream"],
    )


def _file_response(attachment: Attachment, data: bytes | None) -> Response:
    """The file, or for HEAD (`data` None) the same headers without the body."""
    headers = {
        "Content-Disposition": attachment_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    if data is None:
        headers["Content-Length"] = str(attachment.size)
    return Response(data or b"", media_type=attachment.content_type, headers=headers)


def _link(request: Request, links: Links, entry_id: str, attachment_id: str) -> AttachmentLink:
    token = links.sign(entry_id, attachment_id)
    return AttachmentLink(
        url=str(request.url_for("download_signed", token=token)),
        expires_in_s=LINK_LIFETIME_S,
    )


@router.post(
    "/entries/{entry_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    max_body_size=_UPLOAD_LIMIT,
    summary="Attach a file: send its bytes as the body (submitter)",
    responses={
        409: {"description": "a submitted entry outside the submission phase (phase-closed)"},
        413: {"description": "larger than 10 MB"},
        415: {"description": "a form (multipart) or JSON body: send the file's raw bytes"},
        422: {"description": "not a PDF, PNG or JPEG, empty, or cut off"},
    },
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
    _check_raw_body(request, entry_id)  # before reading up to 10 MB that would be refused anyway
    data = await request.body()
    return await use_cases.add_attachment(
        uow, now, files, entry_id=entry_id, filename=filename, data=data, author=author
    )


@router.get(
    "/entries/{entry_id}/attachments",
    summary="The files of a submitted entry, each with a signed link (reviewer, chair, admin)",
)
async def attachments_to_review(
    entry_id: str, request: Request, reviewer: ReviewTeam, uow: UoW, links: Links
) -> list[AttachmentToReview]:
    found = await use_cases.attachments_to_review(uow, entry_id=entry_id)
    return [
        AttachmentToReview(
            attachment_id=a.attachment_id,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            link=_link(request, links, entry_id, a.attachment_id),
        )
        for a in found
    ]


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
    return _file_response(found.attachment, found.data)


@router.head(
    "/entries/{entry_id}/attachments/{attachment_id}",
    summary="The download's headers without the file (its team)",
    response_class=Response,
    responses=_HEADERS_ONLY,
)
async def download_head(
    entry_id: str, attachment_id: str, reader: SubmitterOrAdmin, uow: UoW
) -> Response:
    found = await use_cases.describe_attachment(
        uow, entry_id=entry_id, attachment_id=attachment_id, reader=reader
    )
    return _file_response(found, None)


@router.delete(
    "/entries/{entry_id}/attachments/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an attachment (submitter)",
    responses={
        409: {"description": "a submitted entry outside the submission phase (phase-closed)"}
    },
)
async def remove(
    entry_id: str, attachment_id: str, author: Submitter, uow: UoW, now: Now, files: Files
) -> None:
    await use_cases.remove_attachment(
        uow, now, files, entry_id=entry_id, attachment_id=attachment_id, author=author
    )


@router.post(
    "/entries/{entry_id}/attachments/{attachment_id}/link",
    summary="A signed link to a submitted entry's file, valid 15 minutes (reviewer, chair, admin)",
)
async def signed_link(
    entry_id: str,
    attachment_id: str,
    request: Request,
    reviewer: ReviewTeam,
    uow: UoW,
    links: Links,
) -> AttachmentLink:
    await use_cases.describe_attachment(
        uow, entry_id=entry_id, attachment_id=attachment_id, reader=None
    )
    return _link(request, links, entry_id, attachment_id)


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
    return _file_response(found.attachment, found.data)


@router.head(
    "/attachments/{token}",
    summary="A signed link's headers without the file (no sign-in)",
    response_class=Response,
    responses=_HEADERS_ONLY,
)
async def download_signed_head(token: str, uow: UoW, links: Links) -> Response:
    entry_id, attachment_id = links.verify(token)
    found = await use_cases.describe_attachment(
        uow, entry_id=entry_id, attachment_id=attachment_id, reader=None
    )
    return _file_response(found, None)
