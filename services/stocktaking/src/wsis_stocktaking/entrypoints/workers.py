"""The stocktaking worker's own loop, beside its consumers: report jobs.

Any number of worker replicas may run it; the job store's claim makes sure each job is run by one
at a time, and a job whose worker died is taken over once its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from datetime import timedelta

from pymongo.errors import PyMongoError

from wsis_shared.logging import get_logger
from wsis_shared.runtime import Resources
from wsis_stocktaking.adapters.report_rendering import RENDERERS
from wsis_stocktaking.adapters.report_sources import ReportSources
from wsis_stocktaking.adapters.report_store import MongoReportStore
from wsis_stocktaking.service_layer.reports import run_next_job
from wsis_stocktaking.settings import StocktakingSettings

log = get_logger(__name__)


async def run_report_jobs(resources: Resources, stop: asyncio.Event) -> None:
    """Run queued report jobs one after another; poll when there is none."""
    settings = resources.settings
    assert isinstance(settings, StocktakingSettings)
    store = MongoReportStore(resources.mongo, resources.db, resources.outbox)
    sources = ReportSources(resources.db)
    # Names the worker in the job's owner, so an operator can tell which replica holds a job.
    worker = f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
    lease = timedelta(seconds=settings.report_lease_s)
    while not stop.is_set():
        ran = None
        try:
            ran = await run_next_job(
                store,
                sources,
                RENDERERS,
                worker=worker,
                lease=lease,
                max_attempts=settings.report_max_attempts,
            )
        except PyMongoError as exc:  # MongoDB unreachable: the loop outlives it
            log.warning("report.jobs.retrying", error=repr(exc))
        if ran is not None:
            continue  # there may be more queued: no pause between jobs
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.report_poll_interval_s)
