"""The Stocktaking database at ten times its real size (`python -m bench.stocktaking`, or
`make bench`).

BENCH_ENTRIES entries (100,000 by default; the real database holds >10,000) of one edition reach
the stocktaking worker as events on the topics, as they would from the other services (submitted,
eligibility, nomination, champions and winners); BENCH_CONTRIBUTIONS contributions (1,000) are
sent through the contributions API. All entries are in one edition so that its report covers all
of them (the worst case). Printed:
- the projection's rate (events/s) and how long until the search index holds every entry;
- public search p50/p95 over a mix of queries (facet filters, words, prefixes, combinations, the
  next pages), by SEARCH_CLIENTS concurrent clients, beside a bare FastAPI GET answering the same
  number of requests at the same concurrency (the ceiling of the HTTP stack) as a ratio; the
  API (and the ceiling) in BENCH_API_PROCESSES processes (2 by default, one per core of the
  2-core machine the goals are set for, as `bench.vote_storm` runs the voting API; each process
  holds its own index);
- the full report job (HTML + PDF + CSV + JSON) from request to published, beside the time to
  read the edition's catalogue documents from MongoDB with a plain query (the floor of any
  report) as a ratio.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from bench.load import Figures, drive, percentile
from bench.stack import running_stack
from wsis_shared.auth import sign_dev_token
from wsis_shared.events import (
    ChampionsAnnounced,
    ChampionsList,
    EligibilityDecided,
    EligibilityDecision,
    EntryPublic,
    EventBase,
    Finalist,
    NominationDecided,
    NominationDecision,
    NomineeCard,
    ReviewSummary,
    SubmissionSubmitted,
    WinnerSelected,
    WinnerSelection,
    encode,
    topic_of,
)
from wsis_shared.geography import ITU_MEMBER_STATES, region_of
from wsis_shared.vocabulary import ActionLine, Category, Role, StakeholderType

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "100000"))
CONTRIBUTIONS = int(os.environ.get("BENCH_CONTRIBUTIONS", "1000"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "3000"))
SEARCH_CLIENTS = 8
YEAR = 2045

# Words of real WSIS project titles, drawn with a Zipf-like skew as real vocabularies are.
_TOPIC_WORDS = (
    "digital skills schools teachers broadband rural women girls health telemedicine farmers "
    "agriculture market prices mobile money identity government services open data libraries "
    "archives languages indigenous content radio community media journalists cybersecurity "
    "children online safety privacy ethics accessibility disabilities elderly refugees "
    "migrants climate disaster early warning satellite connectivity spectrum infrastructure "
    "fibre towers solar energy innovation startups entrepreneurs employment youth training "
    "coding universities research science cloud computing artificial intelligence blockchain "
    "tourism heritage museums culture music education learning platform portal network hub "
    "centre programme initiative strategy policy regulation governance cooperation partnership"
)
TOPICS = tuple(_TOPIC_WORDS.split())
COUNTRIES = sorted(ITU_MEMBER_STATES)


def _words(rng: random.Random, k: int) -> str:
    return " ".join(TOPICS[min(len(TOPICS) - 1, int(rng.paretovariate(1.1)) - 1)] for _ in range(k))


def entry_events(rng: random.Random) -> list[EventBase]:
    """An edition of ENTRIES entries: all submitted, 70% eligible, a third of those nominated,
    five finalists and a winner per category."""
    categories = list(Category)
    events: list[EventBase] = []
    nominated: dict[Category, list[str]] = {c: [] for c in categories}
    for n in range(ENTRIES):
        entry_id = f"bench-{n:06d}"
        category = categories[n % len(categories)]
        country = rng.choice(COUNTRIES)
        entry = EntryPublic(
            entry_id=entry_id,
            category=category,
            title=f"{_words(rng, 4).capitalize()} {n}",
            short_description=_words(rng, 40),
            organisation_id=f"org-{n // 3}",
            organisation_name=f"Organisation {n // 3} {_words(rng, 1)}",
            country=country,
            region=region_of(country),
            stakeholder_type=rng.choice(list(StakeholderType)),
            action_lines=tuple(sorted(set(rng.sample(list(ActionLine), rng.randint(1, 3))))),
            sdgs=tuple(sorted(set(rng.sample(range(1, 18), rng.randint(1, 4))))),
        )
        events.append(
            SubmissionSubmitted(
                aggregate_id=entry_id, aggregate_version=1, edition=YEAR, payload=entry
            )
        )
        if rng.random() < 0.7:
            events.append(
                EligibilityDecided(
                    aggregate_id=entry_id,
                    aggregate_version=1,
                    edition=YEAR,
                    payload=EligibilityDecision(
                        entry_id=entry_id, category=category, eligible=True
                    ),
                )
            )
            if rng.random() < 0.33:
                nominated[category].append(entry_id)
                events.append(
                    NominationDecided(
                        aggregate_id=entry_id,
                        aggregate_version=1,
                        edition=YEAR,
                        payload=NominationDecision(
                            nominated=True,
                            nominee=NomineeCard(
                                entry_id=entry_id,
                                category=category,
                                title=entry.title,
                                short_description=entry.short_description,
                                organisation_name=entry.organisation_name,
                                country=country,
                                region=entry.region,
                                stakeholder_type=entry.stakeholder_type,
                            ),
                            review_summary=ReviewSummary(reviews=3, weighted_mean=7.0),
                        ),
                    )
                )
    for category, entry_ids in nominated.items():
        finalists = entry_ids[:5]
        events.append(
            ChampionsAnnounced(
                aggregate_id=f"{YEAR}:{category}",
                aggregate_version=1,
                edition=YEAR,
                payload=ChampionsList(
                    category=category,
                    finalists=tuple(
                        Finalist(entry_id=e, votes=100 - rank, rank=rank + 1)
                        for rank, e in enumerate(finalists)
                    ),
                    tie_break_rule="bench",
                ),
            )
        )
        events.append(
            WinnerSelected(
                aggregate_id=f"{YEAR}:{category}",
                aggregate_version=1,
                edition=YEAR,
                payload=WinnerSelection(
                    category=category,
                    winner_entry_id=finalists[0],
                    champion_entry_ids=tuple(finalists[1:]),
                ),
            )
        )
    return events


async def publish(bootstrap: str, prefix: str, events: list[EventBase]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20, max_batch_size=262_144
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for event in events:
            pending.append(
                await producer.send(
                    prefix + topic_of(event), encode(event), key=event.aggregate_id.encode()
                )
            )
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


SECTIONS = (
    "In {year}, {org} worked on Action Line {line} with {words}.",
    "Our e-learning courses reached {count} teachers in {words}, contributing to SDG {sdg}.",
    "Through the national broadband plan we connected {count} rural schools and clinics.",
    "We trained {count} officials on cybersecurity and online child protection, {words}.",
    "Open government data portals now publish {count} datasets on {words}.",
    "Telemedicine services for remote districts served {count} patients this year.",
)


def contribution(n: int, rng: random.Random) -> dict[str, Any]:
    sentences = [
        rng.choice(SECTIONS).format(
            year=YEAR,
            org=f"Organisation {n}",
            line=rng.choice([a.value for a in ActionLine]),
            words=_words(rng, 8),
            count=rng.randint(10, 50_000),
            sdg=rng.randint(1, 17),
        )
        for _ in range(rng.randint(8, 30))
    ]
    return {
        "edition": YEAR,
        "title": f"Implementation of the WSIS outcomes in {YEAR}: Organisation {n}",
        "organisation": f"Organisation {n}",
        "text": "\n\n".join(sentences),
    }


def search_query(n: int, rng: random.Random) -> str:
    """Filters and words as the public uses them, a third of them asking for a next page."""
    params: list[tuple[str, str]] = []
    kind = n % 6
    if kind in (0, 3):
        params.append(("q", _words(rng, 1)))
    if kind == 1:
        params.append(("q", _words(rng, 2)))
    if kind == 2:
        params.append(("q", _words(rng, 1)[:3]))  # typing: a prefix
    if kind in (3, 4):
        params.append(("region", str(region_of(rng.choice(COUNTRIES)))))
        params.append(("sdg", str(rng.randint(1, 17))))
    if kind == 5:
        params.append(("category", rng.choice(list(Category)).value))
        params.append(("status", rng.choice(["nominated", "eligible", "champion"])))
    params.append(("edition", str(YEAR)))
    return urlencode(params)


async def run(
    bootstrap: str,
    mongo_uri: str,
    stack_urls: dict[str, str],
    bare_url: str,
    private_key: bytes,
    db_name: str,
    prefix: str,
) -> str:
    rng = random.Random(2045)
    stocktaking = stack_urls["stocktaking"]
    admin = {
        "Authorization": "Bearer "
        + sign_dev_token(private_key, subject="bench-admin", roles=[Role.ADMIN])
    }
    lines: list[str] = []

    events = entry_events(rng)
    started = time.perf_counter()
    produce_s = await publish(bootstrap, prefix, events)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    catalogue = client[db_name]["catalogue"]
    async with httpx.AsyncClient(base_url=stocktaking, timeout=60) as http:
        while True:
            page = (await http.get("/entries", params={"edition": YEAR, "limit": 1})).json()
            if page["total"] >= ENTRIES:
                break
            await asyncio.sleep(0.5)
        visible_s = time.perf_counter() - started
        lines.append(
            f"stocktaking: {ENTRIES:,} entries ({len(events):,} events) produced in "
            f"{produce_s:.1f} s, all searchable {visible_s:.1f} s after the first "
            f"({len(events) / visible_s:,.0f} events/s through the projection and the index)"
        )

        async def add_contribution(session: aiohttp.ClientSession, n: int) -> None:
            async with session.post(
                f"{stocktaking}/contributions", json=contribution(n, rng), headers=admin
            ) as response:
                if response.status != 201:
                    raise RuntimeError(
                        f"contribution {n}: {response.status} {await response.text()}"
                    )

        figures = await drive(CONTRIBUTIONS, add_contribution, concurrency=8)
        lines.append(f"  contributions: {CONTRIBUTIONS:,} through the API, {figures.line()}")

        queries = [search_query(n, rng) for n in range(SEARCHES)]
        cursors: list[str] = []

        async def search(session: aiohttp.ClientSession, n: int) -> None:
            query = queries[n]
            if n % 3 == 2 and cursors:
                query += f"&cursor={cursors[n % len(cursors)]}"
            async with session.get(f"{stocktaking}/entries?{query}") as response:
                if response.status != 200:
                    raise RuntimeError(f"search {query}: {response.status} {await response.text()}")
                body = await response.json()
                if body.get("next_cursor") and len(cursors) < 200:
                    cursors.append(body["next_cursor"])

        async def bare(session: aiohttp.ClientSession, n: int) -> None:
            async with session.get(f"{bare_url}/bare?{queries[n]}") as response:
                await response.read()

        await drive(200, search, concurrency=SEARCH_CLIENTS)  # warm-up
        searched = await _p95(SEARCHES, search)
        ceiling = await _p95(SEARCHES, bare)
        lines.append(
            f"  search ({SEARCH_CLIENTS} clients, {SEARCHES:,} queries with facet counts): "
            f"{searched[0].line()}, p95 {searched[1]:.0f} ms\n"
            f"  bare FastAPI GET (ceiling): {ceiling[0].line()}, p95 {ceiling[1]:.0f} ms\n"
            f"  ratio {searched[0].per_s / ceiling[0].per_s:.2f} of the ceiling's rate"
        )

        read_started = time.perf_counter()
        read = 0
        async for _ in catalogue.find({"edition": YEAR}, batch_size=5_000):
            read += 1
        floor_s = time.perf_counter() - read_started

        report_started = time.perf_counter()
        response = await http.post(
            "/reports", json={"edition": YEAR, "kind": "stocktaking-report"}, headers=admin
        )
        response.raise_for_status()
        job_url = response.headers["location"]
        while True:
            job = (await http.get(job_url, headers=admin)).json()
            if job["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.2)
        report_s = time.perf_counter() - report_started
        if job["status"] != "done":
            raise RuntimeError(f"report failed: {job}")
        lines.append(
            f"  report (HTML+PDF+CSV+JSON) of {ENTRIES:,} entries and {CONTRIBUTIONS:,} "
            f"contributions: {report_s:.1f} s from request to published\n"
            f"  plain read of the edition's {read:,} catalogue documents (floor): {floor_s:.1f} s; "
            f"ratio {report_s / floor_s:.1f}"
        )
    await client.close()
    return "\n".join(lines)


async def _p95(total: int, one: Any) -> tuple[Figures, float]:
    latencies: list[float] = []

    async def timed(session: aiohttp.ClientSession, n: int) -> None:
        started = time.perf_counter()
        await one(session, n)
        latencies.append((time.perf_counter() - started) * 1000)

    figures = await drive(total, timed, concurrency=SEARCH_CLIENTS)
    latencies.sort()
    return figures, percentile(latencies, 0.95)


def main(bootstrap: str, mongo_uri: str, workdir: Path) -> str:
    with running_stack(
        bootstrap,
        mongo_uri,
        workdir,
        split="stocktaking",
        api_processes=int(os.environ.get("BENCH_API_PROCESSES", "2")),
        references={"bare_app": ([], "/bare")},
    ) as stack:
        bare_url = stack.references["bare_app"].removesuffix("/bare")
        prefix = f"bench{os.getpid()}."
        return asyncio.run(
            run(
                bootstrap,
                mongo_uri,
                stack.urls,
                bare_url,
                stack.private_key,
                f"{stack.db_prefix}stocktaking",
                prefix,
            )
        )


if __name__ == "__main__":
    import tempfile

    from wsis_devstack.infrastructure import ephemeral_infrastructure
    from wsis_devstack.paths import cache_dir

    bootstrap_env, mongo_env = (
        os.environ.get("WSIS_KAFKA_BOOTSTRAP"),
        os.environ.get("WSIS_MONGO_URI"),
    )
    with tempfile.TemporaryDirectory() as directory:
        if bootstrap_env and mongo_env:
            print(main(bootstrap_env, mongo_env, Path(directory)))
        else:
            with ephemeral_infrastructure(cache_dir()) as infra:
                print(main(infra.kafka_bootstrap, infra.mongo_uri, Path(directory)))
