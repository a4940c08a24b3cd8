from __future__ import annotations

from fastapi import FastAPI

from wsis_review.adapters.repositories import INDEXES
from wsis_review.entrypoints.consumers import handlers
from wsis_review.entrypoints.http import (
    assignments,
    candidates,
    editions,
    reviewers,
    reviews,
    winners,
)
from wsis_review.settings import ReviewSettings
from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app


def create_app(settings: ReviewSettings) -> FastAPI:
    return build_app(
        settings,
        title="WSIS Review",
        description="The expert group's review of submitted entries and the chair's nominations.",
        routers=[
            editions.router,
            reviewers.router,
            candidates.router,
            assignments.router,
            reviews.router,
            winners.router,
        ],
        open_resources=SERVICE.open_resources,
    )


SERVICE: ServiceDefinition[ReviewSettings] = ServiceDefinition(
    name="review",
    settings_type=ReviewSettings,
    create_app=create_app,
    indexes=INDEXES,
    consumers=(handlers,),
)
