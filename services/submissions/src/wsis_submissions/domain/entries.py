"""A project team's entry: a draft they edit, then submit in exactly one category."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Conflict, InvalidInput
from wsis_shared.events import EntryPublic, SubmissionSubmitted
from wsis_shared.geography import region_of
from wsis_shared.vocabulary import ActionLine, Category, StakeholderType, action_line_of
from wsis_submissions.domain.editions import Edition

SHORT_DESCRIPTION_WORDS = (150, 200)
EntryStatus = Literal["draft", "submitted", "withdrawn"]
_WORD = re.compile(r"\b[\w'’-]+\b", re.UNICODE)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


class EntryContent(BaseModel):
    """What a team writes. Everything is optional while drafting; submit checks completeness."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    short_description: str | None = None
    full_description: str | None = None
    category: Category | None = None
    action_lines: tuple[ActionLine, ...] = ()
    sdgs: tuple[int, ...] = ()
    country: str | None = None
    stakeholder_type: StakeholderType | None = None
    organisation_name: str | None = None
    website: str | None = None


REQUIRED_TO_SUBMIT = (
    "title",
    "short_description",
    "full_description",
    "category",
    "sdgs",
    "country",
    "stakeholder_type",
    "organisation_name",
)


class Entry(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry_id: str
    edition: int
    organisation_id: str
    created_by: str
    status: EntryStatus = "draft"
    content: EntryContent
    version: int = 1
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None

    def edit(self, changes: EntryContent, *, now: datetime) -> None:
        if self.status != "draft":
            raise Conflict(
                f"entry {self.entry_id} is {self.status}: only drafts can be edited here",
                entry_status=self.status,
            )
        self.content = self.content.model_copy(update=changes.model_dump(exclude_unset=True))
        self.version += 1
        self.updated_at = now

    def submit(self, edition: Edition, *, now: datetime) -> SubmissionSubmitted:
        if self.status != "draft":
            raise Conflict(
                f"entry {self.entry_id} is already {self.status}", entry_status=self.status
            )
        edition.require_phase_for_submission()
        public = self._public_view()
        edition.require_category(public.category)
        self.status = "submitted"
        self.version += 1
        self.submitted_at = self.updated_at = now
        return SubmissionSubmitted(
            occurred_at=now,
            aggregate_id=self.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=public,
        )

    def _public_view(self) -> EntryPublic:
        content = self.content
        missing = [name for name in REQUIRED_TO_SUBMIT if not getattr(content, name)]
        if missing:
            raise InvalidInput(
                f"complete these fields before submitting: {', '.join(missing)}", missing=missing
            )
        assert content.short_description
        assert content.category
        assert content.country
        assert content.title
        assert content.organisation_name
        assert content.stakeholder_type
        words = word_count(content.short_description)
        low, high = SHORT_DESCRIPTION_WORDS
        if not low <= words <= high:
            raise InvalidInput(
                f"the short description has {words} words; it must have {low}–{high} "
                "(it is what voters read)",
                field="short_description",
                words=words,
            )
        action_lines = tuple(
            dict.fromkeys((action_line_of(content.category), *content.action_lines))
        )
        return EntryPublic(
            entry_id=self.entry_id,
            category=content.category,
            title=content.title,
            short_description=content.short_description,
            organisation_id=self.organisation_id,
            organisation_name=content.organisation_name,
            country=content.country,
            region=region_of(content.country),
            stakeholder_type=content.stakeholder_type,
            action_lines=action_lines,
            sdgs=content.sdgs,
            website=content.website,
        )
