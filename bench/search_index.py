"""The Stocktaking search index at 100,000 synthetic entries: build time, memory, query latency.

`python -m bench.search_index [entries]` — the index alone, pure CPU, no broker or mongod.
`WSIS_MONGO_URI=… python -m bench.search_index --http [entries]` — the same entries in a
catalogue collection, served by `python -m wsis_stocktaking api`: its start (the index load from
MongoDB) and `GET /entries` over HTTP, page documents read from MongoDB included.

The texts are made of a Zipf-distributed vocabulary of invented words (so the index holds a
realistic number of distinct words) with 150–200-word descriptions, as the WSIS Prizes ask for.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, get_args

from wsis_shared.events import EntryPublic
from wsis_shared.geography import COUNTRIES
from wsis_shared.vocabulary import ActionLine, Category, StakeholderType
from wsis_stocktaking.domain.catalogue import LifecycleStatus
from wsis_stocktaking.domain.search_index import (
    Cursor,
    Facet,
    FacetValue,
    SearchableEntry,
    SearchIndex,
    SearchQuery,
)

ENTRIES: Final = 100_000
_SYLLABLES_TEXT: Final = "ba be bi bo cu da de di fo ga ge ka ki lo lu ma me mi no nu pa pe ra re"
_SYLLABLES: Final = (_SYLLABLES_TEXT + " ri sa se so ta te ti to va ve vi za zo").split()
_COMMON_TEXT: Final = (
    "digital inclusion school schools learning health rural women youth community network "
    "networks mobile broadband data open government services platform training skills access "
    "information knowledge security cyber privacy cloud innovation agriculture farmers climate "
    "environment energy solar connectivity infrastructure national regional local public "
    "private partnership development sustainable smart city cities citizens e-government "
    "e-learning e-health telemedicine literacy capacity building policy regulation ethics media"
)
_COMMON: Final = _COMMON_TEXT.split()


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Common words first: the Zipf ranks follow this order."""
    invented: set[str] = set()
    while len(invented) < size - len(_COMMON):
        invented.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    return [*_COMMON, *sorted(invented - set(_COMMON))]


def synthetic_entries(count: int, seed: int = 7) -> Iterator[SearchableEntry]:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng, 30_000)
    zipf = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    organisations = [
        " ".join(rng.choices(vocabulary[:5000], k=rng.randint(1, 3))).title() + " Foundation"
        for _ in range(20_000)
    ]
    countries = list(COUNTRIES.values())
    statuses: tuple[LifecycleStatus, ...] = get_args(LifecycleStatus)
    for n in range(count):
        country = rng.choice(countries)
        category = rng.choice(list(Category))
        yield SearchableEntry(
            entry_id=f"{rng.getrandbits(128):032x}",
            edition=rng.choices(range(2017, 2028), weights=range(1, 12))[0],
            status=rng.choice(statuses),
            category=category,
            action_lines=tuple(rng.sample(list(ActionLine), rng.randint(0, 3))),
            sdgs=tuple(rng.sample(range(1, 18), rng.randint(1, 4))),
            region=country.region,
            country=country.code,
            stakeholder_type=rng.choice(list(StakeholderType)),
            title=" ".join(
                rng.choices(vocabulary, cum_weights=zipf, k=rng.randint(3, 9))
            ).capitalize(),
            short_description=" ".join(
                rng.choices(vocabulary, cum_weights=zipf, k=rng.randint(150, 200))
            ),
            organisation_name=organisations[n % len(organisations)],
            partners=tuple(rng.sample(organisations, rng.randint(0, 3))),
        )


def _rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


def _queries(rng: random.Random) -> list[SearchQuery]:
    def pick(facet: Facet, *values: FacetValue) -> dict[Facet, frozenset[FacetValue]]:
        return {facet: frozenset(values)}

    return [
        SearchQuery(),
        SearchQuery(text="digital"),
        SearchQuery(text="schools rural"),
        SearchQuery(text="sol"),
        SearchQuery(text="co"),
        SearchQuery(text="health women", filters=pick("region", "Africa")),
        SearchQuery(filters={**pick("edition", 2027), **pick("status", "nominated")}),
        SearchQuery(filters={**pick("sdg", 4, 5), **pick("region", "Europe", "Africa")}),
        SearchQuery(filters={**pick("country", "KE"), **pick("category", Category.C4)}),
        SearchQuery(text="broadband connectivity", filters=pick("edition", 2026, 2025)),
        SearchQuery(text="capacity building", limit=100),
        SearchQuery(
            text="open data",
            filters=pick("stakeholder_type", "government"),
            after=Cursor(2024, f"{rng.getrandbits(128):032x}"),
        ),
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ENTRIES
    entries = list(synthetic_entries(count + 1000))
    arrivals = entries[count:]  # entries arriving once the index serves, same vocabulary
    del entries[count:]
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    index = SearchIndex.loading()
    for entry in entries:
        index.put(entry)
    index.finish_loading()
    build_s = time.perf_counter() - started
    del entries
    gc.collect()
    grown = _rss_bytes() - before
    print(
        f"search index: {len(index):,} entries, {index.vocabulary_size:,} distinct words; "
        f"built in {build_s:.1f}s; process memory +{grown / 2**20:.0f} MiB "
        f"(bitmaps {index.bitmap_bytes() / 2**20:.0f} MiB)"
    )
    rng = random.Random(3)
    queries = _queries(rng)
    timings: list[float] = []
    for _ in range(30):
        for query in queries:
            started = time.perf_counter()
            index.search(query)
            timings.append(time.perf_counter() - started)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95)] * 1000
    print(
        f"search (text, filters, all eight facet counts, one page): p50 {p50:.2f} ms, "
        f"p95 {p95:.2f} ms, max {timings[-1] * 1000:.2f} ms over {len(timings)} searches"
    )
    for query in queries:
        started = time.perf_counter()
        result = index.search(query)
        took = (time.perf_counter() - started) * 1000
        print(f"  {took:6.2f} ms  total {result.total:>7,}  {query.text!r} {dict(query.filters)}")
    started = time.perf_counter()
    for entry in arrivals:
        index.put(entry)
    took = (time.perf_counter() - started) / len(arrivals) * 1e6
    print(f"put of a new entry into the serving index: {took:.0f} µs")


_FACTS: Final[dict[str, dict[str, bool]]] = {
    "submitted": {},
    "eligible": {"eligible": True},
    "ineligible": {"eligible": False},
    "withdrawn": {"withdrawn": True},
    "nominated": {"eligible": True, "nominated": True},
    "not_nominated": {"eligible": True, "nominated": False},
    "champion": {"nominated": True, "champion": True},
    "winner": {"nominated": True, "winner": True},
}


def catalogue_document(entry: SearchableEntry) -> dict[str, Any]:
    """The document the projections write for `entry` (see adapters/catalogue.py)."""
    public = EntryPublic(
        entry_id=entry.entry_id,
        category=entry.category,
        title=entry.title,
        short_description=entry.short_description,
        organisation_id=f"org-{entry.organisation_name}",
        organisation_name=entry.organisation_name,
        country=entry.country,
        region=entry.region,
        stakeholder_type=entry.stakeholder_type,
        action_lines=entry.action_lines,
        sdgs=entry.sdgs,
        partners=entry.partners,
    )
    return {
        "_id": entry.entry_id,
        "edition": entry.edition,
        "entry": public.model_dump(mode="python"),
        "entry_version": 1,
        "votes": 0,
        **_FACTS[entry.status],
    }


_HTTP_QUERIES: Final[list[dict[str, Any]]] = [
    {},
    {"q": "digital"},
    {"q": "schools rural"},
    {"q": "sol"},
    {"q": "health women", "region": "Africa"},
    {"edition": 2027, "status": "nominated"},
    {"sdg": [4, 5], "region": ["Europe", "Africa"]},
    {"country": "KE", "category": "C4"},
    {"q": "broadband connectivity", "edition": [2026, 2025], "limit": 50},
    {"q": "capacity building", "limit": 100},
]


async def http_benchmark(mongo_uri: str, count: int) -> None:
    """Seeds a catalogue of `count` entries, starts `python -m wsis_stocktaking api` on it and
    measures its start (the index load) and `GET /entries` latencies, one client at a time."""
    from wsis_shared.auth import ensure_dev_keys
    from wsis_shared.mongo import create_client

    prefix = f"benchsearch{os.getpid()}_"
    client = create_client(mongo_uri, app_name="bench-search")
    database = client[f"{prefix}stocktaking"]
    try:
        batch: list[dict[str, Any]] = []
        for entry in synthetic_entries(count):
            batch.append(catalogue_document(entry))
            if len(batch) == 2000:
                await database["catalogue"].insert_many(batch)
                batch = []
        if batch:
            await database["catalogue"].insert_many(batch)
        await database["editions"].insert_many(
            [{"_id": year, "phase": "closed"} for year in range(2017, 2028)]
        )
        with tempfile.TemporaryDirectory(prefix="bench-search-keys") as keys:
            _, public_key = ensure_dev_keys(Path(keys))
            await _measure_the_api(
                {
                    **os.environ,
                    "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
                    "WSIS_MONGO_URI": mongo_uri,
                    "WSIS_MONGO_DB_PREFIX": prefix,
                    "WSIS_LOG_LEVEL": "WARNING",
                }
            )
    finally:
        await client.drop_database(database.name)
        await client.close()


async def _measure_the_api(env: dict[str, str]) -> None:
    import httpx

    from wsis_devstack.processes import free_ports

    port = free_ports(1)[0]
    started = time.perf_counter()
    api = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsis_stocktaking",
        "api",
        env={**env, "WSIS_STOCKTAKING_PORT": str(port)},
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while True:
                if api.returncode is not None:
                    raise RuntimeError("the API did not start: see its log above")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            print(f"API ready (index loaded from MongoDB) {time.perf_counter() - started:.1f}s")
            timings: list[float] = []
            for _ in range(30):
                for params in _HTTP_QUERIES:
                    began = time.perf_counter()
                    response = await http.get("/entries", params=params)
                    timings.append(time.perf_counter() - began)
                    assert response.status_code == 200, response.text
            timings.sort()
            print(
                f"GET /entries over HTTP: p50 {statistics.median(timings) * 1000:.1f} ms, "
                f"p95 {timings[int(len(timings) * 0.95)] * 1000:.1f} ms, "
                f"max {timings[-1] * 1000:.1f} ms over {len(timings)} requests"
            )
    finally:
        api.terminate()
        await api.wait()


if __name__ == "__main__":
    if "--http" in sys.argv:
        sys.argv.remove("--http")
        uri = os.environ["WSIS_MONGO_URI"]
        asyncio.run(http_benchmark(uri, int(sys.argv[1]) if len(sys.argv) > 1 else ENTRIES))
    else:
        main()
