from __future__ import annotations

from fastapi import FastAPI

from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app
from wsis_stocktaking.adapters.catalogue import INDEXES
from wsis_stocktaking.adapters.contributions import INDEXES as CONTRIBUTION_INDEXES
from wsis_stocktaking.adapters.report_store import REPORT_INDEXES
from wsis_stocktaking.entrypoints.consumers import handlers
from wsis_stocktaking.entrypoints.http import catalogue, contributions, reports
from wsis_stocktaking.entrypoints.workers import run_report_jobs
from wsis_stocktaking.settings import StocktakingSettings


def create_app(settings: StocktakingSettings) -> FastAPI:
    return build_app(
        settings,
        title="WSIS Stocktaking",
        description="The public WSIS Stocktaking database of every entry and its lifecycle.",
        routers=[catalogue.router, reports.router, contributions.router_for(settings)],
        open_resources=SERVICE.open_resources,
    )


SERVICE: ServiceDefinition[StocktakingSettings] = ServiceDefinition(
    name="stocktaking",
    settings_type=StocktakingSettings,
    create_app=create_app,
    indexes={**INDEXES, **REPORT_INDEXES, **CONTRIBUTION_INDEXES},
    consumers=(handlers,),
    tasks=(run_report_jobs,),
)
