"""Report jobs against the real mongod: requested over HTTP, run by the worker's task loop,
downloaded in all four formats, with numbers equal to the catalogue in the database (counted
here by MongoDB itself, not by the report code), and exactly one `report.published` in the
outbox per report however many task loops race for the jobs."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.integration.helpers import eventually
from tests.unit.stocktaking.report_reading import between, count_rows, matrix_rows, pdf_text
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import EntryPublic, PublishedReport, ReportPublished, decode
from wsis_shared.mongo import Database
from wsis_shared.runtime import Resources
from wsis_shared.vocabulary import ActionLine, Category, Region, Role, StakeholderType
from wsis_stocktaking.adapters.contributions import MongoContributionRepository
from wsis_stocktaking.adapters.report_store import FILES_BUCKET, MongoReportStore
from wsis_stocktaking.app import SERVICE, create_app
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.contributions import Contribution, Tag
from wsis_stocktaking.entrypoints.workers import run_report_jobs
from wsis_stocktaking.service_layer.reports import PublishedReportRecord
from wsis_stocktaking.settings import StocktakingSettings

pytestmark = pytest.mark.integration

YEAR = 2027
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@dataclass
class Stack:
    http: httpx.AsyncClient
    resources: Resources
    settings: StocktakingSettings
    private_key: bytes

    def headers(self, role: Role | None = Role.ADMIN) -> dict[str, str]:
        if role is None:
            return {}
        token = sign_dev_token(self.private_key, subject=f"{role}-1", roles=[role])
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def stack(mongo_uri: str, mongo_db_prefix: str, tmp_path: Path) -> AsyncIterator[Stack]:
    private_key, public_key = ensure_dev_keys(tmp_path / "keys")
    settings = StocktakingSettings(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public_key,
        report_poll_interval_s=0.05,
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        resources: Resources = app.state.resources
        yield Stack(http, resources, settings, private_key.read_bytes())
        await resources.mongo.drop_database(resources.db.name)


@asynccontextmanager
async def task_loops(stack: Stack, replicas: int) -> AsyncIterator[None]:
    """`replicas` report task loops, each on resources of its own, as separate worker
    processes would be."""
    stop = asyncio.Event()
    async with opened_resources(stack.settings, replicas) as opened:
        loops = [asyncio.create_task(run_report_jobs(resources, stop)) for resources in opened]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*loops)


@asynccontextmanager
async def opened_resources(
    settings: StocktakingSettings, count: int
) -> AsyncIterator[list[Resources]]:
    if count == 0:
        yield []
        return
    async with (
        SERVICE.open_resources(settings) as first,
        opened_resources(settings, count - 1) as rest,
    ):
        yield [first, *rest]


# --- the catalogue and contributions, as the projections and the contributions API store them -


async def seed_catalogue(db: Database, *, entries: int, seed: int = 1) -> None:
    """Records shaped as `CatalogueRecord` (`_id` = entry id), written directly: this test is
    about what a report reads, not about the projections that write them."""
    rng = random.Random(seed)
    categories, lines = list(Category), list(ActionLine)
    records = []
    for number in range(entries):
        entry_id = f"entry-{number:04d}"
        entry = EntryPublic(
            entry_id=entry_id,
            category=rng.choice(categories),
            title=f"Project {number}",
            short_description=f"What project {number} did for its community.",
            organisation_id=f"org-{number % 50}",
            organisation_name=f"Organisation {number % 50}",
            country=rng.choice(["KE", "CH", "BR", "IN", "EG"]),
            region=rng.choice(list(Region)),
            stakeholder_type=rng.choice(list(StakeholderType)),
            action_lines=tuple(rng.sample(lines, rng.randint(0, 2))),
            sdgs=tuple(rng.sample(range(1, 18), rng.randint(0, 3))),
        )
        champion = rng.random() < 0.05
        records.append(
            CatalogueRecord(
                entry_id=entry_id,
                edition=YEAR,
                entry=entry,
                withdrawn=rng.random() < 0.1,
                champion=champion,
                winner=champion and rng.random() < 0.3,
                votes=rng.randint(0, 500),
                updated_at=T0 + timedelta(minutes=number),
            )
        )
    # Facts of an entry whose submission was not seen yet: not an entry of the report.
    records.append(CatalogueRecord(entry_id="entry-unseen", edition=YEAR, votes=3, updated_at=T0))
    # Another edition's entry: not counted.
    records.append(records[0].model_copy(update={"entry_id": "older-1", "edition": YEAR - 1}))
    await db["catalogue"].insert_many(
        [
            record.model_dump(mode="python", exclude={"entry_id"}, exclude_none=True)
            | {"_id": record.entry_id}
            for record in records
        ]
    )


async def seed_contributions(db: Database, count: int) -> None:
    """Stored by the contributions repository itself, as the contributions API does."""
    repository = MongoContributionRepository(db)
    for number in range(count):
        await repository.add(
            Contribution(
                contribution_id=f"contribution-{number:03d}",
                edition=YEAR,
                organisation=f"Contributor {number}",
                title=f"Implementing WSIS in {number}",
                text=f"Contribution {number}: the whole text, which a report never reads. " * 50,
                format="text",
                submitted_by="editor-1",
                submitted_at=T0 + timedelta(hours=number),
                tags=[
                    Tag(
                        kind="action_line",
                        code=["C4", "C7.e-health", "C10"][number % 3],
                        source="explicit" if number % 2 else "inferred",
                        confidence=1.0 if number % 2 else 0.8,
                        evidence=f"Sentence {number} about the action line.",
                    )
                ],
            )
        )


# --- the figures, counted by MongoDB ----------------------------------------------------------

COUNTED = {"edition": YEAR, "entry": {"$exists": True}, "withdrawn": {"$ne": True}}
ACTION_LINES_OF_ENTRY = {
    "$setUnion": [
        [{"$arrayElemAt": [{"$split": ["$entry.category", "."]}, 0]}],
        "$entry.action_lines",
    ]
}


async def grouped(db: Database, *stages: dict[str, Any]) -> dict[Any, int]:
    pipeline = [
        {"$match": COUNTED},
        *stages,
        {"$group": {"_id": "$key", "count": {"$sum": 1}}},
    ]
    cursor = await db["catalogue"].aggregate(pipeline)
    return {
        # A compound key comes back as a list: a tuple, to be a key here.
        tuple(key) if isinstance(key := document["_id"], list) else key: document["count"]
        async for document in cursor
    }


async def database_figures(db: Database) -> dict[str, dict[Any, int]]:
    return {
        "category": await grouped(db, {"$project": {"key": "$entry.category"}}),
        "region": await grouped(db, {"$project": {"key": "$entry.region"}}),
        "stakeholder": await grouped(db, {"$project": {"key": "$entry.stakeholder_type"}}),
        "sdg": await grouped(db, {"$unwind": "$entry.sdgs"}, {"$project": {"key": "$entry.sdgs"}}),
        "action_line": await grouped(
            db,
            {"$project": {"key": ACTION_LINES_OF_ENTRY}},
            {"$unwind": "$key"},
        ),
        "matrix": await grouped(
            db,
            {"$project": {"line": ACTION_LINES_OF_ENTRY, "sdg": "$entry.sdgs"}},
            {"$unwind": "$line"},
            {"$unwind": "$sdg"},
            {"$project": {"key": ["$line", "$sdg"]}},
        ),
        "totals": {
            "counted": await db["catalogue"].count_documents(COUNTED),
            "withdrawn": await db["catalogue"].count_documents(
                {"edition": YEAR, "entry": {"$exists": True}, "withdrawn": True}
            ),
        },
    }


# --- helpers ----------------------------------------------------------------------------------


async def request(stack: Stack, kind: str, edition: int = YEAR) -> str:
    response = await stack.http.post(
        "/reports", json={"edition": edition, "kind": kind}, headers=stack.headers()
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/reports/jobs/{response.json()['job_id']}"
    return str(response.json()["job_id"])


async def job(stack: Stack, job_id: str) -> dict[str, Any]:
    response = await stack.http.get(f"/reports/jobs/{job_id}", headers=stack.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def job_finished(stack: Stack, job_id: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await job(stack, job_id))["status"] in ("done", "failed")

    return check


async def published_events(resources: Resources) -> list[ReportPublished]:
    events = []
    async for record in resources.db["outbox"].find({"topic": "wsis.stocktaking.v1"}):
        event = decode(record["topic"], record["value"])
        assert isinstance(event, ReportPublished)
        assert record["key"] == event.payload.report_id
        events.append(event)
    return events


async def downloads(stack: Stack, report_id: str) -> dict[str, bytes]:
    report = (await stack.http.get(f"/reports/{report_id}")).json()  # public: no token
    assert [d["format"] for d in report["downloads"]] == list(FORMATS)
    found = {}
    for download in report["downloads"]:
        response = await stack.http.get(download["href"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == FORMATS[download["format"]]
        digest = hashlib.sha256(response.content).hexdigest()
        assert digest == download["sha256"]
        assert response.headers["etag"] == f'"{digest}"'
        assert "immutable" in response.headers["cache-control"]
        assert int(response.headers["content-length"]) == download["bytes"]
        again = await stack.http.get(download["href"], headers={"If-None-Match": f'"{digest}"'})
        assert again.status_code == 304
        assert again.content == b""
        found[download["format"]] = response.content
    return found


# --- the tests --------------------------------------------------------------------------------


async def test_a_report_requested_over_http_is_generated_and_equals_the_database(
    stack: Stack,
) -> None:
    db = stack.resources.db
    await seed_catalogue(db, entries=400)
    await seed_contributions(db, 30)
    job_id = await request(stack, "stocktaking-report")
    assert (await job(stack, job_id))["status"] == "queued"

    async with task_loops(stack, replicas=1):
        await eventually(job_finished(stack, job_id), what="the report job to finish")
    finished = await job(stack, job_id)
    assert (finished["status"], finished["stage"]) == ("done", "published")
    assert finished["percent"] == 100
    assert finished["error"] is None
    report_id = finished["report_id"]
    assert finished["report_href"] == f"/reports/{report_id}"

    files = await downloads(stack, report_id)
    expected = await database_figures(db)
    figures = json.loads(files["json"])

    assert figures["headline"]["entries_counted"] == expected["totals"]["counted"]
    assert figures["headline"]["entries_withdrawn"] == expected["totals"]["withdrawn"]
    for key, table in (
        ("category", "by_category"),
        ("region", "by_region"),
        ("stakeholder", "by_stakeholder_type"),
        ("action_line", "by_action_line"),
    ):
        assert {c["code"]: c["count"] for c in figures[table] if c["count"]} == expected[key]
    assert {int(c["code"][3:]): c["count"] for c in figures["by_sdg"] if c["count"]} == (
        expected["sdg"]
    )
    matrix = {
        (row["action_line"], sdg): count
        for row in figures["matrix"]
        for sdg, count in enumerate(row["counts"], start=1)
        if count
    }
    assert matrix == expected["matrix"]
    assert figures["headline"]["contributions"] == 30
    assert figures["headline"]["contributions_in_effect"] == 15  # the explicit tags only

    # The same numbers in the PDF ...
    text = pdf_text(files["pdf"])
    categories = count_rows(between(text, "Entries by prize category", "Entries by region"))
    assert {code: count for code, (count, _, _) in categories.items() if count} == (
        expected["category"]
    )
    regions = count_rows(between(text, "Entries by region", "Entries by stakeholder type"))
    assert {code: count for code, (count, _, _) in regions.items() if count} == expected["region"]
    heat_map = matrix_rows(between(text, "The WSIS–SDG matrix", "Contributions by action line"))
    assert {
        (line, sdg): count
        for line, counts in heat_map.items()
        for sdg, count in enumerate(counts, start=1)
        if count
    } == expected["matrix"]
    # ... in the CSV ...
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    assert {row["row"]: int(row["value"]) for row in rows if row["table"] == "by_category"} == {
        category.value: expected["category"].get(category.value, 0) for category in Category
    }
    # ... and in the HTML.
    html = files["html"].decode()
    assert f"<dd>{expected['totals']['counted']:,}</dd>" in html

    events = await published_events(stack.resources)
    assert [(e.payload.report_id, e.payload.kind, e.edition) for e in events] == [
        (report_id, "stocktaking-report", YEAR)
    ]
    assert events[0].payload.formats == ("html", "pdf", "csv", "json")

    listed = (await stack.http.get("/reports", params={"edition": YEAR})).json()
    assert [r["report_id"] for r in listed] == [report_id]


async def test_two_task_loops_publish_each_report_exactly_once(stack: Stack) -> None:
    db = stack.resources.db
    await seed_catalogue(db, entries=150, seed=2)
    job_ids = [
        await request(stack, "stocktaking-report"),
        await request(stack, "success-stories"),
        await request(stack, "stocktaking-report", edition=YEAR - 1),
        await request(stack, "success-stories", edition=YEAR + 1),
    ]
    async with task_loops(stack, replicas=2):
        for job_id in job_ids:
            await eventually(job_finished(stack, job_id), what=f"job {job_id}")
        # One more request while both loops poll: still one run, one event.
        late = await request(stack, "stocktaking-report")
        await eventually(job_finished(stack, late), what="the late job")
    job_ids.append(late)

    jobs = [await job(stack, job_id) for job_id in job_ids]
    assert [j["status"] for j in jobs] == ["done"] * 5
    assert [j["attempts"] for j in jobs] == [1] * 5
    events = await published_events(stack.resources)
    assert sorted(e.payload.report_id for e in events) == sorted(j["report_id"] for j in jobs)
    files = await db[f"{FILES_BUCKET}.files"].count_documents({})
    assert files == 5 * 4  # no attempt left files behind


async def test_the_same_data_give_byte_identical_reports(stack: Stack) -> None:
    await seed_catalogue(stack.resources.db, entries=120, seed=3)
    await seed_contributions(stack.resources.db, 9)
    first = await request(stack, "stocktaking-report")
    async with task_loops(stack, replicas=1):
        await eventually(job_finished(stack, first), what="the first report")
        second = await request(stack, "stocktaking-report")
        await eventually(job_finished(stack, second), what="the second report")
    reports = [
        (await stack.http.get(f"/reports/{(await job(stack, job_id))['report_id']}")).json()
        for job_id in (first, second)
    ]
    assert reports[0]["report_id"] != reports[1]["report_id"]
    assert [d["sha256"] for d in reports[0]["downloads"]] == [
        d["sha256"] for d in reports[1]["downloads"]
    ]
    assert reports[0]["as_of"] == reports[1]["as_of"]


async def test_an_edition_without_entries_gives_a_report_of_zeros(stack: Stack) -> None:
    job_ids = [await request(stack, "stocktaking-report"), await request(stack, "success-stories")]
    async with task_loops(stack, replicas=1):
        for job_id in job_ids:
            await eventually(job_finished(stack, job_id), what="the empty reports")
    for job_id in job_ids:
        done = await job(stack, job_id)
        assert done["status"] == "done", done
        files = await downloads(stack, done["report_id"])
        figures = json.loads(files["json"])
        assert figures["as_of"] is None
        assert pdf_text(files["pdf"]).strip()
    stocktaking = json.loads(
        (await downloads(stack, (await job(stack, job_ids[0]))["report_id"]))["json"]
    )
    assert stocktaking["headline"]["entries_counted"] == 0
    assert all(count["count"] == 0 for count in stocktaking["by_category"])


async def test_a_job_whose_worker_died_is_taken_over_after_its_lease(stack: Stack) -> None:
    await seed_catalogue(stack.resources.db, entries=50, seed=4)
    job_id = await request(stack, "success-stories")
    store = MongoReportStore(stack.resources.mongo, stack.resources.db, stack.resources.outbox)
    now = datetime.now(UTC)
    claimed = await store.claim_job(
        owner="dead-worker", now=now, lease=timedelta(seconds=1), max_attempts=3
    )
    assert claimed is not None
    assert claimed.job_id == job_id
    await store.put_file(
        report_id=job_id, attempt="dead-worker", format="pdf", media_type="x", data=b"half"
    )
    await asyncio.sleep(1.2)  # the dead worker's lease runs out

    async with task_loops(stack, replicas=2):
        await eventually(job_finished(stack, job_id), what="the taken-over job")
    done = await job(stack, job_id)
    assert (done["status"], done["attempts"]) == ("done", 2)
    attempts = await stack.resources.db[f"{FILES_BUCKET}.files"].distinct("metadata.attempt")
    assert len(attempts) == 1
    assert attempts[0] != "dead-worker"  # the dead attempt's file was cleaned up
    assert len(await published_events(stack.resources)) == 1


async def test_only_the_owner_of_a_job_can_publish_it(stack: Stack) -> None:
    """The fence behind "exactly once": a worker that lost its job to another cannot publish,
    even if it finishes its work."""
    job_id = await request(stack, "stocktaking-report")
    store = MongoReportStore(stack.resources.mongo, stack.resources.db, stack.resources.outbox)
    now = datetime.now(UTC)
    slow = await store.claim_job(owner="slow", now=now, lease=timedelta(seconds=1), max_attempts=3)
    assert slow is not None
    later = now + timedelta(seconds=2)
    fast = await store.claim_job(
        owner="fast", now=later, lease=timedelta(minutes=1), max_attempts=3
    )
    assert fast is not None
    assert fast.job_id == job_id
    assert not await store.report_progress(
        job_id, owner="slow", stage="rendering pdf", percent=70, lease_until=later
    )

    record = PublishedReportRecord(
        report_id=job_id,
        job_id=job_id,
        edition=YEAR,
        kind="stocktaking-report",
        as_of=None,
        published_at=later,
        files=(),
    )

    def event() -> ReportPublished:
        return ReportPublished(
            aggregate_id=job_id,
            aggregate_version=1,
            edition=YEAR,
            payload=PublishedReport(report_id=job_id, kind="stocktaking-report", formats=()),
        )

    assert not await store.publish(
        job_id=job_id, owner="slow", report=record, event=event(), now=later
    )
    assert await store.publish(job_id=job_id, owner="fast", report=record, event=event(), now=later)
    assert not await store.publish(
        job_id=job_id, owner="fast", report=record, event=event(), now=later
    )
    assert len(await published_events(stack.resources)) == 1


async def test_a_job_that_killed_its_workers_fails_with_a_reason(stack: Stack) -> None:
    job_id = await request(stack, "stocktaking-report")
    store = MongoReportStore(stack.resources.mongo, stack.resources.db, stack.resources.outbox)
    now = datetime.now(UTC)
    for attempt in range(3):
        at = now + timedelta(seconds=2 * attempt)
        assert await store.claim_job(
            owner=f"dies-{attempt}", now=at, lease=timedelta(seconds=1), max_attempts=3
        )
    after_the_last = now + timedelta(seconds=10)
    assert not await store.claim_job(
        owner="next", now=after_the_last, lease=timedelta(seconds=1), max_attempts=3
    )
    failed = await job(stack, job_id)
    assert failed["status"] == "failed"
    assert "stopped 3 times" in failed["error"]


# --- the door: roles and bad input ------------------------------------------------------------


@pytest.mark.parametrize("role", [None, Role.SUBMITTER, Role.REVIEWER, Role.CHAIR, Role.VOTER])
async def test_only_an_admin_requests_reports_and_follows_jobs(
    stack: Stack, role: Role | None
) -> None:
    body = {"edition": YEAR, "kind": "stocktaking-report"}
    refused = await stack.http.post("/reports", json=body, headers=stack.headers(role))
    assert refused.status_code == (401 if role is None else 403)
    assert refused.headers["content-type"] == "application/problem+json"
    job_id = await request(stack, "stocktaking-report")
    following = await stack.http.get(f"/reports/jobs/{job_id}", headers=stack.headers(role))
    assert following.status_code == (401 if role is None else 403)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"edition": 1990, "kind": "stocktaking-report"}, "/edition"),
        ({"edition": YEAR, "kind": "annual-report"}, "/kind"),
        ({"edition": "next", "kind": "success-stories"}, "/edition"),
        ({"kind": "success-stories"}, "/edition"),
        ({"edition": YEAR, "kind": "success-stories", "extra": 1}, "/extra"),
    ],
)
async def test_a_bad_request_is_refused_with_a_reason(
    stack: Stack, body: dict[str, Any], pointer: str
) -> None:
    response = await stack.http.post("/reports", json=body, headers=stack.headers())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


async def test_unknown_reports_jobs_and_formats_are_clear_4xx(stack: Stack) -> None:
    for path in ("/reports/no-such-report", "/reports/no-such-report/report.pdf"):
        response = await stack.http.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    response = await stack.http.get("/reports/jobs/no-such-job", headers=stack.headers())
    assert response.status_code == 404
    response = await stack.http.get("/reports/anything/report.xlsx")
    assert response.status_code == 422
    assert "html" in response.json()["detail"]


async def test_two_requests_before_a_worker_starts_are_one_job(stack: Stack) -> None:
    first = await request(stack, "success-stories")
    second = await request(stack, "success-stories")
    assert first == second
    assert await request(stack, "stocktaking-report") != first
