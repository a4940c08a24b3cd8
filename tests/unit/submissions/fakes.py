"""In-memory repositories and unit of work of the submissions service (no I/O).

They keep the promises the MongoDB adapters keep: `get` of a missing edition or entry raises
`NotFound`; `save` is optimistic (the stored version must be older); one submitted entry per
category per organisation per edition; `similar` finds the submitted entries of the edition and
previous winners sharing a band key with a fingerprint; and a unit of work commits all or
nothing: state, history and published events of a failed `work` are thrown away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_shared.errors import AlreadyExists, Conflict, NotFound
from wsis_shared.events import EventBase
from wsis_shared.geography import region_of
from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Eligibility, Entry
from wsis_submissions.domain.similarity import Fingerprint
from wsis_submissions.service_layer.unit_of_work import (
    EntryFilter,
    HistoryRecord,
    SimilarEntry,
)

T = TypeVar("T")


class InMemoryEditions:
    def __init__(self, items: dict[int, Edition]) -> None:
        self.items = items

    async def get(self, year: int) -> Edition:
        try:
            return self.items[year].model_copy(deep=True)
        except KeyError:
            raise NotFound(f"no edition {year}: an admin creates it first") from None

    async def get_recent(self, year: int) -> Edition:
        return await self.get(year)

    async def add(self, edition: Edition) -> None:
        if edition.year in self.items:
            raise AlreadyExists(f"edition {edition.year} already exists")
        self.items[edition.year] = edition.model_copy(deep=True)

    async def save(self, edition: Edition) -> None:
        stored = self.items.get(edition.year)
        if stored is None or stored.version != edition.version - 1:
            raise Conflict(f"edition {edition.year} changed meanwhile: reload and try again")
        self.items[edition.year] = edition.model_copy(deep=True)

    async def list(self) -> list[Edition]:
        return [self.items[year].model_copy(deep=True) for year in sorted(self.items, reverse=True)]


class InMemoryEntries:
    def __init__(
        self,
        items: dict[str, Entry],
        fingerprints: dict[str, Fingerprint],
        winners: dict[str, int],
    ) -> None:
        self.items = items
        self.fingerprints = fingerprints
        self.winners = winners

    async def get(self, entry_id: str) -> Entry:
        try:
            return self.items[entry_id].model_copy(deep=True)
        except KeyError:
            raise NotFound(f"no entry {entry_id}") from None

    async def add(self, entry: Entry) -> None:
        if entry.entry_id in self.items:
            raise AlreadyExists(f"entry {entry.entry_id} already exists")
        self.items[entry.entry_id] = entry.model_copy(deep=True)

    async def save(self, entry: Entry, fingerprint: Fingerprint | None = None) -> None:
        stored = self.items.get(entry.entry_id)
        if stored is None or stored.version >= entry.version:
            raise Conflict(f"entry {entry.entry_id} changed meanwhile: reload and try again")
        if entry.status == "submitted" and any(
            other.entry_id != entry.entry_id
            and other.status == "submitted"
            and other.edition == entry.edition
            and other.organisation_id == entry.organisation_id
            and other.content.category == entry.content.category
            for other in self.items.values()
        ):
            raise AlreadyExists(
                "your organisation already submitted an entry in category "
                f"{entry.content.category} of edition {entry.edition}: one project per category",
                category=entry.content.category,
            )
        self.items[entry.entry_id] = entry.model_copy(deep=True)
        if fingerprint is not None:
            self.fingerprints[entry.entry_id] = fingerprint

    async def list_for_organisation(self, edition: int, organisation_id: str) -> list[Entry]:
        found = [
            entry
            for entry in self.items.values()
            if entry.edition == edition and entry.organisation_id == organisation_id
        ]
        return [entry.model_copy(deep=True) for entry in sorted(found, key=lambda e: e.created_at)]

    async def similar(
        self, edition: int, fingerprint: Fingerprint, exclude: str
    ) -> list[SimilarEntry]:
        bands = set(fingerprint.band_keys())
        found = []
        for entry_id, other in self.fingerprints.items():
            entry = self.items[entry_id]
            candidate = (
                entry.edition == edition and entry.status == "submitted"
            ) or entry_id in self.winners
            if entry_id == exclude or not candidate or not bands & set(other.band_keys()):
                continue
            assert entry.content.title is not None
            found.append(
                SimilarEntry(
                    entry_id=entry_id,
                    organisation_id=entry.organisation_id,
                    title=entry.content.title,
                    edition=entry.edition,
                    won_edition=self.winners.get(entry_id),
                    fingerprint=other,
                )
            )
        return found

    async def mark_winner(self, entry_id: str, edition: int) -> None:
        if entry_id in self.items:
            self.winners[entry_id] = edition

    async def record_eligibility(self, entry_id: str, eligibility: Eligibility) -> None:
        if entry_id in self.items:
            self.items[entry_id] = self.items[entry_id].model_copy(
                update={"eligibility": eligibility}
            )

    def _matching(self, edition: int, where: EntryFilter) -> list[Entry]:
        def matches(entry: Entry) -> bool:
            content = entry.content
            region = region_of(content.country) if content.country else None
            return (
                entry.edition == edition
                and where.category in (None, content.category)
                and (where.country is None or where.country.upper() == content.country)
                and where.region in (None, region)
                and where.stakeholder_type in (None, content.stakeholder_type)
                and where.status in (None, entry.status)
            )

        found = [entry for entry in self.items.values() if matches(entry)]
        return [entry.model_copy(deep=True) for entry in sorted(found, key=lambda e: e.entry_id)]

    async def search(
        self, edition: int, where: EntryFilter, after: str | None, limit: int
    ) -> list[Entry]:
        found = sorted(self._matching(edition, where), key=lambda e: (e.created_at, e.entry_id))
        if after is not None:
            last = self.items[after]
            found = [e for e in found if (e.created_at, e.entry_id) > (last.created_at, after)]
        return found[:limit]

    async def stream(self, edition: int, where: EntryFilter) -> AsyncIterator[Entry]:
        for entry in self._matching(edition, where):
            yield entry


class InMemoryHistory:
    def __init__(self, records: list[HistoryRecord]) -> None:
        self.records = records

    async def add(self, record: HistoryRecord) -> None:
        self.records.append(record.model_copy(deep=True))

    async def of_entry(self, entry_id: str) -> list[HistoryRecord]:
        found = [r for r in self.records if r.entry_id == entry_id]
        return sorted(found, key=lambda r: (r.version, r.at))


@dataclass
class State:
    editions: dict[int, Edition] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    winners: dict[str, int] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)


class FakeUnitOfWork(EventRecorder):
    def __init__(self, state: State) -> None:
        super().__init__()
        self.editions = InMemoryEditions(state.editions)
        self.entries = InMemoryEntries(state.entries, state.fingerprints, state.winners)
        self.history = InMemoryHistory(state.history)


class FakeRunner(InMemoryRunner[State, FakeUnitOfWork]):
    def __init__(self, state: State | None = None) -> None:
        super().__init__(state if state is not None else State(), FakeUnitOfWork)

    @property
    def editions(self) -> dict[int, Edition]:
        return self.state.editions

    @property
    def entries(self) -> dict[str, Entry]:
        return self.state.entries

    @property
    def events(self) -> list[EventBase]:
        return [event for event, _ in self.published]


@dataclass
class FixedClock:
    now: datetime = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
