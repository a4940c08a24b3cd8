"""What the review use cases need from storage; MongoDB implements it, unit tests fake it."""

from __future__ import annotations

from typing import Protocol

from wsis_review.domain.candidates import Candidate, EditionPhase
from wsis_shared.events import EventBase
from wsis_shared.uow import UnitOfWorkRunner


class CandidateRepository(Protocol):
    async def get(self, entry_id: str) -> Candidate: ...
    async def find(self, entry_id: str) -> Candidate | None: ...
    async def upsert(self, candidate: Candidate) -> None: ...
    async def list(self, edition: int) -> list[Candidate]: ...


class EditionPhaseRepository(Protocol):
    async def get(self, year: int) -> EditionPhase: ...
    async def save(self, edition: EditionPhase) -> None: ...


class UnitOfWork(Protocol):
    @property
    def candidates(self) -> CandidateRepository: ...
    @property
    def editions(self) -> EditionPhaseRepository: ...

    async def publish(self, event: EventBase, key: str | None = None) -> None: ...


Runner = UnitOfWorkRunner[UnitOfWork]
