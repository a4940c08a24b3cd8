"""Contributions: what an organisation reports each year on how it implemented the WSIS outcomes.

A contribution is tagged with the action lines (C1–C11, and C7's eight applications) and the SDGs
it concerns. Tags found as explicit mentions ("Action Line C4", "SDG 4") are certain; tags
inferred from the vocabulary of the text carry a confidence and the sentence that suggested them,
so an editor can confirm or reject them. An editor's decisions are kept beside the machine's
suggestions, never instead of them, so re-tagging a text never loses a human correction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

TagKind = Literal["action_line", "sdg"]
TagSource = Literal["explicit", "inferred", "editor"]
TagDecision = Literal["confirmed", "rejected"]
ContributionFormat = Literal["fields", "text", "markdown", "pdf", "docx"]


class Tag(BaseModel):
    """One action line or SDG a contribution concerns.

    `code` is an action line ("C4", "C7"), a C7 application ("C7.e-learning", the category codes
    of `wsis_shared.vocabulary.Category`) or an SDG ("SDG4")."""

    kind: TagKind
    code: str
    source: TagSource
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str | None = Field(
        default=None, description="the sentence that mentions or suggests it"
    )
    decision: TagDecision | None = Field(
        default=None, description="an editor's confirmation or rejection of a suggested tag"
    )

    @property
    def in_effect(self) -> bool:
        """Counted in reports: explicit and editor tags unless rejected; inferred ones once an
        editor confirmed them."""
        if self.decision == "rejected":
            return False
        return self.source != "inferred" or self.decision == "confirmed"


class TagCorrection(BaseModel):
    """An editor's change to the tags, kept as an audit trail."""

    at: datetime
    by: str
    confirmed: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    note: str | None = None


class Contribution(BaseModel):
    contribution_id: str
    edition: int = Field(description="the year the contribution reports on")
    organisation: str
    title: str
    text: str = Field(description="the full text, extracted from the document when uploaded")
    format: ContributionFormat
    original_file_id: str | None = Field(
        default=None, description="GridFS id of the uploaded original"
    )
    original_filename: str | None = None
    submitted_by: str
    submitted_at: datetime
    tags: list[Tag] = Field(default_factory=list)
    corrections: list[TagCorrection] = Field(default_factory=list)

    def tags_in_effect(self, kind: TagKind) -> list[Tag]:
        return [tag for tag in self.tags if tag.kind == kind and tag.in_effect]
