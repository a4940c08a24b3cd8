from __future__ import annotations

from fastapi import FastAPI

from wsis_shared.messaging.dead_letter_api import dead_letter_router
from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app
from wsis_submissions.adapters.repositories import INDEXES
from wsis_submissions.entrypoints.consumers import handlers
from wsis_submissions.entrypoints.http import admin, attachments, editions, entries
from wsis_submissions.entrypoints.scheduler import refresh_fingerprints, run_phase_scheduler
from wsis_submissions.settings import SubmissionsSettings


def create_app(settings: SubmissionsSettings) -> FastAPI:
    return build_app(
        settings,
        title="WSIS Submissions",
        description="Editions and their phases; project teams' drafts and entries.",
        routers=[
            editions.router,
            entries.router,
            attachments.router,
            admin.router,
            dead_letter_router(settings),  # admins: the dead letters of every topic
        ],
        open_resources=SERVICE.open_resources,
    )


SERVICE: ServiceDefinition[SubmissionsSettings] = ServiceDefinition(
    name="submissions",
    settings_type=SubmissionsSettings,
    create_app=create_app,
    indexes=INDEXES,
    consumers=(handlers,),
    tasks=(run_phase_scheduler, refresh_fingerprints),
)
