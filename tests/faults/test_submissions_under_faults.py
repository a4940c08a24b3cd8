"""Submissions reach review and stocktaking exactly once while the broker and the workers crash.

Project teams submit SUBMISSIONS entries over a minute; meanwhile the broker is SIGKILLed and
restarted, and the submissions worker (the outbox relay), the review worker and the stocktaking
worker are each SIGKILLed and restarted. Afterwards every accepted entry is a review candidate
and a Stocktaking entry once, each consumer applied each `submission.submitted` once, and no
outbox record is left unsent.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.faults.conftest import SplitPlatform
from tests.integration.helpers import eventually, read_topic
from wsis_devstack.pytest_plugin import BrokerControl
from wsis_shared.events import SubmissionSubmitted, decode
from wsis_shared.vocabulary import Category, Role

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(600)]

SUBMISSIONS = int(os.environ.get("WSIS_FAULTS_SUBMISSIONS", "240"))
SUBMIT_SECONDS = 60.0
YEAR = 2061
WORDS = [f"word{n}" for n in range(5000)]


def entry(n: int, rng: random.Random) -> dict[str, Any]:
    categories = list(Category)
    return {
        "title": f"Community network {n} " + " ".join(rng.choices(WORDS, k=3)),
        "short_description": " ".join(rng.choices(WORDS, k=170)),
        "full_description": "How it started, who took part, what it achieved.",
        "category": categories[n % len(categories)],
        "sdgs": [1 + n % 17],
        "country": rng.choice(["KE", "BR", "IN", "EE", "EG", "KZ", "NP", "PE"]),
        "stakeholder_type": "civil society",
        "organisation_name": f"Faults organisation {n}",
        "impact_qualitative": "It connected villages.",
        "beneficiaries": "villages",
        "start_date": "2021-01-01",
        "project_status": "completed",
        "contact_name": "Contact",
        "contact_email": f"contact{n}@example.org",
    }


def schedule() -> dict[str, str]:
    return {
        "submission_opens": f"{YEAR}-01-10T00:00:00Z",
        "submission_closes": f"{YEAR}-02-10T00:00:00Z",
        "review_closes": f"{YEAR}-03-10T00:00:00Z",
        "voting_opens": f"{YEAR}-03-11T00:00:00Z",
        "voting_closes": f"{YEAR}-04-10T00:00:00Z",
        "results_at": f"{YEAR}-04-20T00:00:00Z",
    }


async def test_every_accepted_submission_reaches_review_and_stocktaking_exactly_once(
    split_platform: SplitPlatform,
    broker: BrokerControl,
    kafka_bootstrap: str,
    mongo_uri: str,
    topic_prefix: str,
) -> None:
    platform = split_platform
    submissions, review, stocktaking = (
        platform.url(s) for s in ("submissions", "review", "stocktaking")
    )
    admin = platform.headers(roles=[Role.ADMIN], sub="faults-admin")
    chair = platform.headers(roles=[Role.CHAIR], sub="faults-chair")
    rng = random.Random(61)
    accepted: list[str] = []
    timings: dict[str, float] = {}

    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(
            f"{submissions}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule()},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        opened = await http.post(
            f"{submissions}/editions/{YEAR}/phase", json={"phase": "submission"}, headers=admin
        )
        assert opened.status_code == 200, opened.text

        async def submit(n: int) -> None:
            team = platform.headers(roles=[Role.SUBMITTER], sub=f"team-{n}", org=f"forg-{n}")
            draft = await http.post(
                f"{submissions}/editions/{YEAR}/entries", json=entry(n, rng), headers=team
            )
            assert draft.status_code == 201, draft.text
            entry_id = draft.json()["entry_id"]
            done = await http.post(f"{submissions}/entries/{entry_id}/submit", headers=team)
            assert done.status_code == 200, done.text
            accepted.append(entry_id)

        async def teams() -> None:
            started = time.monotonic()
            for n in range(SUBMISSIONS):
                await asyncio.sleep(
                    max(0.0, started + n * SUBMIT_SECONDS / SUBMISSIONS - time.monotonic())
                )
                await submit(n)

        async def faults() -> None:
            await asyncio.sleep(SUBMIT_SECONDS * 0.1)
            began = time.monotonic()
            await broker.stop(crash=True)
            await asyncio.sleep(2)
            await broker.start()
            timings["broker down"] = time.monotonic() - began
            for service in ("submissions", "review", "stocktaking"):
                await asyncio.sleep(SUBMIT_SECONDS * 0.1)
                timings[f"{service} worker down"] = await asyncio.to_thread(
                    platform.kill_worker, service
                )

        await asyncio.gather(teams(), faults())
        last_accepted = time.monotonic()

        async def review_has_all() -> bool:
            found = await http.get(f"{review}/editions/{YEAR}/candidates", headers=chair)
            return {c["entry"]["entry_id"] for c in found.json()} >= set(accepted)

        async def stocktaking_has_all() -> bool:
            page = await http.get(f"{stocktaking}/entries", params={"edition": YEAR, "limit": 1})
            return int(page.json()["total"]) == len(accepted)

        await eventually(review_has_all, timeout_s=180, what="every entry in review")
        timings["review complete after the last"] = time.monotonic() - last_accepted
        await eventually(stocktaking_has_all, timeout_s=180, what="every entry in stocktaking")
        timings["stocktaking complete after the last"] = time.monotonic() - last_accepted
        candidates = (await http.get(f"{review}/editions/{YEAR}/candidates", headers=chair)).json()

    assert len(accepted) == SUBMISSIONS
    counts = Counter(c["entry"]["entry_id"] for c in candidates)
    assert set(counts) == set(accepted)
    assert max(counts.values()) == 1

    # Each consumer applied each submission's event once; the relay left nothing behind.
    published = [
        decode("wsis.submissions.v1", record.value)
        for record in await read_topic(kafka_bootstrap, f"{topic_prefix}wsis.submissions.v1")
    ]
    submitted_ids = {
        str(e.event_id)
        for e in published
        if isinstance(e, SubmissionSubmitted) and e.edition == YEAR
    }
    assert len(submitted_ids) == SUBMISSIONS
    duplicates_on_topic = sum(
        1 for e in published if isinstance(e, SubmissionSubmitted) and e.edition == YEAR
    ) - len(submitted_ids)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        for service in ("review", "stocktaking"):
            inbox = mongo[platform.database(service)]["inbox"]
            applied = await inbox.count_documents({"event_id": {"$in": sorted(submitted_ids)}})
            assert applied == SUBMISSIONS, (service, applied)
        unsent = await mongo[platform.database("submissions")]["outbox"].count_documents(
            {"sent_at": None}
        )
        assert unsent == 0
    finally:
        await mongo.close()
    print(
        f"\nsubmissions under faults: {SUBMISSIONS} accepted, {SUBMISSIONS} in review, "
        f"{SUBMISSIONS} in stocktaking, lost 0, doubled 0 ({duplicates_on_topic} duplicate "
        "deliveries on the topic, ignored by the inboxes); "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    )
