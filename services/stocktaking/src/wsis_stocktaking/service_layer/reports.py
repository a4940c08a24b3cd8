"""Report generation as a job: an admin requests a report, a worker generates it, the public
downloads it.

Any number of worker replicas poll the same queue. A job is claimed atomically with an owner and
a lease that the worker keeps renewing while it works; a job whose worker died is taken over once
the lease ran out, and one that killed its workers `max_attempts` times is failed rather than
retried for ever. Every attempt writes its files under its own name, and only the attempt that
still owns the job can publish: publishing (the report record, the job's completion and the
`report.published` event in the outbox) is one MongoDB transaction fenced on the owner, so a
report is published exactly once however many workers raced for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from pymongo.errors import ConnectionFailure

from wsis_shared import context
from wsis_shared.events import PublishedReport, ReportPublished, utcnow
from wsis_shared.logging import get_logger
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.reports import (
    ContributionDigest,
    Report,
    ReportEntry,
    ReportFormat,
    ReportKind,
    StocktakingTally,
    success_stories,
)

log = get_logger(__name__)
T = TypeVar("T")

JobStatus = Literal["queued", "running", "done", "failed"]
PROGRESS_EVERY_ENTRIES: Final = 5_000


class ReportJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    edition: int
    kind: ReportKind
    status: JobStatus = "queued"
    stage: str = "queued"
    percent: int = 0
    error: str | None = None
    requested_by: str
    requested_at: datetime
    correlation_id: uuid.UUID
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    owner: str | None = None
    lease_expires_at: datetime | None = None
    report_id: str | None = None


class StoredFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: ReportFormat
    file_id: str
    media_type: str
    size: int
    sha256: str


class PublishedReportRecord(BaseModel):
    """A published report: it never changes, so its files can be cached for ever."""

    model_config = ConfigDict(frozen=True)

    report_id: str
    job_id: str
    edition: int
    kind: ReportKind
    as_of: datetime | None
    published_at: datetime
    files: tuple[StoredFile, ...]

    def file(self, format: ReportFormat) -> StoredFile | None:
        return next((file for file in self.files if file.format == format), None)


class ReportStore(Protocol):
    async def add_job(self, job: ReportJob) -> ReportJob:
        """Queue `job`, or return the job already queued for the same edition and kind (it has
        read nothing yet, so it will give the same report)."""
        ...

    async def job(self, job_id: str) -> ReportJob | None: ...

    async def claim_job(
        self, *, owner: str, now: datetime, lease: timedelta, max_attempts: int
    ) -> ReportJob | None:
        """Atomically take the oldest queued job, or a running one whose lease expired."""
        ...

    async def report_progress(
        self, job_id: str, *, owner: str, stage: str, percent: int, lease_until: datetime
    ) -> bool:
        """Record progress and renew the lease; False once `owner` no longer holds the job."""
        ...

    async def fail_job(self, job_id: str, *, owner: str, error: str, now: datetime) -> None: ...

    async def release_job(self, job_id: str, *, owner: str) -> None:
        """Back to the queue (a transient failure): another attempt will start afresh."""
        ...

    async def put_file(
        self,
        *,
        report_id: str,
        attempt: str,
        format: ReportFormat,
        media_type: str,
        data: bytes,
    ) -> StoredFile: ...

    async def discard_files(self, report_id: str, *, attempt: str, keep: bool) -> None:
        """Delete the files of `attempt` (keep=False), or of every other attempt (keep=True)."""
        ...

    async def publish(
        self,
        *,
        job_id: str,
        owner: str,
        report: PublishedReportRecord,
        event: ReportPublished,
        now: datetime,
    ) -> bool:
        """In one transaction: complete the job if `owner` still holds it, store the report
        record and put `event` in the outbox. False (and nothing written) if it lost the job."""
        ...


class ReportSources(Protocol):
    async def count_entries(self, edition: int) -> int: ...
    def entries(self, edition: int) -> AsyncIterator[ReportEntry]: ...
    def contributions(self, edition: int) -> AsyncIterator[ContributionDigest]: ...
    async def success_story_records(self, edition: int) -> list[CatalogueRecord]: ...


class Renderer(Protocol):
    @property
    def format(self) -> ReportFormat: ...
    @property
    def media_type(self) -> str: ...
    @property
    def render(self) -> Callable[[Report], bytes]: ...


class JobLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


# --- requesting -------------------------------------------------------------------------------


async def request_report(
    store: ReportStore,
    *,
    edition: int,
    kind: ReportKind,
    requested_by: str,
    now: datetime,
) -> ReportJob:
    job = ReportJob(
        job_id=uuid.uuid4().hex,
        edition=edition,
        kind=kind,
        requested_by=requested_by,
        requested_at=now,
        correlation_id=context.correlation_id(),
    )
    queued = await store.add_job(job)
    log.info(
        "report.job.requested",
        job_id=queued.job_id,
        edition=edition,
        kind=kind,
        reused=queued.job_id != job.job_id,
    )
    return queued


# --- running ----------------------------------------------------------------------------------


class _Attempt:
    """One worker's attempt at a job: its progress, and the lease kept alive meanwhile (also
    while a renderer holds a thread for seconds)."""

    def __init__(
        self,
        store: ReportStore,
        job: ReportJob,
        owner: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.job = job
        self.owner = owner
        self._lease = lease
        self._clock = clock
        self._stage = "starting"
        self._percent = 0
        self._lost = False

    async def _write(self) -> None:
        held = await self.store.report_progress(
            self.job.job_id,
            owner=self.owner,
            stage=self._stage,
            percent=self._percent,
            lease_until=self._clock() + self._lease,
        )
        if not held:
            self._lost = True

    async def progress(self, stage: str, percent: int) -> None:
        if self._lost:
            raise JobLost(self.job.job_id)
        if (stage, percent) == (self._stage, self._percent):
            return
        self._stage, self._percent = stage, max(0, min(100, percent))
        await self._write()
        if self._lost:
            raise JobLost(self.job.job_id)

    async def _renew(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._lost:
            await asyncio.sleep(interval)
            try:
                await self._write()
            except Exception as exc:  # the next renewal may get through; the lease has slack
                log.warning("report.job.lease_renewal_failed", error=repr(exc))

    @contextlib.asynccontextmanager
    async def kept_alive(self) -> AsyncIterator[None]:
        renewal = asyncio.create_task(self._renew())
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal


async def _stocktaking_figures(job: ReportJob, sources: ReportSources, attempt: _Attempt) -> Report:
    await attempt.progress("reading entries", 5)
    total = await sources.count_entries(job.edition)
    tally = StocktakingTally(job.edition)
    async for entry in sources.entries(job.edition):
        tally.add_entry(entry)
        if tally.entries_seen % PROGRESS_EVERY_ENTRIES == 0:
            # The count was taken before the read: new entries may make it overshoot.
            done = min(tally.entries_seen / total, 1.0) if total else 1.0
            await attempt.progress("reading entries", 5 + int(55 * done))
    await attempt.progress("reading contributions", 60)
    async for contribution in sources.contributions(job.edition):
        tally.add_contribution(contribution)
    return tally.report()


async def _success_stories_figures(
    job: ReportJob, sources: ReportSources, attempt: _Attempt
) -> Report:
    await attempt.progress("reading winners and champions", 10)
    return success_stories(job.edition, await sources.success_story_records(job.edition))


async def _generate(
    job: ReportJob,
    sources: ReportSources,
    renderers: Sequence[Renderer],
    attempt: _Attempt,
    clock: Callable[[], datetime],
) -> ReportJob:
    store, owner = attempt.store, attempt.owner
    # Files left by an attempt whose worker died are of no use to anyone.
    await store.discard_files(job.job_id, attempt=owner, keep=True)
    if job.kind == "stocktaking-report":
        report = await _stocktaking_figures(job, sources, attempt)
    else:
        report = await _success_stories_figures(job, sources, attempt)
    outputs: list[tuple[Renderer, bytes]] = []
    for index, renderer in enumerate(renderers):
        await attempt.progress(f"rendering {renderer.format}", 65 + 20 * index // len(renderers))
        # CPU-bound: off the event loop, so the API and the consumers beside it keep serving.
        outputs.append((renderer, await asyncio.to_thread(renderer.render, report)))
    files = []
    for index, (renderer, data) in enumerate(outputs):
        await attempt.progress("storing files", 85 + 10 * index // len(outputs))
        files.append(
            await store.put_file(
                report_id=job.job_id,
                attempt=owner,
                format=renderer.format,
                media_type=renderer.media_type,
                data=data,
            )
        )
    await attempt.progress("publishing", 98)
    now = clock()
    record = PublishedReportRecord(
        report_id=job.job_id,
        job_id=job.job_id,
        edition=job.edition,
        kind=job.kind,
        as_of=report.as_of,
        published_at=now,
        files=tuple(files),
    )
    event = ReportPublished(
        aggregate_id=record.report_id,
        aggregate_version=1,
        edition=job.edition,
        occurred_at=now,
        payload=PublishedReport(
            report_id=record.report_id,
            kind=job.kind,
            formats=tuple(file.format for file in files),
        ),
    )
    if not await store.publish(job_id=job.job_id, owner=owner, report=record, event=event, now=now):
        raise JobLost(job.job_id)
    return job.model_copy(
        update={
            "status": "done",
            "stage": "published",
            "percent": 100,
            "finished_at": now,
            "report_id": record.report_id,
            "owner": None,
            "lease_expires_at": None,
        }
    )


async def _quietly(what: str, work: Awaitable[T]) -> None:
    """Clean-up after a failure must not hide the failure."""
    try:
        await work
    except Exception as exc:
        log.warning("report.job.cleanup_failed", step=what, error=repr(exc))


async def run_next_job(
    store: ReportStore,
    sources: ReportSources,
    renderers: Sequence[Renderer],
    *,
    worker: str,
    lease: timedelta,
    max_attempts: int,
    clock: Callable[[], datetime] = utcnow,
) -> ReportJob | None:
    """Claim and run one job; None when there was none to run or this attempt did not finish
    it (lost to another worker, or released after a transient failure)."""
    owner = f"{worker}-{uuid.uuid4().hex[:12]}"
    job = await store.claim_job(owner=owner, now=clock(), lease=lease, max_attempts=max_attempts)
    if job is None:
        return None
    attempt = _Attempt(store, job, owner, lease, clock)
    with context.bound(job.correlation_id):
        log.info("report.job.started", job_id=job.job_id, kind=job.kind, attempt=job.attempts)
        try:
            async with attempt.kept_alive():
                done = await _generate(job, sources, renderers, attempt, clock)
        except JobLost:
            log.warning("report.job.lost", job_id=job.job_id, owner=owner)
            await _quietly("discard", store.discard_files(job.job_id, attempt=owner, keep=False))
            return None
        except ConnectionFailure as exc:
            log.warning("report.job.released", job_id=job.job_id, error=repr(exc))
            await _quietly("release", store.release_job(job.job_id, owner=owner))
            await _quietly("discard", store.discard_files(job.job_id, attempt=owner, keep=False))
            return None
        except Exception as exc:
            # Anything else will fail again on retry (a record the report cannot read, a bug):
            # say why on the job, where the admin who requested it looks.
            log.exception("report.job.failed", job_id=job.job_id)
            error = f"{type(exc).__name__}: {exc}"
            await _quietly(
                "fail", store.fail_job(job.job_id, owner=owner, error=error, now=clock())
            )
            await _quietly("discard", store.discard_files(job.job_id, attempt=owner, keep=False))
            return job.model_copy(update={"status": "failed", "error": error})
        log.info("report.job.published", job_id=job.job_id, report_id=done.report_id)
        return done
