"""The WSIS Stocktaking Report and the WSIS Success Stories: an admin has them generated, anyone
reads the published ones.

A published report never changes (a new request publishes a new report), so its downloads carry
a strong ETag (the SHA-256 of the file) and may be cached for a year.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from wsis_shared.auth import Principal, require_role
from wsis_shared.errors import NotFound
from wsis_shared.events import utcnow
from wsis_shared.vocabulary import Role
from wsis_shared.web import etag_matches
from wsis_stocktaking.adapters.report_store import MongoReportStore
from wsis_stocktaking.domain.reports import ReportFormat, ReportKind
from wsis_stocktaking.service_layer import reports as use_cases
from wsis_stocktaking.service_layer.reports import JobStatus, PublishedReportRecord, ReportJob

router = APIRouter(tags=["reports"])

Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
ReportId = Annotated[str, Path(min_length=1, max_length=64)]

CACHE_FOR_EVER: Final = "public, max-age=31536000, immutable"
# The HTML report shows organisations' own texts: it may style itself, and do nothing else.
HTML_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_DOWNLOAD_MEDIA: Final[dict[str, dict[str, object]]] = {
    "text/html": {},
    "application/pdf": {},
    "text/csv": {},
    "application/json": {},
}


async def report_store(request: Request) -> MongoReportStore:
    resources = request.app.state.resources
    return MongoReportStore(resources.mongo, resources.db, resources.outbox)


Store = Annotated[MongoReportStore, Depends(report_store)]


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edition: int = Field(ge=2000, le=2100, description="the year of the edition, e.g. 2027")
    kind: ReportKind = Field(
        description="`stocktaking-report`: figures by action line, category, region, "
        "stakeholder type and SDG, the WSIS–SDG matrix and highlights of the contributions; "
        "`success-stories`: the winners and champions with their descriptions"
    )


class ReportJobPublic(BaseModel):
    job_id: str
    edition: int
    kind: ReportKind
    status: JobStatus
    stage: str
    percent: int
    error: str | None
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    report_id: str | None
    report_href: str | None = Field(description="the published report, once the job is done")

    @classmethod
    def of(cls, job: ReportJob) -> ReportJobPublic:
        return cls(
            **job.model_dump(
                include={
                    "job_id",
                    "edition",
                    "kind",
                    "status",
                    "stage",
                    "percent",
                    "error",
                    "requested_by",
                    "requested_at",
                    "started_at",
                    "finished_at",
                    "attempts",
                    "report_id",
                }
            ),
            report_href=f"/reports/{job.report_id}" if job.report_id else None,
        )


class ReportDownload(BaseModel):
    format: ReportFormat
    href: str
    media_type: str
    bytes: int
    sha256: str


class ReportPublic(BaseModel):
    report_id: str
    edition: int
    kind: ReportKind
    as_of: datetime | None = Field(
        description="the newest change among the data the report was made from (the report "
        "is dated by its data, so the same data always give the same documents)"
    )
    published_at: datetime
    downloads: list[ReportDownload]

    @classmethod
    def of(cls, report: PublishedReportRecord) -> ReportPublic:
        return cls(
            report_id=report.report_id,
            edition=report.edition,
            kind=report.kind,
            as_of=report.as_of,
            published_at=report.published_at,
            downloads=[
                ReportDownload(
                    format=file.format,
                    href=f"/reports/{report.report_id}/report.{file.format}",
                    media_type=file.media_type,
                    bytes=file.size,
                    sha256=file.sha256,
                )
                for file in report.files
            ],
        )


@router.post(
    "/reports",
    status_code=202,
    summary="Have a report generated (admin): answers at once with the job to follow",
    responses={202: {"headers": {"Location": {"description": "the job, to poll for progress"}}}},
)
async def request_report(
    body: ReportRequest, admin: Admin, store: Store, response: Response
) -> ReportJobPublic:
    job = await use_cases.request_report(
        store, edition=body.edition, kind=body.kind, requested_by=admin.subject, now=utcnow()
    )
    response.headers["Location"] = f"/reports/jobs/{job.job_id}"
    return ReportJobPublic.of(job)


@router.get(
    "/reports/jobs/{job_id}",
    summary="A report job: queued, running (stage and percent), done or failed (admin)",
)
async def get_job(job_id: ReportId, admin: Admin, store: Store) -> ReportJobPublic:
    job = await store.job(job_id)
    if job is None:
        raise NotFound(f"no report job {job_id}")
    return ReportJobPublic.of(job)


@router.get("/reports", summary="Published reports, newest first (public)")
async def list_reports(
    store: Store,
    edition: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: ReportKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReportPublic]:
    return [
        ReportPublic.of(report)
        for report in await store.reports(edition=edition, kind=kind, limit=limit)
    ]


@router.get("/reports/{report_id}", summary="A published report and its downloads (public)")
async def get_report(report_id: ReportId, store: Store) -> ReportPublic:
    report = await store.report(report_id)
    if report is None:
        raise NotFound(f"no published report {report_id}")
    return ReportPublic.of(report)


@router.get(
    "/reports/{report_id}/report.{format}",
    summary="Download a published report as HTML, PDF, CSV or JSON (public)",
    response_class=Response,
    responses={
        200: {"content": _DOWNLOAD_MEDIA, "description": "the document"},
        304: {"description": "the copy the client holds is current"},
    },
)
async def download(
    report_id: ReportId, format: ReportFormat, request: Request, store: Store
) -> Response:
    report = await store.report(report_id)
    if report is None:
        raise NotFound(f"no published report {report_id}")
    file = report.file(format)
    if file is None:
        available = ", ".join(stored.format for stored in report.files)
        raise NotFound(f"report {report_id} has no {format} edition; it has {available}")
    etag = f'"{file.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_FOR_EVER,
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    disposition = "attachment" if format == "csv" else "inline"
    headers["Content-Disposition"] = (
        f'{disposition}; filename="wsis-{report.kind}-{report.edition}.{format}"'
    )
    headers["Content-Length"] = str(file.size)
    if format == "html":
        headers["Content-Security-Policy"] = HTML_POLICY
    return StreamingResponse(
        await store.open_file(file.file_id), media_type=file.media_type, headers=headers
    )
