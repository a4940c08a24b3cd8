"""What the use cases need from storage; MongoDB implements it, unit tests fake it."""

from __future__ import annotations

from typing import Protocol

from wsis_shared.events import EventBase
from wsis_shared.uow import UnitOfWorkRunner

from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Entry


class EditionRepository(Protocol):
    async def get(self, year: int) -> Edition: ...
    async def add(self, edition: Edition) -> None: ...
    async def save(self, edition: Edition) -> None: ...
    async def list(self) -> list[Edition]: ...


class EntryRepository(Protocol):
    async def get(self, entry_id: str) -> Entry: ...
    async def add(self, entry: Entry) -> None: ...
    async def save(self, entry: Entry) -> None: ...
    async def list_for_organisation(self, edition: int, organisation_id: str) -> list[Entry]: ...


class UnitOfWork(Protocol):
    @property
    def editions(self) -> EditionRepository: ...
    @property
    def entries(self) -> EntryRepository: ...

    async def publish(self, event: EventBase, key: str | None = None) -> None: ...


Runner = UnitOfWorkRunner[UnitOfWork]
