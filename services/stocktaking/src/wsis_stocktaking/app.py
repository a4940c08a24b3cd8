from __future__ import annotations

from fastapi import FastAPI

from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app
from wsis_stocktaking.adapters.catalogue import INDEXES
from wsis_stocktaking.entrypoints.consumers import handlers
from wsis_stocktaking.entrypoints.http import catalogue
from wsis_stocktaking.settings import StocktakingSettings


def create_app(settings: StocktakingSettings) -> FastAPI:
    return build_app(
        settings,
        title="WSIS Stocktaking",
        description="The public WSIS Stocktaking database of every entry and its lifecycle.",
        routers=[catalogue.router],
        open_resources=SERVICE.open_resources,
    )


SERVICE: ServiceDefinition[StocktakingSettings] = ServiceDefinition(
    name="stocktaking",
    settings_type=StocktakingSettings,
    create_app=create_app,
    indexes=INDEXES,
    consumers=(handlers,),
)
