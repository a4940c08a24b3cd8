"""Project teams' drafts and entries. A team sees only its own organisation's entries."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import (
    AfterValidator,
    BaseModel,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)

from wsis_shared.geography import country as lookup_country
from wsis_shared.text import single_line
from wsis_shared.vocabulary import ActionLine, Category, EditionYear, ProjectStatus, StakeholderType
from wsis_submissions.domain.entries import (
    SDG_TARGET_PATTERN,
    Attachment,
    Eligibility,
    Entry,
    EntryContent,
    EntryStatus,
)
from wsis_submissions.entrypoints.http.dependencies import (
    Now,
    Submitter,
    SubmitterOrAdmin,
    UoW,
)
from wsis_submissions.service_layer import entries as use_cases
from wsis_submissions.service_layer.unit_of_work import HistoryRecord

router = APIRouter(tags=["entries"])

_SDG_TARGET = re.compile(SDG_TARGET_PATTERN)


def _sdg_target(value: str) -> str:
    value = value.strip().lower()
    if not _SDG_TARGET.match(value):
        raise ValueError(f"{value!r} is not an SDG target such as 4.4 or 9.c")
    return value


Text = Annotated[str, Field(min_length=1, max_length=5000)]
# Names and titles: outer spaces dropped before their length is checked (a title of spaces is
# no title), one line of visible text.
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(single_line),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=200),
    AfterValidator(single_line),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=200),
    AfterValidator(single_line),
]


class EntryFields(BaseModel):
    """Fields a team writes; all optional while drafting (an autosave sends what changed)."""

    model_config = {"extra": "forbid"}

    title: Title | None = None
    short_description: str | None = Field(
        default=None, max_length=3000, description="150–200 words: what voters read"
    )
    full_description: str | None = Field(default=None, max_length=20000)
    category: Category | None = None
    action_lines: list[ActionLine] | None = Field(default=None, max_length=11)
    sdgs: list[Annotated[int, Field(ge=1, le=17)]] | None = Field(
        default=None, max_length=17, description="SDGs 1–17"
    )
    sdg_targets: list[Annotated[str, AfterValidator(_sdg_target)]] | None = Field(
        default=None, max_length=50, description="e.g. 4.4, 9.c"
    )
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. KE")
    stakeholder_type: StakeholderType | None = None
    organisation_name: Name | None = None
    partners: list[ShortText] | None = Field(default=None, max_length=50)
    impact_qualitative: Text | None = None
    impact_quantitative: Text | None = None
    challenges: Text | None = None
    future_plans: Text | None = None
    website: HttpUrl | None = None
    contact_name: Name | None = None
    contact_email: EmailStr | None = None
    start_date: date | None = None
    project_status: ProjectStatus | None = None
    beneficiaries: Text | None = None
    video_links: list[HttpUrl] | None = Field(default=None, max_length=5)

    @field_validator("country")
    @classmethod
    def known_country(cls, value: str | None) -> str | None:
        return lookup_country(value).code if value is not None else None

    @field_validator("sdgs", "action_lines", "sdg_targets", "partners")
    @classmethod
    def without_repeats(cls, value: list[Any] | None) -> list[Any] | None:
        return list(dict.fromkeys(value)) if value is not None else None

    def to_content(self) -> EntryContent:
        """Only the fields sent (an explicit null clears a field)."""
        data = self.model_dump(mode="json", exclude_unset=True)
        for name in ("action_lines", "sdgs", "sdg_targets", "partners", "video_links"):
            if name in data and data[name] is None:
                data[name] = []
        return EntryContent.model_validate(data)


class EntryCreate(EntryFields):
    pass


class EntryUpdate(EntryFields):
    pass


class Withdrawal(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class EntryOwnerView(BaseModel):
    """An entry as its team (or an admin) sees it: everything, contact details included."""

    entry_id: str
    edition: int
    organisation_id: str
    status: EntryStatus
    content: EntryContent
    attachments: list[Attachment]
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    eligibility: Eligibility | None = Field(
        default=None, description="the review's eligibility decision, once taken"
    )

    @classmethod
    def of(cls, entry: Entry) -> EntryOwnerView:
        return cls.model_validate(entry.model_dump())


@router.post(
    "/editions/{year}/entries",
    status_code=status.HTTP_201_CREATED,
    summary="Start a draft entry (submitter)",
)
async def create_draft(
    year: EditionYear, body: EntryCreate, author: Submitter, uow: UoW, now: Now
) -> EntryOwnerView:
    entry = await use_cases.create_draft(
        uow, now, year=year, content=body.to_content(), author=author
    )
    return EntryOwnerView.of(entry)


@router.get("/editions/{year}/entries", summary="My organisation's entries (submitter)")
async def list_entries(year: EditionYear, reader: Submitter, uow: UoW) -> list[EntryOwnerView]:
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


@router.post(
    "/entries/{entry_id}/amend",
    summary="Change a submitted entry while the submission phase lasts (submitter)",
)
async def amend_entry(
    entry_id: str, body: EntryUpdate, author: Submitter, uow: UoW, now: Now
) -> EntryOwnerView:
    entry = await use_cases.amend_entry(
        uow, now, entry_id=entry_id, changes=body.to_content(), author=author
    )
    return EntryOwnerView.of(entry)


@router.post(
    "/entries/{entry_id}/withdraw",
    summary="Withdraw a submitted entry while the submission phase lasts (submitter)",
)
async def withdraw_entry(
    entry_id: str, author: Submitter, uow: UoW, now: Now, body: Withdrawal | None = None
) -> EntryOwnerView:
    # The reason is optional, so is the body: `curl -X POST …/withdraw` withdraws.
    entry = await use_cases.withdraw_entry(
        uow, now, entry_id=entry_id, reason=body.reason if body else None, author=author
    )
    return EntryOwnerView.of(entry)


@router.get(
    "/entries/{entry_id}/history",
    summary="Every change to an entry: who, when, what (its team or an admin)",
)
async def entry_history(entry_id: str, reader: SubmitterOrAdmin, uow: UoW) -> list[HistoryRecord]:
    return await use_cases.entry_history(uow, entry_id=entry_id, reader=reader)
