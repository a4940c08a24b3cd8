"""In-memory repositories, unit of work and vote store of the voting service (no I/O).

They keep the promises of the MongoDB adapters: an edition never seen is a planned one; one vote
per (edition, category, voter), else `AlreadyCast`; a vote is counted once and only while valid;
a unit of work commits all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import CategoryResults, Nominee, Vote, VotingEdition
from wsis_voting.domain.invalidation import Invalidation
from wsis_voting.domain.results import NomineeCount
from wsis_voting.service_layer.casting import AlreadyCast


@dataclass
class StoredVote:
    vote: Vote
    counted: bool = False


@dataclass
class State:
    editions: dict[int, VotingEdition] = field(default_factory=dict)
    nominees: dict[str, Nominee] = field(default_factory=dict)
    votes: dict[str, StoredVote] = field(default_factory=dict)  # by receipt
    tallies: dict[tuple[int, str, str], int] = field(default_factory=dict)
    results: dict[str, CategoryResults] = field(default_factory=dict)
    invalidations: list[Invalidation] = field(default_factory=list)


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
    def __init__(self, items: dict[str, StoredVote]) -> None:
        self.items = items

    def _valid(self, edition: int) -> list[StoredVote]:
        return [s for s in self.items.values() if s.vote.edition == edition and not s.vote.invalid]

    async def find(self, edition: int, category: Category, voter: str) -> Vote | None:
        return next(
            (
                s.vote
                for s in self.items.values()
                if (s.vote.edition, s.vote.category, s.vote.voter) == (edition, category, voter)
            ),
            None,
        )

    async def of_voter(self, edition: int, voter: str) -> list[Vote]:
        found = [
            s.vote
            for s in self.items.values()
            if (s.vote.edition, s.vote.voter) == (edition, voter)
        ]
        return sorted(found, key=lambda v: v.cast_at)

    async def mark_counted(self, receipt_ids: list[str]) -> list[Vote]:
        counted = []
        for receipt_id in receipt_ids:
            stored = self.items.get(receipt_id)
            if stored is None or stored.counted or stored.vote.invalid:
                continue
            stored.counted = True
            counted.append(stored.vote)
        return counted

    async def matching(
        self,
        edition: int,
        *,
        voters: tuple[str, ...],
        categories: tuple[Category, ...],
        cast_from: datetime | None,
        cast_until: datetime | None,
        ip_prefix: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[Vote, bool]]:
        found = [
            (s.vote, s.counted)
            for s in self._valid(edition)
            if (ip_prefix is None or (s.vote.ip or "").startswith(ip_prefix))
            and (not voters or s.vote.voter in voters)
            and (not categories or s.vote.category in categories)
            and (cast_from is None or s.vote.cast_at >= cast_from)
            and (cast_until is None or s.vote.cast_at < cast_until)
        ]
        return found[:limit] if limit else found

    async def rule_out(self, receipt_ids: list[str], invalidation_id: str) -> None:
        for receipt_id in receipt_ids:
            stored = self.items[receipt_id]
            stored.vote = stored.vote.model_copy(
                update={"invalid": True, "invalidation_id": invalidation_id}
            )

    async def valid_counts(self, edition: int, category: Category) -> list[NomineeCount]:
        counts: dict[str, NomineeCount] = {}
        for stored in self._valid(edition):
            vote = stored.vote
            if vote.category != category:
                continue
            before = counts.get(vote.entry_id, NomineeCount(vote.entry_id, 0, None))
            last = max(filter(None, (before.last_vote_at, vote.cast_at)))
            counts[vote.entry_id] = NomineeCount(vote.entry_id, before.votes + 1, last)
        return list(counts.values())

    async def counted_by_entry(self, edition: int | None) -> dict[tuple[int, str, str], int]:
        found: dict[tuple[int, str, str], int] = {}
        for stored in self.items.values():
            vote = stored.vote
            if stored.counted and not vote.invalid and edition in (None, vote.edition):
                key = (vote.edition, str(vote.category), vote.entry_id)
                found[key] = found.get(key, 0) + 1
        return found

    async def uncounted(self, edition: int | None) -> int:
        return sum(
            1
            for s in self.items.values()
            if not s.counted and not s.vote.invalid and edition in (None, s.vote.edition)
        )

    async def receipts_of(self, edition: int, category: Category) -> AsyncIterator[tuple[str, str]]:
        for stored in self._valid(edition):
            if stored.vote.category == category:
                yield stored.vote.entry_id, stored.vote.receipt_id


class InMemoryTallies:
    def __init__(self, items: dict[tuple[int, str, str], int]) -> None:
        self.items = items

    async def increment(self, edition: int, category: Category, entry_id: str, by: int = 1) -> None:
        key = (edition, str(category), entry_id)
        self.items[key] = self.items.get(key, 0) + by

    async def increment_many(self, increments: Mapping[tuple[int, Category, str], int]) -> None:
        for (edition, category, entry_id), by in increments.items():
            await self.increment(edition, category, entry_id, by)

    async def counts(self, edition: int, category: Category) -> dict[str, int]:
        return {
            entry_id: count
            for (year, cat, entry_id), count in self.items.items()
            if year == edition and cat == category
        }

    async def all(self, edition: int | None) -> dict[tuple[int, str, str], int]:
        return {k: v for k, v in self.items.items() if edition in (None, k[0])}

    async def replace_all(
        self, edition: int | None, counts: dict[tuple[int, str, str], int]
    ) -> None:
        for key in [k for k in self.items if edition in (None, k[0])]:
            del self.items[key]
        self.items.update(counts)


class InMemoryResults:
    def __init__(self, items: dict[str, CategoryResults]) -> None:
        self.items = items

    async def add(self, results: CategoryResults) -> None:
        assert results.key not in self.items, "the unique _id of the MongoDB collection"
        self.items[results.key] = results

    async def of_edition(self, edition: int) -> list[CategoryResults]:
        return [r for _, r in sorted(self.items.items()) if r.edition == edition]

    async def find(self, edition: int, category: Category) -> CategoryResults | None:
        return self.items.get(f"{edition}:{category}")


class InMemoryInvalidations:
    def __init__(self, items: list[Invalidation]) -> None:
        self.items = items

    async def add(self, invalidation: Invalidation) -> None:
        self.items.append(invalidation)

    async def of_edition(self, edition: int) -> list[Invalidation]:
        return [i for i in self.items if i.edition == edition]


class FakeUnitOfWork(EventRecorder):
    def __init__(self, state: State) -> None:
        super().__init__()
        self.editions = InMemoryEditions(state.editions)
        self.nominees = InMemoryNominees(state.nominees)
        self.votes = InMemoryVotes(state.votes)
        self.tallies = InMemoryTallies(state.tallies)
        self.results = InMemoryResults(state.results)
        self.invalidations = InMemoryInvalidations(state.invalidations)


class FakeRunner(InMemoryRunner[State, FakeUnitOfWork]):
    def __init__(self, state: State | None = None) -> None:
        super().__init__(state if state is not None else State(), FakeUnitOfWork)


class InMemoryVoteStore:
    """The casting path's store over the runner's state (reads it live, as MongoDB would)."""

    def __init__(self, runner: FakeRunner) -> None:
        self.runner = runner

    async def edition(self, year: int) -> VotingEdition:
        found = self.runner.state.editions.get(year)
        return found.model_copy(deep=True) if found else VotingEdition(year=year)

    async def nominee(self, entry_id: str) -> Nominee | None:
        return self.runner.state.nominees.get(entry_id)

    async def add(self, vote: Vote) -> None:
        if await InMemoryVotes(self.runner.state.votes).find(
            vote.edition, vote.category, vote.voter
        ):
            raise AlreadyCast
        self.runner.state.votes[vote.receipt_id] = StoredVote(vote)

    async def existing(self, edition: int, category: Category, voter: str) -> Vote | None:
        return await InMemoryVotes(self.runner.state.votes).find(edition, category, voter)
