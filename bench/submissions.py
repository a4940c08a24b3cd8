"""10,000 submissions through the HTTP API with 32 concurrent clients.

A submission is what a project team does: create a complete draft, then submit it (two
requests). Printed: submissions/s, p50/p99 latency of a whole submission, the ratio to a bare
FastAPI endpoint answering the same number of requests in the same run (the ceiling of this
machine's HTTP stack), and how long after the last submission all of them are visible in the
public Stocktaking catalogue. The submissions API runs in one process, as a pod runs it
(BENCH_API_PROCESSES for more on one port: on two cores, two did worse, docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.load import drive
from bench.stack import CpuAccount, in_processes, run_alone, running_stack
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Category, Role

TOTAL = int(os.environ.get("BENCH_SUBMISSIONS", "10000"))
CONCURRENCY = 32
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "1"))
YEAR = 2040
_WORDS = [f"w{n}" for n in range(5000)]


def entry(n: int, rng: random.Random) -> dict[str, Any]:
    categories = list(Category)
    return {
        "title": f"Project {n} " + " ".join(rng.choices(_WORDS, k=4)),
        "short_description": " ".join(rng.choices(_WORDS, k=170)),
        "full_description": "The full story of the project.",
        "category": categories[n % len(categories)],
        "sdgs": [1 + n % 17],
        "country": rng.choice(["KE", "BR", "IN", "EE", "EG", "KZ", "NP", "PE"]),
        "stakeholder_type": "civil society",
        "organisation_name": f"Organisation {n // len(categories)}",
        "impact_qualitative": "It changed things.",
        "beneficiaries": "many people",
        "start_date": "2024-01-01",
        "project_status": "completed",
        "contact_name": "Contact",
        "contact_email": f"contact{n}@example.org",
    }


async def run(urls: dict[str, str], bare_url: str, private_key: bytes) -> str:
    s, t = urls["submissions"], urls["stocktaking"]

    def bearer(role: Role, subject: str, org: str | None = None) -> dict[str, str]:
        token = sign_dev_token(private_key, subject=subject, roles=[role], organisation_id=org)
        return {"Authorization": f"Bearer {token}"}

    admin = bearer(Role.ADMIN, "bench-admin")
    async with httpx.AsyncClient(timeout=30) as http:
        schedule = {
            "submission_opens": f"{YEAR}-01-01T00:00:00Z",
            "submission_closes": f"{YEAR}-02-01T00:00:00Z",
            "review_closes": f"{YEAR}-03-01T00:00:00Z",
            "voting_opens": f"{YEAR}-03-02T00:00:00Z",
            "voting_closes": f"{YEAR}-04-01T00:00:00Z",
            "results_at": f"{YEAR}-04-10T00:00:00Z",
        }
        (
            await http.post(
                f"{s}/editions",
                json={"year": YEAR, "title": "Bench", "schedule": schedule},
                headers=admin,
            )
        ).raise_for_status()
        (
            await http.post(
                f"{s}/editions/{YEAR}/phase", json={"phase": "submission"}, headers=admin
            )
        ).raise_for_status()

    rng = random.Random(7)
    bodies = [entry(n, rng) for n in range(TOTAL)]
    organisations = len(Category)
    teams = {
        n // organisations: bearer(
            Role.SUBMITTER, f"team-{n // organisations}", f"org-{n // organisations}"
        )
        for n in range(0, TOTAL, organisations)
    }

    async def submission(http: aiohttp.ClientSession, n: int) -> None:
        team = teams[n // organisations]
        async with http.post(f"{s}/editions/{YEAR}/entries", json=bodies[n], headers=team) as r:
            if r.status != 201:
                raise RuntimeError(f"draft {n} refused: {await r.text()}")
            entry_id = (await r.json())["entry_id"]
        async with http.post(f"{s}/entries/{entry_id}/submit", headers=team) as r:
            if r.status != 200:
                raise RuntimeError(f"submission {n} refused: {await r.text()}")
            await r.read()

    async def bare(http: aiohttp.ClientSession, n: int) -> None:
        for _ in range(2):  # the same two requests a submission makes
            async with http.post(f"{bare_url}/bare", json=bodies[n]) as r:
                r.raise_for_status()
                await r.read()

    ceiling = await drive(TOTAL, bare)
    cpu = CpuAccount()
    cpu.start()
    figures = await drive(TOTAL, submission)
    last_submitted = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            page = await http.get(f"{t}/entries", params={"edition": YEAR, "limit": 1})
            if page.json()["total"] >= TOTAL:
                break
            await asyncio.sleep(0.2)
    visible_after = time.perf_counter() - last_submitted
    cpu_per_submission = cpu.line(TOTAL, precision=1)
    return (
        f"submissions: {TOTAL:,} through the API {in_processes(API_PROCESSES)} with {CONCURRENCY} "
        f"clients: {figures.line()} "
        f"(all in {TOTAL / figures.per_s:.1f} s)\n"
        f"  bare FastAPI endpoint {in_processes(API_PROCESSES)}, same two requests each (ceiling): "
        f"{ceiling.line()}\n"
        f"  ratio {figures.per_s / ceiling.per_s:.2f}; all {TOTAL:,} visible in stocktaking "
        f"{visible_after:.1f} s after the last was accepted\n"
        f"  CPU per submission until all were visible, ms: {cpu_per_submission}"
    )


def main(bootstrap: str, mongo_uri: str, workdir: Path) -> str:
    # The submissions service as in production: its API in API_PROCESSES processes (one, as a pod
    # runs it, unless told), its worker (outbox relay, scheduler) apart.
    with running_stack(
        bootstrap,
        mongo_uri,
        workdir,
        split="submissions",
        api_processes=API_PROCESSES,
        references={"bare_app": ([], "/bare")},
    ) as stack:
        bare_url = stack.references["bare_app"].removesuffix("/bare")
        return asyncio.run(run(stack.urls, bare_url, stack.private_key))


if __name__ == "__main__":
    run_alone(main)
