"""Project teams' drafts and entries. A team sees only its own organisation's entries."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, HttpUrl, field_validator

from wsis_shared.geography import country as lookup_country
from wsis_shared.vocabulary import ActionLine, Category, StakeholderType
from wsis_submissions.domain.entries import Entry, EntryContent, EntryStatus
from wsis_submissions.entrypoints.http.dependencies import Now, Submitter, SubmitterOrAdmin, UoW
from wsis_submissions.service_layer import entries as use_cases

router = APIRouter(tags=["entries"])


class EntryFields(BaseModel):
    """Fields a team writes; all optional while drafting (an autosave sends what changed)."""

    title: str | None = Field(default=None, min_length=3, max_length=200)
    short_description: str | None = Field(default=None, max_length=2000)
    full_description: str | None = Field(default=None, max_length=20000)
    category: Category | None = None
    action_lines: tuple[ActionLine, ...] | None = None
    sdgs: tuple[int, ...] | None = Field(default=None, description="SDGs 1–17")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. KE")
    stakeholder_type: StakeholderType | None = None
    organisation_name: str | None = Field(default=None, min_length=2, max_length=200)
    website: HttpUrl | None = None

    @field_validator("sdgs")
    @classmethod
    def sdgs_in_range(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and any(not 1 <= sdg <= 17 for sdg in value):
            raise ValueError("SDGs are numbered 1 to 17")
        return tuple(dict.fromkeys(value)) if value is not None else None

    @field_validator("country")
    @classmethod
    def known_country(cls, value: str | None) -> str | None:
        return lookup_country(value).code if value is not None else None

    def to_content(self) -> EntryContent:
        data = self.model_dump(exclude_unset=True, exclude_none=True)
        if "website" in data:
            data["website"] = str(data["website"])
        return EntryContent.model_validate(data)


class EntryCreate(EntryFields):
    pass


class EntryUpdate(EntryFields):
    pass


class EntryOwnerView(BaseModel):
    """An entry as its team (or an admin) sees it."""

    entry_id: str
    edition: int
    organisation_id: str
    status: EntryStatus
    content: EntryContent
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None

    @classmethod
    def of(cls, entry: Entry) -> EntryOwnerView:
        return cls.model_validate(entry.model_dump())


@router.post(
    "/editions/{year}/entries",
    status_code=status.HTTP_201_CREATED,
    summary="Start a draft entry (submitter)",
)
async def create_draft(
    year: int, body: EntryCreate, author: Submitter, uow: UoW, now: Now
) -> EntryOwnerView:
    entry = await use_cases.create_draft(
        uow, now, year=year, content=body.to_content(), author=author
    )
    return EntryOwnerView.of(entry)


@router.get("/editions/{year}/entries", summary="My organisation's entries (submitter)")
async def list_entries(year: int, reader: Submitter, uow: UoW) -> list[EntryOwnerView]:
    entries = await use_cases.list_entries(uow, year=year, reader=reader)
    return [EntryOwnerView.of(entry) for entry in entries]


@router.get("/entries/{entry_id}", summary="One entry (its team or an admin)")
async def get_entry(entry_id: str, reader: SubmitterOrAdmin, uow: UoW) -> EntryOwnerView:
    return EntryOwnerView.of(await use_cases.get_entry(uow, entry_id=entry_id, reader=reader))


@router.patch("/entries/{entry_id}", summary="Edit a draft; send only what changed (submitter)")
async def edit_draft(
    entry_id: str, body: EntryUpdate, author: Submitter, uow: UoW, now: Now
) -> EntryOwnerView:
    entry = await use_cases.edit_draft(
        uow, now, entry_id=entry_id, changes=body.to_content(), author=author
    )
    return EntryOwnerView.of(entry)


@router.post("/entries/{entry_id}/submit", summary="Submit a complete draft (submitter)")
async def submit_entry(entry_id: str, author: Submitter, uow: UoW, now: Now) -> EntryOwnerView:
    return EntryOwnerView.of(
        await use_cases.submit_entry(uow, now, entry_id=entry_id, author=author)
    )
