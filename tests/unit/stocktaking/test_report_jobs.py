"""Running a report job: progress, publication, and what happens when it goes wrong, against an
in-memory job store (the MongoDB one is tested in tests/integration/test_reports.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect

from tests.unit.stocktaking.report_builders import (
    T0,
    YEAR,
    contribution,
    random_entries,
    record,
    tag,
)
from wsis_shared.events import ReportPublished
from wsis_stocktaking.adapters.report_rendering import RENDERERS, Renderer
from wsis_stocktaking.adapters.report_sources import UnreadableRecord
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.reports import (
    ContributionDigest,
    Report,
    ReportEntry,
    ReportFormat,
    ReportKind,
)
from wsis_stocktaking.service_layer.reports import (
    PublishedReportRecord,
    ReportJob,
    StoredFile,
    request_report,
    run_next_job,
)

LEASE = timedelta(seconds=30)


@dataclass
class InMemoryReportStore:
    jobs: dict[str, ReportJob] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # id: report, attempt
    reports: dict[str, PublishedReportRecord] = field(default_factory=dict)
    events: list[ReportPublished] = field(default_factory=list)
    progress: list[tuple[str, int]] = field(default_factory=list)
    steal_after_progress: int | None = None  # another worker takes the job after N updates

    async def add_job(self, job: ReportJob) -> ReportJob:
        for queued in self.jobs.values():
            if (queued.edition, queued.kind, queued.status) == (job.edition, job.kind, "queued"):
                return queued
        self.jobs[job.job_id] = job
        return job

    async def job(self, job_id: str) -> ReportJob | None:
        return self.jobs.get(job_id)

    async def claim_job(
        self, *, owner: str, now: datetime, lease: timedelta, max_attempts: int
    ) -> ReportJob | None:
        for job in sorted(self.jobs.values(), key=lambda job: job.requested_at):
            expired = job.lease_expires_at is not None and job.lease_expires_at < now
            if job.status == "queued" or (
                job.status == "running" and expired and job.attempts < max_attempts
            ):
                claimed = job.model_copy(
                    update={
                        "status": "running",
                        "owner": owner,
                        "lease_expires_at": now + lease,
                        "attempts": job.attempts + 1,
                    }
                )
                self.jobs[job.job_id] = claimed
                return claimed
        return None

    def _owned(self, job_id: str, owner: str) -> bool:
        job = self.jobs[job_id]
        return job.owner == owner and job.status == "running"

    async def report_progress(
        self, job_id: str, *, owner: str, stage: str, percent: int, lease_until: datetime
    ) -> bool:
        if self.steal_after_progress is not None and len(self.progress) >= (
            self.steal_after_progress
        ):
            self.jobs[job_id] = self.jobs[job_id].model_copy(update={"owner": "another-worker"})
        if not self._owned(job_id, owner):
            return False
        self.progress.append((stage, percent))
        self.jobs[job_id] = self.jobs[job_id].model_copy(
            update={"stage": stage, "percent": percent, "lease_expires_at": lease_until}
        )
        return True

    async def fail_job(self, job_id: str, *, owner: str, error: str, now: datetime) -> None:
        if self._owned(job_id, owner):
            self.jobs[job_id] = self.jobs[job_id].model_copy(
                update={"status": "failed", "error": error, "owner": None}
            )

    async def release_job(self, job_id: str, *, owner: str) -> None:
        if self._owned(job_id, owner):
            self.jobs[job_id] = self.jobs[job_id].model_copy(
                update={"status": "queued", "owner": None, "lease_expires_at": None}
            )

    async def put_file(
        self,
        *,
        report_id: str,
        attempt: str,
        format: ReportFormat,
        media_type: str,
        data: bytes,
    ) -> StoredFile:
        file_id = f"{report_id}/{attempt}/report.{format}"
        self.files[file_id] = (report_id, attempt, data)
        return StoredFile(
            format=format, file_id=file_id, media_type=media_type, size=len(data), sha256="x"
        )

    async def discard_files(self, report_id: str, *, attempt: str, keep: bool) -> None:
        for file_id, (report, made_by, _) in list(self.files.items()):
            if report == report_id and (made_by != attempt if keep else made_by == attempt):
                del self.files[file_id]

    async def publish(
        self,
        *,
        job_id: str,
        owner: str,
        report: PublishedReportRecord,
        event: ReportPublished,
        now: datetime,
    ) -> bool:
        if not self._owned(job_id, owner) or report.report_id in self.reports:
            return False
        self.jobs[job_id] = self.jobs[job_id].model_copy(
            update={"status": "done", "report_id": report.report_id, "owner": None}
        )
        self.reports[report.report_id] = report
        self.events.append(event)
        return True


@dataclass
class ListSources:
    entries_: list[ReportEntry] = field(default_factory=list)
    contributions_: list[ContributionDigest] = field(default_factory=list)
    records: list[CatalogueRecord] = field(default_factory=list)
    failure: Exception | None = None

    async def count_entries(self, edition: int) -> int:
        return len(self.entries_)

    async def entries(self, edition: int) -> AsyncIterator[ReportEntry]:
        for number, entry in enumerate(self.entries_):
            if self.failure is not None and number == len(self.entries_) // 2:
                raise self.failure
            yield entry

    async def contributions(self, edition: int) -> AsyncIterator[ContributionDigest]:
        for item in self.contributions_:
            yield item

    async def success_story_records(self, edition: int) -> list[CatalogueRecord]:
        return self.records


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(1_000_000))
    return lambda: T0 + timedelta(seconds=next(ticks))


async def _requested(store: InMemoryReportStore, kind: ReportKind = "stocktaking-report") -> str:
    job = await request_report(store, edition=YEAR, kind=kind, requested_by="admin-1", now=T0)
    return job.job_id


async def _run(
    store: InMemoryReportStore,
    sources: ListSources,
    renderers: tuple[Renderer, ...] = RENDERERS,
) -> ReportJob | None:
    return await run_next_job(
        store, sources, renderers, worker="test", lease=LEASE, max_attempts=3, clock=_clock()
    )


async def test_a_job_reports_its_progress_and_publishes_every_format_once() -> None:
    store = InMemoryReportStore()
    sources = ListSources(
        entries_=random_entries(12_000), contributions_=[contribution("c", tag("C4"))]
    )
    job_id = await _requested(store)
    done = await _run(store, sources)
    assert done is not None
    assert (done.status, done.report_id, done.percent) == ("done", job_id, 100)
    percents = [percent for _, percent in store.progress]
    assert percents == sorted(percents)
    stages = [stage for stage, _ in store.progress]
    assert stages[0] == "reading entries"
    assert stages.count("reading entries") >= 3  # a step every 5,000 entries
    assert stages[-1] == "publishing"
    assert [event.payload.formats for event in store.events] == [("html", "pdf", "csv", "json")]
    assert store.events[0].payload.report_id == job_id
    assert len(store.files) == 4
    assert await _run(store, sources) is None  # nothing left to do


async def test_success_stories_are_a_job_too() -> None:
    store = InMemoryReportStore()
    job_id = await _requested(store, "success-stories")
    sources = ListSources(records=[record("w", winner=True, champion=True)])
    done = await _run(store, sources)
    assert done is not None
    assert done.status == "done"
    assert store.reports[job_id].kind == "success-stories"
    assert store.reports[job_id].as_of == T0


async def test_a_record_the_report_cannot_read_fails_the_job_with_its_reason() -> None:
    store = InMemoryReportStore()
    job_id = await _requested(store)
    failure = UnreadableRecord("catalogue entry 'e-7' cannot be counted: missing 'region'")
    failed = await _run(store, ListSources(entries_=random_entries(10), failure=failure))
    assert failed is not None
    assert store.jobs[job_id].status == "failed"
    assert store.jobs[job_id].error == (
        "UnreadableRecord: catalogue entry 'e-7' cannot be counted: missing 'region'"
    )
    assert store.events == []
    assert store.files == {}


async def test_a_renderer_that_breaks_fails_the_job_and_leaves_no_file() -> None:
    def broken(report: Report) -> bytes:
        raise RuntimeError("the PDF library gave up")

    renderers = (*RENDERERS[:2], Renderer("json", "application/json", broken))
    store = InMemoryReportStore()
    job_id = await _requested(store)
    await _run(store, ListSources(entries_=random_entries(10)), renderers)
    assert store.jobs[job_id].status == "failed"
    assert store.jobs[job_id].error == "RuntimeError: the PDF library gave up"
    assert (store.events, store.files) == ([], {})


async def test_a_worker_that_lost_its_job_publishes_nothing_and_cleans_up() -> None:
    store = InMemoryReportStore(steal_after_progress=3)
    job_id = await _requested(store)
    assert await _run(store, ListSources(entries_=random_entries(10))) is None
    assert store.events == []
    assert store.files == {}
    assert store.jobs[job_id].owner == "another-worker"


async def test_the_database_going_away_puts_the_job_back_in_the_queue() -> None:
    store = InMemoryReportStore()
    job_id = await _requested(store)
    sources = ListSources(
        entries_=random_entries(10), failure=AutoReconnect("primary stepped down")
    )
    assert await _run(store, sources) is None
    assert (store.jobs[job_id].status, store.jobs[job_id].attempts) == ("queued", 1)
    sources.failure = None
    done = await _run(store, sources)
    assert done is not None
    assert (done.status, store.jobs[job_id].attempts) == ("done", 2)
    assert len(store.events) == 1


async def test_files_of_an_attempt_whose_worker_died_are_discarded() -> None:
    store = InMemoryReportStore()
    job_id = await _requested(store)
    claimed = await store.claim_job(owner="dead", now=T0, lease=LEASE, max_attempts=3)
    assert claimed is not None
    await store.put_file(
        report_id=job_id, attempt="dead", format="pdf", media_type="application/pdf", data=b"%"
    )
    # Claimed again after the dead worker's lease ran out.
    expired = T0 - timedelta(seconds=1)
    store.jobs[job_id] = store.jobs[job_id].model_copy(update={"lease_expires_at": expired})
    done = await _run(store, ListSources())
    assert done is not None
    assert all(attempt != "dead" for _, attempt, _ in store.files.values())
    assert len(store.files) == 4


@pytest.mark.parametrize("kind", ["stocktaking-report", "success-stories"])
async def test_two_requests_of_the_same_report_before_it_starts_are_one_job(
    kind: ReportKind,
) -> None:
    store = InMemoryReportStore()
    assert await _requested(store, kind) == await _requested(store, kind)
    assert len(store.jobs) == 1
