"""Report jobs, published reports and their files in MongoDB.

`report_jobs` is the queue (claimed with `find_one_and_update`, fenced on the claiming owner),
`reports` holds the published reports, and the GridFS bucket `report_files` their documents.
GridFS writes cannot join a transaction, so files are written first under the name of the
attempt that made them, and the transaction that publishes names the files it publishes.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Final

from gridfs import AsyncGridFSBucket, AsyncGridOut, NoFile
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from wsis_shared.errors import NotFound
from wsis_shared.events import ReportPublished, utcnow
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Document, Session, in_transaction
from wsis_stocktaking.domain.reports import ReportFormat, ReportKind
from wsis_stocktaking.service_layer.reports import PublishedReportRecord, ReportJob, StoredFile

JOBS: Final = "report_jobs"
REPORTS: Final = "reports"
FILES_BUCKET: Final = "report_files"

REPORT_INDEXES: Final = {
    JOBS: [
        IndexModel([("status", ASCENDING), ("requested_at", ASCENDING)], name="queue"),
        # Two requests of the same report before a worker starts are one job.
        IndexModel(
            [("edition", ASCENDING), ("kind", ASCENDING)],
            name="one_queued_per_report",
            unique=True,
            partialFilterExpression={"status": "queued"},
        ),
    ],
    REPORTS: [IndexModel([("edition", DESCENDING), ("published_at", DESCENDING)])],
    f"{FILES_BUCKET}.files": [
        IndexModel([("metadata.report_id", ASCENDING), ("metadata.attempt", ASCENDING)])
    ],
}

_UNFINISHED_ERROR: Final = (
    "the worker generating this report stopped {attempts} times before it finished (it may run "
    "out of memory or time): request the report again, and tell the operators if it fails again"
)


def _job(document: Document) -> ReportJob:
    return ReportJob.model_validate(document | {"job_id": document["_id"]})


def _report(document: Document) -> PublishedReportRecord:
    return PublishedReportRecord.model_validate(document | {"report_id": document["_id"]})


class _NotOwner(Exception):
    pass


async def _chunks(stream: AsyncGridOut) -> AsyncIterator[bytes]:
    try:
        while chunk := await stream.readchunk():
            yield chunk
    finally:
        await stream.close()


class MongoReportStore:
    def __init__(self, client: AsyncMongoClient[Document], db: Database, outbox: Outbox) -> None:
        self._client = client
        self._jobs = db[JOBS]
        self._reports = db[REPORTS]
        self._file_records = db[f"{FILES_BUCKET}.files"]
        self._bucket = AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)
        self._outbox = outbox

    # --- the queue ----------------------------------------------------------------------------

    async def add_job(self, job: ReportJob) -> ReportJob:
        document = job.model_dump(mode="python", exclude={"job_id"}) | {"_id": job.job_id}
        for _ in range(3):  # the queued twin may be claimed between the refusal and the read
            try:
                await self._jobs.insert_one(document)
                return job
            except DuplicateKeyError:
                twin = await self._jobs.find_one(
                    {"edition": job.edition, "kind": job.kind, "status": "queued"}
                )
                if twin is not None:
                    return _job(twin)
        await self._jobs.insert_one(document)
        return job

    async def job(self, job_id: str) -> ReportJob | None:
        document = await self._jobs.find_one({"_id": job_id})
        return _job(document) if document else None

    async def claim_job(
        self, *, owner: str, now: datetime, lease: timedelta, max_attempts: int
    ) -> ReportJob | None:
        await self._jobs.update_many(
            {
                "status": "running",
                "lease_expires_at": {"$lt": now},
                "attempts": {"$gte": max_attempts},
            },
            {
                "$set": {
                    "status": "failed",
                    "stage": "failed",
                    "error": _UNFINISHED_ERROR.format(attempts=max_attempts),
                    "finished_at": now,
                    "owner": None,
                    "lease_expires_at": None,
                }
            },
        )
        document = await self._jobs.find_one_and_update(
            {
                "$or": [
                    {"status": "queued"},
                    {
                        "status": "running",
                        "lease_expires_at": {"$lt": now},
                        "attempts": {"$lt": max_attempts},
                    },
                ]
            },
            {
                "$set": {
                    "status": "running",
                    "stage": "starting",
                    "percent": 0,
                    "owner": owner,
                    "lease_expires_at": now + lease,
                    "started_at": now,
                },
                "$inc": {"attempts": 1},
            },
            sort=[("requested_at", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return _job(document) if document else None

    async def report_progress(
        self, job_id: str, *, owner: str, stage: str, percent: int, lease_until: datetime
    ) -> bool:
        result = await self._jobs.update_one(
            {"_id": job_id, "owner": owner, "status": "running"},
            {"$set": {"stage": stage, "percent": percent, "lease_expires_at": lease_until}},
        )
        return result.matched_count == 1

    async def fail_job(self, job_id: str, *, owner: str, error: str, now: datetime) -> None:
        await self._jobs.update_one(
            {"_id": job_id, "owner": owner, "status": "running"},
            {
                "$set": {
                    "status": "failed",
                    "stage": "failed",
                    "error": error,
                    "finished_at": now,
                    "owner": None,
                    "lease_expires_at": None,
                }
            },
        )

    async def release_job(self, job_id: str, *, owner: str) -> None:
        try:
            await self._jobs.update_one(
                {"_id": job_id, "owner": owner, "status": "running"},
                {
                    "$set": {
                        "status": "queued",
                        "stage": "queued",
                        "percent": 0,
                        "owner": None,
                        "lease_expires_at": None,
                    }
                },
            )
        except DuplicateKeyError:
            # The same report was requested again meanwhile: that job will give it.
            await self.fail_job(
                job_id,
                owner=owner,
                error="interrupted by a database error; the same report is queued again in "
                "another job",
                now=utcnow(),
            )

    # --- files ----------------------------------------------------------------------------------

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
        digest = hashlib.sha256(data).hexdigest()
        await self._bucket.upload_from_stream_with_id(
            file_id,
            f"report.{format}",
            data,
            metadata={
                "report_id": report_id,
                "attempt": attempt,
                "format": format,
                "media_type": media_type,
                "sha256": digest,
            },
        )
        return StoredFile(
            format=format, file_id=file_id, media_type=media_type, size=len(data), sha256=digest
        )

    async def discard_files(self, report_id: str, *, attempt: str, keep: bool) -> None:
        query: dict[str, Any] = {
            "metadata.report_id": report_id,
            "metadata.attempt": {"$ne": attempt} if keep else attempt,
        }
        async for record in self._file_records.find(query, {"_id": 1}):
            try:
                await self._bucket.delete(record["_id"])
            except NoFile:  # another worker cleaned it up first
                continue

    async def open_file(self, file_id: str) -> AsyncIterator[bytes]:
        """The file in GridFS chunks, so a download never holds a whole report in memory.
        Opened here, before any byte is sent, so a missing file is still a clean 404."""
        try:
            stream = await self._bucket.open_download_stream(file_id)
        except NoFile as exc:
            raise NotFound(f"the file {file_id} of this report is missing") from exc
        return _chunks(stream)

    # --- publishing -----------------------------------------------------------------------------

    async def publish(
        self,
        *,
        job_id: str,
        owner: str,
        report: PublishedReportRecord,
        event: ReportPublished,
        now: datetime,
    ) -> bool:
        async def work(session: Session) -> None:
            completed = await self._jobs.update_one(
                {"_id": job_id, "owner": owner, "status": "running"},
                {
                    "$set": {
                        "status": "done",
                        "stage": "published",
                        "percent": 100,
                        "finished_at": now,
                        "report_id": report.report_id,
                        "owner": None,
                        "lease_expires_at": None,
                    }
                },
                session=session,
            )
            if completed.matched_count != 1:
                raise _NotOwner
            await self._reports.insert_one(
                report.model_dump(mode="python", exclude={"report_id"}) | {"_id": report.report_id},
                session=session,
            )
            await self._outbox.add(event, session)

        try:
            await in_transaction(self._client, work)
        except (_NotOwner, DuplicateKeyError):
            return False
        return True

    # --- published reports ----------------------------------------------------------------------

    async def report(self, report_id: str) -> PublishedReportRecord | None:
        document = await self._reports.find_one({"_id": report_id})
        return _report(document) if document else None

    async def reports(
        self, *, edition: int | None, kind: ReportKind | None, limit: int
    ) -> list[PublishedReportRecord]:
        query: dict[str, Any] = {}
        if edition is not None:
            query["edition"] = edition
        if kind is not None:
            query["kind"] = kind
        cursor = (
            self._reports.find(query)
            .sort([("edition", DESCENDING), ("published_at", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_report(document) async for document in cursor]
