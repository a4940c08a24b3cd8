"""The expert group: the chair and admins manage reviewers; a reviewer declares conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from wsis_review.domain.reviewers import (
    DeclaredConflict,
    Reviewer,
    ReviewerFields,
    ReviewerId,
    ReviewerUpdate,
)
from wsis_review.entrypoints.http.dependencies import ChairOrAdmin, UoW
from wsis_review.entrypoints.http.dependencies import Reviewer as ReviewerRole
from wsis_review.service_layer import assignments as assignment_cases
from wsis_review.service_layer import reviewers as use_cases
from wsis_review.service_layer.reviewers import CSV_COLUMNS
from wsis_shared.errors import InvalidInput
from wsis_shared.events import utcnow

router = APIRouter(tags=["reviewers"])

_IMPORT_LIMIT = 2 * 1024 * 1024


class ReviewerCreate(ReviewerFields):
    reviewer_id: ReviewerId


class ReviewerPublic(BaseModel):
    reviewer_id: str
    name: str
    email: str
    organisation: str
    country: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]
    max_load: int
    active: bool
    conflict_organisations: tuple[str, ...]
    conflict_entries: tuple[str, ...]
    updated_at: datetime

    @classmethod
    def of(cls, reviewer: Reviewer) -> ReviewerPublic:
        return cls.model_validate(reviewer.model_dump())


class ImportedRowPublic(BaseModel):
    row: int
    reviewer_id: str | None
    outcome: str
    errors: list[dict[str, str]]


class ImportReport(BaseModel):
    dry_run: bool
    created: int
    updated: int
    valid: int
    errors: int
    rows: list[ImportedRowPublic]


@router.post(
    "/reviewers",
    status_code=status.HTTP_201_CREATED,
    summary="Add a reviewer to the expert group (chair, admin)",
)
async def add_reviewer(body: ReviewerCreate, by: ChairOrAdmin, uow: UoW) -> ReviewerPublic:
    fields = ReviewerFields.model_validate(body.model_dump(exclude={"reviewer_id"}))
    reviewer = await use_cases.add_reviewer(
        uow, reviewer_id=body.reviewer_id, fields=fields, by=by, now=utcnow()
    )
    return ReviewerPublic.of(reviewer)


@router.get("/reviewers", summary="The expert group (chair, admin)")
async def list_reviewers(reader: ChairOrAdmin, uow: UoW) -> list[ReviewerPublic]:
    return [ReviewerPublic.of(r) for r in await use_cases.list_reviewers(uow)]


@router.get("/reviewers/{reviewer_id}", summary="One reviewer (chair, admin)")
async def get_reviewer(reviewer_id: str, reader: ChairOrAdmin, uow: UoW) -> ReviewerPublic:
    return ReviewerPublic.of(await use_cases.get_reviewer(uow, reviewer_id=reviewer_id))


@router.patch("/reviewers/{reviewer_id}", summary="Change a reviewer (chair, admin)")
async def update_reviewer(
    reviewer_id: str, body: ReviewerUpdate, by: ChairOrAdmin, uow: UoW
) -> ReviewerPublic:
    reviewer = await use_cases.update_reviewer(
        uow, reviewer_id=reviewer_id, update=body, by=by, now=utcnow()
    )
    return ReviewerPublic.of(reviewer)


@router.post(
    "/reviewers/import",
    max_body_size=_IMPORT_LIMIT,
    summary="Import reviewers from CSV, with a report per row (chair, admin)",
    description=(
        "Send the CSV as the body (`Content-Type: text/csv`) or as the form field `file` "
        f"(multipart). Columns: {', '.join(CSV_COLUMNS)}; lists (languages, categories) "
        "separated by semicolons. Valid rows are created or updated by reviewer_id; invalid "
        "rows change nothing and are reported with the column and the reason."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_reviewers(
    request: Request,
    by: ChairOrAdmin,
    uow: UoW,
    dry_run: Annotated[bool, Query(description="check only, change nothing")] = False,
) -> ImportReport:
    text = await _csv_text(request)
    rows = await use_cases.import_reviewers(uow, text=text, dry_run=dry_run, by=by, now=utcnow())
    count = {
        o: sum(1 for r in rows if r.outcome == o) for o in ("created", "updated", "valid", "error")
    }
    return ImportReport(
        dry_run=dry_run,
        created=count["created"],
        updated=count["updated"],
        valid=count["valid"],
        errors=count["error"],
        rows=[ImportedRowPublic.model_validate(r, from_attributes=True) for r in rows],
    )


async def _csv_text(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the CSV file in the form field `file`")
        data = await upload.read()
    else:
        data = await request.body()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8 text (save it as “CSV UTF-8”)") from None


@router.get("/me/reviewer", summary="My reviewer profile (reviewer)")
async def my_profile(reviewer: ReviewerRole, uow: UoW) -> ReviewerPublic:
    return ReviewerPublic.of(await use_cases.get_reviewer(uow, reviewer_id=reviewer.subject))


@router.post(
    "/me/conflicts",
    summary="Declare a conflict with an organisation or an entry (reviewer)",
    description="Open assignments it touches are handed to another reviewer at once.",
)
async def declare_conflict(
    body: DeclaredConflict, reviewer: ReviewerRole, uow: UoW
) -> ReviewerPublic:
    profile = await assignment_cases.declare_conflict(
        uow, reviewer=reviewer, conflict=body, now=utcnow()
    )
    return ReviewerPublic.of(profile)
