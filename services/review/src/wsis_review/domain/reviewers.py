"""The expert group: reviewers, their expertise and load, and the conflicts they declare."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from wsis_review.domain.assignment import ReviewerProfile, normalised_name
from wsis_shared.geography import UnknownCountry, country
from wsis_shared.text import single_line
from wsis_shared.vocabulary import Category

_LANGUAGE = re.compile(r"^[a-z]{2}$")

# A reviewer's id is the `sub` of their token and a segment of URLs such as
# /reviewers/{reviewer_id}: one rule for every way a reviewer is added, so none is created that
# the API cannot address afterwards.
ReviewerId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[\w.@:-]+$",
        description="the reviewer's account id: the `sub` of the token they sign in with",
    ),
]


def _country_code(code: str) -> str:
    try:
        return country(code).code
    except UnknownCountry as exc:
        raise ValueError(str(exc)) from None


def _languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(sorted({c.strip().lower() for c in codes if c.strip()}))
    for code in cleaned:
        if not _LANGUAGE.match(code):
            raise ValueError(f"{code!r} is not an ISO 639-1 language code such as en, fr or ar")
    return cleaned


CountryCode = Annotated[str, AfterValidator(_country_code)]
# A name as chairs and reviewers will read it: one line of visible text.
Line = Annotated[str, AfterValidator(single_line)]
Languages = Annotated[tuple[str, ...], AfterValidator(_languages)]


class ReviewerFields(BaseModel):
    """What the chair or an admin states about a reviewer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=200)
    email: EmailStr
    organisation: Line = Field(min_length=1, max_length=300)
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")
    languages: Languages = ()
    categories: tuple[Category, ...] = Field(
        min_length=1, description="prize categories of expertise"
    )
    max_load: int = Field(default=30, ge=1, le=1000, description="most entries per edition")
    active: bool = True


class ReviewerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    organisation: Line | None = Field(default=None, min_length=1, max_length=300)
    country: CountryCode | None = None
    languages: Languages | None = None
    categories: tuple[Category, ...] | None = Field(default=None, min_length=1)
    max_load: int | None = Field(default=None, ge=1, le=1000)
    active: bool | None = None


class DeclaredConflict(BaseModel):
    """A reviewer declares a conflict with an organisation or with one entry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation: str | None = Field(default=None, min_length=1, max_length=300)
    entry_id: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.organisation is None) == (self.entry_id is None):
            raise ValueError("name either an organisation or an entry_id")
        return self


class Reviewer(ReviewerFields):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    reviewer_id: str = Field(description="the reviewer's account (the `sub` of their token)")
    conflict_organisations: tuple[str, ...] = ()
    conflict_entries: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime

    def declare(self, conflict: DeclaredConflict, now: datetime) -> None:
        if conflict.organisation is not None:
            name = normalised_name(conflict.organisation)
            # Names declared before may be stored in an older normal form: compare them anew.
            if name not in {normalised_name(n) for n in self.conflict_organisations}:
                self.conflict_organisations = (*self.conflict_organisations, name)
        if conflict.entry_id is not None and conflict.entry_id not in self.conflict_entries:
            self.conflict_entries = (*self.conflict_entries, conflict.entry_id)
        self.updated_at = now

    def profile(self) -> ReviewerProfile:
        return ReviewerProfile(
            reviewer_id=self.reviewer_id,
            organisation=self.organisation,
            country=self.country,
            categories=frozenset(self.categories),
            max_load=self.max_load,
            conflict_organisations=frozenset(self.conflict_organisations),
            conflict_entries=frozenset(self.conflict_entries),
            languages=frozenset(self.languages),
        )
