"""The worker's own loops: the phase scheduler (editions change phase by themselves when the
schedule says), and the refresh of fingerprints an earlier normaliser made."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from pymongo.errors import PyMongoError

from wsis_shared.logging import get_logger
from wsis_shared.runtime import Resources
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork, refresh_stale_fingerprints
from wsis_submissions.service_layer.clock import system_clock
from wsis_submissions.service_layer.editions import apply_schedule
from wsis_submissions.settings import SubmissionsSettings

log = get_logger(__name__)


FINGERPRINT_REFRESH_S: Final = 600.0


async def refresh_fingerprints(resources: Resources, stop: asyncio.Event) -> None:
    """After an upgrade of the near-duplicate normaliser: the stored fingerprints it made
    before, made again, so that an old entry is found by a new submission of the same project.
    At start, then every ten minutes: during a rolling upgrade an API process of the earlier
    version may still store fingerprints of its kind after the first pass."""
    while not stop.is_set():
        try:
            refreshed = await refresh_stale_fingerprints(resources.db, stop=stop)
            if refreshed:
                log.info("entries.fingerprints.refreshed", entries=refreshed)
        except PyMongoError as exc:
            log.warning("entries.fingerprints.retrying", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FINGERPRINT_REFRESH_S)


async def run_phase_scheduler(resources: Resources, stop: asyncio.Event) -> None:
    settings = resources.settings
    interval = settings.scheduler_interval_s if isinstance(settings, SubmissionsSettings) else 5.0
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    while not stop.is_set():
        try:
            for edition in await apply_schedule(runner, system_clock):
                log.info("edition.phase.scheduled", edition=edition.year, phase=edition.phase)
        except PyMongoError as exc:
            log.warning("edition.scheduler.retrying", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
