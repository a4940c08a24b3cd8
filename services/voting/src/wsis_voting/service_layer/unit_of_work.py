"""What the voting use cases need from storage; MongoDB implements it, unit tests fake it."""

from __future__ import annotations

from typing import Protocol

from wsis_shared.events import EventBase
from wsis_shared.uow import UnitOfWorkRunner
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import Nominee, Vote, VotingEdition


class EditionRepository(Protocol):
    async def get(self, year: int) -> VotingEdition: ...
    async def save(self, edition: VotingEdition) -> None: ...


class NomineeRepository(Protocol):
    async def find(self, entry_id: str) -> Nominee | None: ...
    async def save(self, nominee: Nominee) -> None: ...
    async def on_ballot(self, edition: int) -> list[Nominee]: ...


class VoteRepository(Protocol):
    async def add(self, vote: Vote) -> None:
        """Raises `AlreadyVoted` when the voter already voted in the category."""

    async def of_voter(self, edition: int, voter: str) -> list[Vote]: ...


class TallyRepository(Protocol):
    async def increment(self, edition: int, category: Category, entry_id: str) -> None: ...
    async def counts(self, edition: int, category: Category) -> dict[str, int]: ...


class UnitOfWork(Protocol):
    @property
    def editions(self) -> EditionRepository: ...
    @property
    def nominees(self) -> NomineeRepository: ...
    @property
    def votes(self) -> VoteRepository: ...
    @property
    def tallies(self) -> TallyRepository: ...

    async def publish(self, event: EventBase, key: str | None = None) -> None: ...


Runner = UnitOfWorkRunner[UnitOfWork]
