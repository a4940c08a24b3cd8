from __future__ import annotations

from fastapi import FastAPI

from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app
from wsis_voting.adapters.repositories import INDEXES
from wsis_voting.entrypoints.consumers import ballot_handlers, tally_handlers
from wsis_voting.entrypoints.http import voting
from wsis_voting.settings import VotingSettings


def create_app(settings: VotingSettings) -> FastAPI:
    return build_app(
        settings,
        title="WSIS Voting",
        description="Public voting for the nominees: the ballot, votes, tallies and results.",
        routers=[voting.router],
        open_resources=SERVICE.open_resources,
    )


SERVICE: ServiceDefinition[VotingSettings] = ServiceDefinition(
    name="voting",
    settings_type=VotingSettings,
    create_app=create_app,
    indexes=INDEXES,
    consumers=(ballot_handlers, tally_handlers),
)
