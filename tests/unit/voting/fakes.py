"""In-memory repositories and unit of work of the voting service (no I/O).

They keep the promises of the MongoDB adapters: an edition never seen is a planned one; one vote
per (edition, category, voter), else `AlreadyVoted`; a unit of work commits all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import AlreadyVoted, Nominee, Vote, VotingEdition

T = TypeVar("T")


class InMemoryEditions:
    def __init__(self, items: dict[int, VotingEdition]) -> None:
        self.items = items

    async def get(self, year: int) -> VotingEdition:
        found = self.items.get(year)
        return found.model_copy(deep=True) if found else VotingEdition(year=year)

    async def save(self, edition: VotingEdition) -> None:
        self.items[edition.year] = edition.model_copy(deep=True)


class InMemoryNominees:
    def __init__(self, items: dict[str, Nominee]) -> None:
        self.items = items

    async def find(self, entry_id: str) -> Nominee | None:
        found = self.items.get(entry_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, nominee: Nominee) -> None:
        self.items[nominee.entry_id] = nominee.model_copy(deep=True)

    async def on_ballot(self, edition: int) -> list[Nominee]:
        found = [n for n in self.items.values() if n.edition == edition and n.nominated]
        return sorted(found, key=lambda n: (n.card.category, n.card.title))


class InMemoryVotes:
    def __init__(self, items: dict[tuple[int, Category, str], Vote]) -> None:
        self.items = items

    async def add(self, vote: Vote) -> None:
        key = (vote.edition, vote.category, vote.voter)
        existing = self.items.get(key)
        if existing is not None:
            raise AlreadyVoted(
                f"you already voted in category {vote.category}: one vote per category",
                category=vote.category,
                receipt_id=existing.receipt_id,
            )
        self.items[key] = vote.model_copy(deep=True)

    async def of_voter(self, edition: int, voter: str) -> list[Vote]:
        found = [v for v in self.items.values() if v.edition == edition and v.voter == voter]
        return sorted(found, key=lambda v: v.cast_at)


class InMemoryTallies:
    def __init__(self, items: dict[tuple[int, Category, str], int]) -> None:
        self.items = items

    async def increment(self, edition: int, category: Category, entry_id: str) -> None:
        key = (edition, category, entry_id)
        self.items[key] = self.items.get(key, 0) + 1

    async def counts(self, edition: int, category: Category) -> dict[str, int]:
        return {
            entry_id: count
            for (year, cat, entry_id), count in self.items.items()
            if year == edition and cat == category
        }


@dataclass
class State:
    editions: dict[int, VotingEdition] = field(default_factory=dict)
    nominees: dict[str, Nominee] = field(default_factory=dict)
    votes: dict[tuple[int, Category, str], Vote] = field(default_factory=dict)
    tallies: dict[tuple[int, Category, str], int] = field(default_factory=dict)


class FakeUnitOfWork(EventRecorder):
    def __init__(self, state: State) -> None:
        super().__init__()
        self.editions = InMemoryEditions(state.editions)
        self.nominees = InMemoryNominees(state.nominees)
        self.votes = InMemoryVotes(state.votes)
        self.tallies = InMemoryTallies(state.tallies)


class FakeRunner(InMemoryRunner[State, FakeUnitOfWork]):
    def __init__(self, state: State | None = None) -> None:
        super().__init__(state if state is not None else State(), FakeUnitOfWork)
