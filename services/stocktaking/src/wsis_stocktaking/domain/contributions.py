"""Contributions: what an organisation reports each year on how it implemented the WSIS outcomes.

A contribution is tagged with the action lines (C1–C11, and C7's eight applications) and the SDGs
it concerns. Tags found as explicit mentions ("Action Line C4", "SDG 4") are certain; tags
inferred from the vocabulary of the text carry a confidence and the sentence that suggested them,
so an editor can confirm or reject them. An editor's decisions are kept beside the machine's
suggestions, never instead of them, so re-tagging a text never loses a human correction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from wsis_shared.errors import InvalidInput

TagKind = Literal["action_line", "sdg"]
TagSource = Literal["explicit", "inferred", "editor"]
TagDecision = Literal["confirmed", "rejected"]
ContributionFormat = Literal["fields", "text", "markdown", "pdf", "docx"]

C7: Final = "C7"
EXCERPT_CHARS: Final = 300


def kind_of(code: str) -> TagKind:
    return "sdg" if code.startswith("SDG") else "action_line"


def implied_codes(code: str) -> tuple[str, ...]:
    """Codes a tag brings with it: a C7 application is part of the C7 action line."""
    return (C7,) if code.startswith(f"{C7}.") else ()


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
    cues: list[str] = Field(
        default_factory=list,
        description="for an inferred tag, the words of the vocabulary found in the text, "
        "strongest first",
    )

    @property
    def in_effect(self) -> bool:
        """Counted in reports: explicit and editor tags unless rejected; inferred ones once an
        editor confirmed them."""
        if self.decision == "rejected":
            return False
        return self.source != "inferred" or self.decision == "confirmed"

    @property
    def awaits_decision(self) -> bool:
        return self.source == "inferred" and self.decision is None


class TagCorrection(BaseModel):
    """An editor's change to the tags, kept as an audit trail.

    The lists say what the correction did: `added` holds tags that were not there, `confirmed`
    tags now confirmed (with C7 when one of its applications was confirmed or added), `rejected`
    tags now rejected (with the applications of a rejected C7)."""

    at: datetime
    by: str
    confirmed: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    note: str | None = None


class ExtractedText(BaseModel):
    """The text read from a submitted document, with the type its bytes showed."""

    model_config = ConfigDict(frozen=True)

    format: ContributionFormat
    media_type: str
    text: str
    pages: int | None = None


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
    original_media_type: str | None = Field(
        default=None, description="the type sniffed from the original's bytes"
    )
    original_size: int | None = None
    organisation_id: str | None = Field(
        default=None, description="the organisation's account id, from the submitter's token"
    )
    submitted_by: str
    submitted_at: datetime
    tags: list[Tag] = Field(default_factory=list)
    corrections: list[TagCorrection] = Field(default_factory=list)

    def tags_in_effect(self, kind: TagKind) -> list[Tag]:
        return [tag for tag in self.tags if tag.kind == kind and tag.in_effect]

    def codes_in_effect(self) -> list[str]:
        return [tag.code for tag in self.tags if tag.in_effect]

    def codes_suggested(self) -> list[str]:
        """Every code not rejected: in effect, or waiting for an editor."""
        return [tag.code for tag in self.tags if tag.decision != "rejected"]

    @property
    def awaits_review(self) -> bool:
        return any(tag.awaits_decision for tag in self.tags)

    @property
    def fingerprint(self) -> str:
        """Equal for the same text filed twice for the same organisation and year, whatever
        its layout: a retried upload is recognised instead of stored again."""
        return fingerprint(self.edition, self.organisation_id or self.organisation, self.text)

    def excerpt(self, max_chars: int = EXCERPT_CHARS) -> str:
        squeezed = " ".join(self.text.split())
        if len(squeezed) <= max_chars:
            return squeezed
        return squeezed[:max_chars].rsplit(" ", 1)[0] + "…"

    def corrected(
        self,
        *,
        confirm: Iterable[str] = (),
        reject: Iterable[str] = (),
        add: Iterable[str] = (),
        note: str | None = None,
        by: str,
        at: datetime,
    ) -> Contribution:
        """The contribution after an editor's correction, with the correction in its trail.

        Codes must be canonical (see `tagging.parse_code`). Confirming or rejecting needs a tag
        that is there; adding one that is there (rejected or awaiting a decision) confirms it.
        Rejecting C7 rejects its applications; confirming or adding an application brings C7
        back into effect."""
        confirm, reject, add = _unique(confirm), _unique(reject), _unique(add)
        if not (confirm or reject or add):
            raise InvalidInput("say which tags to confirm, reject or add")
        contradicted = sorted(set(reject) & (set(confirm) | set(add)), key=str)
        if contradicted:
            raise InvalidInput(
                f"{', '.join(contradicted)} cannot be both rejected and confirmed or added: "
                "keep it in one list",
                codes=contradicted,
            )
        tags = {tag.code: tag.model_copy() for tag in self.tags}
        for code in (*confirm, *reject):
            if code not in tags:
                verb = "confirm" if code in confirm else "reject"
                hint = "; to tag it, put it under `add`" if verb == "confirm" else ""
                raise InvalidInput(
                    f"{code} is not among this contribution's tags, so there is nothing to "
                    f"{verb}{hint}",
                    code=code,
                )
        if C7 in reject:
            kept = [code for code in (*confirm, *add) if C7 in implied_codes(code)]
            if kept:
                raise InvalidInput(
                    f"rejecting C7 rejects its applications too, so {', '.join(kept)} cannot "
                    "be confirmed or added in the same correction",
                    codes=kept,
                )
            reject = reject + [
                code for code, tag in tags.items() if C7 in implied_codes(code) and tag.in_effect
            ]

        confirmed: list[str] = []
        added: list[str] = []

        def bring_into_effect(code: str) -> None:
            tag = tags.get(code)
            if tag is None:
                tags[code] = Tag(kind=kind_of(code), code=code, source="editor", confidence=1.0)
                added.append(code)
            elif not tag.in_effect or tag.awaits_decision:
                tag.decision = "confirmed"
                confirmed.append(code)

        for code in confirm:
            tags[code].decision = "confirmed"
            confirmed.append(code)
        for code in add:
            bring_into_effect(code)
        for code in (*confirm, *add):
            for implied in implied_codes(code):
                bring_into_effect(implied)
        for code in reject:
            tags[code].decision = "rejected"

        correction = TagCorrection(
            at=at,
            by=by,
            confirmed=_unique(confirmed),
            rejected=_unique(reject),
            added=added,
            note=note,
        )
        return self.model_copy(
            update={
                "tags": list(tags.values()),
                "corrections": [*self.corrections, correction],
            }
        )

    def retagged(self, suggestions: Iterable[Tag]) -> Contribution:
        """The contribution with fresh machine suggestions and every human decision kept: a
        decision follows its code to the new suggestion, an editor's tag becomes a confirmation
        of a suggestion of the same code, and decided or added codes no longer suggested stay
        as they were."""
        before = {tag.code: tag for tag in self.tags}
        merged: list[Tag] = []
        for suggestion in suggestions:
            prior = before.get(suggestion.code)
            decision = suggestion.decision
            if prior is not None and prior.decision is not None:
                decision = prior.decision
            elif prior is not None and prior.source == "editor":
                decision = "confirmed"
            merged.append(suggestion.model_copy(update={"decision": decision}))
        suggested = {tag.code for tag in merged}
        merged.extend(
            tag
            for tag in self.tags
            if tag.code not in suggested and (tag.source == "editor" or tag.decision is not None)
        )
        return self.model_copy(update={"tags": merged})


def fingerprint(edition: int, organisation: str, text: str) -> str:
    squeezed = " ".join(text.casefold().split())
    key = f"{edition}\n{organisation.strip().casefold()}\n{squeezed}"
    return hashlib.sha256(key.encode()).hexdigest()


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))
