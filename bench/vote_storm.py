"""A public vote storm against the whole stack (`python -m bench.vote_storm`, or `make bench`).

The four services run as in production: each API in one process, as a pod runs it
(`WSIS_<NAME>_API_PROCESSES=1` in k8s/base/config.env; more voters, more pods), the voting
worker apart. BENCH_API_PROCESSES serves the voting API from that many processes on one port
instead (on two cores shared with mongod, Kafka and the worker, two did worse: see
docs/benchmarks.md). The demo edition is loaded through the APIs (eight nominees in four
categories, voting open). Then BENCH_VOTERS voters, holding the voting service's own voter
tokens, each vote in three of the four categories, by 64 concurrent clients. Printed: accepted
votes/s, p50/p99 latency, tally lag p50/p99 (from a vote's acceptance until the tally counts it
— a category's n-th accepted vote is taken as counted when the category's tally first reaches
n, sampled every 50 ms), and in the same run two ceilings as ratios: a bare FastAPI POST
endpoint, and the naive write path — one MongoDB transaction per vote holding the vote insert
and an outbox insert (`bench/naive_app.py`) — behind the same HTTP stack and the same number of
processes, at the same concurrency. At the end the tally is verified against the votes
(`tally verify`): there must be no difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from pymongo import AsyncMongoClient

from bench.load import drive, percentile
from bench.stack import CpuAccount, bench_db_prefix, in_processes, run_alone, running_stack
from wsis_devstack.demo import DEMO_YEAR, DemoTokens, load_demo_data
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role
from wsis_voting.domain.voters import VoterTokens
from wsis_voting.settings import VotingSettings

VOTERS = int(os.environ.get("BENCH_VOTERS", "20000"))
CATEGORIES_PER_VOTER = 3
CONCURRENCY = 64
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "1"))


def voter_tokens(private_key_pem: bytes, count: int) -> list[str]:
    """The voting service's own voter tokens, as voters hold them after signing up by email code
    (the sign-up itself is not part of the storm: it happens days before, spread out)."""
    tokens = VoterTokens(
        private_key_pem,
        issuer=VotingSettings.model_fields["voter_token_issuer"].default,
        audience=VotingSettings.model_fields["jwt_audience"].default,
        ttl=timedelta(hours=1),
    )
    now = datetime.now(UTC)
    return [tokens.issue(f"storm-voter-{n}", now).token for n in range(count)]


async def run(
    urls: dict[str, str], bare_url: str, naive_url: str, private_key: bytes, mongo_uri: str
) -> str:
    voting = urls["voting"]

    def token(subject: str, role: Role, org: str | None = None) -> str:
        return sign_dev_token(private_key, subject=subject, roles=[role], organisation_id=org)

    admin = token("bench-admin", Role.ADMIN)
    await load_demo_data(
        urls,
        DemoTokens(
            admin=admin,
            chair=token("bench-chair", Role.CHAIR),
            voters=[],
            team=lambda org: token(f"bench-team-{org}", Role.SUBMITTER, org),
            reviewer=lambda subject: token(subject, Role.REVIEWER),
        ),
    )
    async with httpx.AsyncClient(timeout=30) as http:
        deadline = time.monotonic() + 60
        while True:  # nominations travel to voting as events: wait for the whole ballot
            ballot = (await http.get(f"{voting}/editions/{DEMO_YEAR}/ballot")).json()
            if sum(len(c["nominees"]) for c in ballot) >= 8 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    nominees = {c["category"]: [n["entry_id"] for n in c["nominees"]] for c in ballot}
    categories = sorted(nominees)
    rng = random.Random(11)
    tokens = voter_tokens(private_key, VOTERS)
    ballots = [
        (tokens[v], category, rng.choice(nominees[category]))
        for v in range(VOTERS)
        for category in rng.sample(categories, CATEGORIES_PER_VOTER)
    ]
    rng.shuffle(ballots)
    accepted_at: dict[str, list[float]] = defaultdict(list)
    refused: list[str] = []

    async def cast(http: aiohttp.ClientSession, n: int) -> None:
        voter, category, entry_id = ballots[n]
        async with http.post(
            f"{voting}/editions/{DEMO_YEAR}/votes",
            json={"category": category, "entry_id": entry_id},
            headers={"Authorization": f"Bearer {voter}"},
        ) as response:
            await response.read()
            if response.status == 201:
                accepted_at[category].append(time.perf_counter())
            else:
                refused.append(f"{response.status} {await response.text()}"[:300])

    async def bare(http: aiohttp.ClientSession, n: int) -> None:
        async with http.post(f"{bare_url}/bare", json={"category": "C4", "entry_id": "x"}) as r:
            r.raise_for_status()
            await r.read()

    async def naive(http: aiohttp.ClientSession, n: int) -> None:
        async with http.post(f"{naive_url}/vote", json={"category": "C4"}) as r:
            r.raise_for_status()
            await r.read()

    ceiling = await drive(len(ballots), bare, CONCURRENCY)
    naive_figures = await drive(min(len(ballots), 20_000), naive, CONCURRENCY)

    counted_at: dict[str, list[float]] = defaultdict(list)
    expected_counts: dict[str, int] = {}
    all_counted = asyncio.Event()
    stop_sampling = asyncio.Event()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    tallies = mongo[os.environ["BENCH_VOTING_DB"]]["tallies"]

    async def sample_tally() -> None:
        while not stop_sampling.is_set():
            totals: dict[str, int] = defaultdict(int)
            async for document in tallies.find({"edition": DEMO_YEAR}):
                totals[document["category"]] += document["votes"]
            now = time.perf_counter()
            for category, total in totals.items():
                seen = counted_at[category]
                seen.extend([now] * (total - len(seen)))
            if expected_counts and all(len(counted_at[c]) >= n for c, n in expected_counts.items()):
                all_counted.set()
            await asyncio.sleep(0.05)

    baseline: dict[str, int] = defaultdict(int)
    async for document in tallies.find({"edition": DEMO_YEAR}):
        baseline[document["category"]] += document["votes"]
    for category, total in baseline.items():
        counted_at[category].extend([0.0] * total)  # the demo's own votes
        accepted_at[category].extend([0.0] * total)
    sampler = asyncio.create_task(sample_tally())
    cpu = CpuAccount()
    cpu.start()
    figures = await drive(len(ballots), cast, CONCURRENCY)
    expected = {c: len(a) for c, a in accepted_at.items()}
    expected_counts.update(expected)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_counted.wait(), 120)
    cpu_per_vote = cpu.line(len(ballots))
    stop_sampling.set()
    await sampler
    await mongo.close()
    lags = sorted(
        counted - accepted
        for category in expected
        for accepted, counted in zip(accepted_at[category], counted_at[category], strict=False)
        if accepted > 0
    )
    async with httpx.AsyncClient(timeout=120) as http:
        check = (
            await http.get(
                f"{voting}/editions/{DEMO_YEAR}/tally/verify",
                headers={"Authorization": f"Bearer {admin}"},
            )
        ).json()
    accepted = sum(1 for c in expected for a in accepted_at[c] if a > 0)
    return (
        f"vote storm: {len(ballots):,} votes from {VOTERS:,} voters, {CONCURRENCY} clients, "
        f"voting API {in_processes(API_PROCESSES)}: {figures.line()} "
        f"({accepted:,} accepted, {len(refused):,} refused{': ' + refused[0] if refused else ''})\n"
        f"  {figures.tail_line(CONCURRENCY)}\n"
        f"  tally lag p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(lags, 0.99) * 1000:.0f} ms\n"
        f"  bare FastAPI POST {in_processes(API_PROCESSES)} (ceiling): {ceiling.line()} "
        f"-> ratio {figures.per_s / ceiling.per_s:.2f}\n"
        f"  naive path over the same HTTP stack, one transaction per vote + outbox: "
        f"{naive_figures.line()} -> ratio {figures.per_s / naive_figures.per_s:.2f}\n"
        f"  tally verify: {len(check['differences'])} differences, "
        f"{check['counted_votes']:,} counted, {check['uncounted_votes']} not yet counted\n"
        f"  CPU per vote until all were counted, ms: {cpu_per_vote}"
    )


def main(bootstrap: str, mongo_uri: str, workdir: Path) -> str:
    # The voting service as in production: its API in API_PROCESSES processes (one, as a pod runs
    # it, unless told), its worker apart.
    with running_stack(
        bootstrap,
        mongo_uri,
        workdir,
        split="voting",
        api_processes=API_PROCESSES,
        references={
            "bare_app": ([], "/bare"),
            "naive_app": ([mongo_uri, f"{bench_db_prefix()}naive"], "/vote"),
        },
        # A storm from one address is what the benchmark is, not an attack.
        env={"WSIS_VOTING_RATE_LIMITS_ENABLED": "false"},
    ) as stack:
        os.environ["BENCH_VOTING_DB"] = f"{stack.db_prefix}voting"
        return asyncio.run(
            run(
                stack.urls,
                stack.references["bare_app"].removesuffix("/bare"),
                stack.references["naive_app"].removesuffix("/vote"),
                stack.private_key,
                mongo_uri,
            )
        )


if __name__ == "__main__":
    run_alone(main)
