"""A project team's entry: a draft they edit, then submit in exactly one category, then amend or
withdraw while the submission phase lasts."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wsis_shared.errors import Conflict, InvalidInput
from wsis_shared.events import (
    EntryPublic,
    IneligibilityReason,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    Withdrawal,
)
from wsis_shared.geography import region_of
from wsis_shared.text import word_count
from wsis_shared.vocabulary import (
    ActionLine,
    Category,
    Phase,
    ProjectStatus,
    StakeholderType,
    action_line_of,
)
from wsis_submissions.domain.editions import Edition

SHORT_DESCRIPTION_WORDS = (150, 200)
MAX_ATTACHMENTS = 10
EntryStatus = Literal["draft", "submitted", "withdrawn"]
SDG_TARGET_PATTERN = r"^(1[0-7]|[1-9])\.([1-9]|1[0-9]|[a-c])$"
_SDG_TARGET = re.compile(SDG_TARGET_PATTERN)


def _blank(value: object) -> bool:
    """Missing, empty, or only spaces (a draft saved before names were trimmed)."""
    return not value or (isinstance(value, str) and not value.strip())


class Attachment(BaseModel):
    attachment_id: str
    filename: str
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]
    size: int
    sha256: str
    uploaded_at: datetime


class EntryContent(BaseModel):
    """What a team writes. Everything is optional while drafting; submit checks completeness."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    short_description: str | None = None
    full_description: str | None = None
    category: Category | None = None
    action_lines: tuple[ActionLine, ...] = ()
    sdgs: tuple[int, ...] = ()
    sdg_targets: tuple[str, ...] = ()
    country: str | None = None
    stakeholder_type: StakeholderType | None = None
    organisation_name: str | None = None
    partners: tuple[str, ...] = ()
    impact_qualitative: str | None = None
    impact_quantitative: str | None = None
    challenges: str | None = None
    future_plans: str | None = None
    website: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    start_date: date | None = None
    project_status: ProjectStatus | None = None
    beneficiaries: str | None = None
    video_links: tuple[str, ...] = ()


# Field → why a person must fill it (the reason is shown as it is).
REQUIRED_TO_SUBMIT: dict[str, str] = {
    "title": "give the project a title",
    "short_description": "write the 150–200-word description voters will read",
    "full_description": "describe the project in full for the expert group",
    "category": "choose the one prize category the entry competes in",
    "sdgs": "name at least one Sustainable Development Goal (1–17)",
    "country": "name the country where the project is implemented",
    "stakeholder_type": "say which kind of organisation runs the project",
    "organisation_name": "name the organisation that runs the project",
    "impact_qualitative": "describe the project's impact",
    "beneficiaries": "say who benefits from the project",
    "start_date": "give the date the project started",
    "project_status": "say whether the project is completed or at the end of a major phase",
    "contact_name": "name a contact person",
    "contact_email": "give the contact person's email address",
}


class Eligibility(BaseModel):
    """The review's first pass, as the team sees it (from `eligibility.decided`)."""

    eligible: bool
    reason: IneligibilityReason | None = None
    note: str | None = None
    decided_at: datetime


class Entry(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry_id: str
    edition: int
    organisation_id: str
    created_by: str
    status: EntryStatus = "draft"
    content: EntryContent
    attachments: list[Attachment] = Field(default_factory=list)
    version: int = 1
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    eligibility: Eligibility | None = None

    # --- drafting -------------------------------------------------------------------------

    def edit(self, changes: EntryContent, *, now: datetime) -> dict[str, Any]:
        """Apply a draft's changes (only the fields sent); returns what changed."""
        if self.status != "draft":
            raise Conflict(
                f"entry {self.entry_id} is {self.status}: a submitted entry is changed with "
                "POST /entries/{id}/amend while the submission phase lasts",
                entry_status=self.status,
            )
        return self._apply(changes, now)

    def attach(self, attachment: Attachment, edition: Edition, *, now: datetime) -> None:
        self._require_changeable()
        self._require_attachments_open(edition, "adding an attachment to a submitted entry")
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise Conflict(f"an entry holds at most {MAX_ATTACHMENTS} attachments")
        self.attachments = [*self.attachments, attachment]
        self._touch(now)

    def detach(self, attachment_id: str, edition: Edition, *, now: datetime) -> Attachment:
        # A withdrawn entry's files may go in any phase: nobody reads them any more, and the
        # team may want them gone.
        if self.status != "withdrawn":
            self._require_attachments_open(edition, "removing an attachment from a submitted entry")
        found = [a for a in self.attachments if a.attachment_id == attachment_id]
        if not found:
            raise Conflict(f"entry {self.entry_id} has no attachment {attachment_id}")
        self.attachments = [a for a in self.attachments if a.attachment_id != attachment_id]
        self._touch(now)
        return found[0]

    # --- the contest ----------------------------------------------------------------------

    def submit(self, edition: Edition, *, now: datetime) -> SubmissionSubmitted:
        if self.status != "draft":
            raise Conflict(
                f"entry {self.entry_id} is already {self.status}", entry_status=self.status
            )
        edition.require_phase_for_submission()
        public = self.public_view(today=now.date())
        edition.require_category(public.category)
        self.status = "submitted"
        self.submitted_at = now
        self._touch(now)
        return SubmissionSubmitted(
            occurred_at=now,
            aggregate_id=self.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=public,
        )

    def amend(
        self, changes: EntryContent, edition: Edition, *, now: datetime
    ) -> tuple[SubmissionAmended, dict[str, Any]]:
        if self.status != "submitted":
            raise Conflict(
                f"entry {self.entry_id} is {self.status}: only a submitted entry can be amended",
                entry_status=self.status,
            )
        edition.require_phase(Phase.SUBMISSION, "amending an entry")
        # Check the amended entry on a copy: a refused amendment leaves this one untouched.
        amended = self.model_copy(deep=True)
        changed = amended._apply(changes, now)
        public = amended.public_view(today=now.date())
        edition.require_category(public.category)
        self.content, self.version, self.updated_at = (
            amended.content,
            amended.version,
            amended.updated_at,
        )
        event = SubmissionAmended(
            occurred_at=now,
            aggregate_id=self.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=public,
        )
        return event, changed

    def withdraw(
        self, edition: Edition, *, reason: str | None, now: datetime
    ) -> SubmissionWithdrawn:
        if self.status != "submitted":
            raise Conflict(
                f"entry {self.entry_id} is {self.status}: only a submitted entry can be "
                "withdrawn (a draft can simply be left)",
                entry_status=self.status,
            )
        edition.require_phase(Phase.SUBMISSION, "withdrawing an entry")
        assert self.content.category is not None
        self.status = "withdrawn"
        self.withdrawn_at = now
        self._touch(now)
        return SubmissionWithdrawn(
            occurred_at=now,
            aggregate_id=self.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=Withdrawal(
                entry_id=self.entry_id, category=self.content.category, reason=reason
            ),
        )

    def public_view(self, *, today: date) -> EntryPublic:
        """The public fields, after every rule a complete entry must meet (else InvalidInput)."""
        content = self.content
        missing = [name for name in REQUIRED_TO_SUBMIT if _blank(getattr(content, name))]
        problems = {f"/{name}": REQUIRED_TO_SUBMIT[name] for name in missing}
        if content.short_description:
            words = word_count(content.short_description)
            low, high = SHORT_DESCRIPTION_WORDS
            if not low <= words <= high:
                problems["/short_description"] = (
                    f"has {words} words; it must have {low}–{high} (it is what voters read)"
                )
        if content.project_status == ProjectStatus.ONGOING:
            problems["/project_status"] = (
                "ongoing projects are not eligible: submit when the project is completed or "
                "at the end of a major phase"
            )
        # `today` is UTC's; in Kiribati (UTC+14) tomorrow has begun: a date is "not yet" only
        # when it is later than tomorrow in UTC.
        if content.start_date and content.start_date > today + timedelta(days=1):
            problems["/start_date"] = "a project that has not started yet cannot be submitted"
        malformed = [t for t in content.sdg_targets if not _SDG_TARGET.match(t)]
        stray_targets = [
            t
            for t in content.sdg_targets
            if t not in malformed and int(t.split(".")[0]) not in content.sdgs
        ]
        if malformed:
            problems["/sdg_targets"] = f"{', '.join(malformed)}: not SDG targets such as 4.4 or 9.c"
        elif stray_targets:
            problems["/sdg_targets"] = (
                f"targets {', '.join(stray_targets)} belong to SDGs not listed in /sdgs"
            )
        if problems:
            raise InvalidInput(
                "the entry is not complete: " + "; ".join(f"{k} {v}" for k, v in problems.items()),
                errors=[{"pointer": k, "detail": v} for k, v in problems.items()],
                missing=missing,
            )
        assert content.short_description
        assert content.category
        assert content.country
        assert content.title
        assert content.organisation_name
        assert content.stakeholder_type
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
            sdg_targets=content.sdg_targets,
            partners=content.partners,
            impact_qualitative=content.impact_qualitative,
            impact_quantitative=content.impact_quantitative,
            challenges=content.challenges,
            future_plans=content.future_plans,
            beneficiaries=content.beneficiaries,
            start_date=content.start_date,
            project_status=content.project_status,
            video_links=content.video_links,
        )

    # --- internals ------------------------------------------------------------------------

    def _apply(self, changes: EntryContent, now: datetime) -> dict[str, Any]:
        sent = changes.model_dump(exclude_unset=True)
        current = self.content.model_dump()
        changed = {k: v for k, v in sent.items() if current.get(k) != v}
        if changed:
            self.content = self.content.model_copy(update=changed)
            self._touch(now)
        return changed

    def _require_changeable(self) -> None:
        if self.status == "withdrawn":
            raise Conflict(f"entry {self.entry_id} was withdrawn", entry_status=self.status)

    def _require_attachments_open(self, edition: Edition, action: str) -> None:
        """A submitted entry's files are part of what the expert group reviews: like its text
        (amend), they change only while the submission phase lasts. A draft's change freely."""
        if self.status == "submitted":
            edition.require_phase(Phase.SUBMISSION, action)

    def _touch(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now
