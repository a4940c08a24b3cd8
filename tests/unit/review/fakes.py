"""In-memory repositories and unit of work of the review service (no I/O)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from wsis_review.domain.candidates import Candidate, EditionPhase
from wsis_review.service_layer.unit_of_work import UnitOfWork
from wsis_shared.errors import NotFound
from wsis_shared.events import EventBase

T = TypeVar("T")


class InMemoryCandidates:
    def __init__(self, items: dict[str, Candidate]) -> None:
        self.items = items

    async def get(self, entry_id: str) -> Candidate:
        candidate = await self.find(entry_id)
        if candidate is None:
            raise NotFound(f"no submitted entry {entry_id} has reached the review")
        return candidate

    async def find(self, entry_id: str) -> Candidate | None:
        found = self.items.get(entry_id)
        return found.model_copy(deep=True) if found else None

    async def upsert(self, candidate: Candidate) -> None:
        self.items[candidate.entry_id] = candidate.model_copy(deep=True)

    async def list(self, edition: int) -> list[Candidate]:
        found = [c for c in self.items.values() if c.edition == edition]
        return sorted(found, key=lambda c: (c.entry.category, c.received_at))


class InMemoryEditionPhases:
    def __init__(self, items: dict[int, EditionPhase]) -> None:
        self.items = items

    async def get(self, year: int) -> EditionPhase:
        found = self.items.get(year)
        return found.model_copy(deep=True) if found else EditionPhase(year=year)

    async def save(self, edition: EditionPhase) -> None:
        self.items[edition.year] = edition.model_copy(deep=True)


class FakeUnitOfWork:
    def __init__(self, candidates: dict[str, Candidate], editions: dict[int, EditionPhase]) -> None:
        self.candidates = InMemoryCandidates(candidates)
        self.editions = InMemoryEditionPhases(editions)
        self.published: list[tuple[EventBase, str | None]] = []

    async def publish(self, event: EventBase, key: str | None = None) -> None:
        self.published.append((event, key))


@dataclass
class FakeRunner:
    """Runs each piece of work in its own unit of work and commits it only if it returns."""

    candidates: dict[str, Candidate] = field(default_factory=dict)
    editions: dict[int, EditionPhase] = field(default_factory=dict)
    published: list[tuple[EventBase, str | None]] = field(default_factory=list)

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        uow = FakeUnitOfWork(copy.deepcopy(self.candidates), copy.deepcopy(self.editions))
        result = await work(uow)
        self.candidates, self.editions = uow.candidates.items, uow.editions.items
        self.published.extend(uow.published)
        return result
