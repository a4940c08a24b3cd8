"""What the use cases need from storage; MongoDB implements it, unit tests fake it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from wsis_shared.events import EventBase
from wsis_shared.geography import CountryCode
from wsis_shared.uow import UnitOfWorkRunner
from wsis_shared.vocabulary import Category, Region, StakeholderType
from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Eligibility, Entry, EntryStatus
from wsis_submissions.domain.similarity import Fingerprint


class EditionRepository(Protocol):
    async def get(self, year: int) -> Edition: ...
    async def get_recent(self, year: int) -> Edition:
        """The edition to decide a team's request by: while it takes submissions, as read at most
        a second ago; otherwise as stored now. Never to change it from (use `get`)."""

    async def add(self, edition: Edition) -> None: ...
    async def save(self, edition: Edition) -> None: ...
    async def list(self) -> list[Edition]: ...


@dataclass(frozen=True)
class SimilarEntry:
    entry_id: str
    organisation_id: str
    title: str
    edition: int
    won_edition: int | None
    fingerprint: Fingerprint


class EntryFilter(BaseModel):
    category: Category | None = None
    country: CountryCode | None = None
    region: Region | None = None
    stakeholder_type: StakeholderType | None = None
    status: EntryStatus | None = None


class EntryRepository(Protocol):
    async def get(self, entry_id: str) -> Entry: ...
    async def add(self, entry: Entry) -> None: ...
    async def save(self, entry: Entry, fingerprint: Fingerprint | None = None) -> None:
        """Store the entry; a fingerprint is stored with it when given (submitted entries)."""

    async def list_for_organisation(self, edition: int, organisation_id: str) -> list[Entry]: ...
    async def similar(
        self, edition: int, fingerprint: Fingerprint, exclude: str
    ) -> list[SimilarEntry]:
        """Submitted entries of `edition` and previous winners that share a band key."""

    async def mark_winner(self, entry_id: str, edition: int) -> None: ...
    async def record_eligibility(self, entry_id: str, eligibility: Eligibility) -> None: ...
    async def search(
        self, edition: int, where: EntryFilter, after: str | None, limit: int
    ) -> list[Entry]: ...
    def stream(self, edition: int, where: EntryFilter) -> AsyncIterator[Entry]: ...


HistoryAction = Literal[
    "created", "edited", "submitted", "amended", "withdrawn", "attached", "detached"
]


class HistoryRecord(BaseModel):
    entry_id: str
    version: int
    at: datetime
    by: str
    action: HistoryAction
    changes: dict[str, Any]


class HistoryRepository(Protocol):
    async def add(self, record: HistoryRecord) -> None: ...
    async def of_entry(self, entry_id: str) -> list[HistoryRecord]: ...


class UnitOfWork(Protocol):
    @property
    def editions(self) -> EditionRepository: ...
    @property
    def entries(self) -> EntryRepository: ...
    @property
    def history(self) -> HistoryRepository: ...

    async def publish(self, event: EventBase, key: str | None = None) -> None: ...


Runner = UnitOfWorkRunner[UnitOfWork]
