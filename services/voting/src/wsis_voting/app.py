from __future__ import annotations

from fastapi import FastAPI

from wsis_shared.runtime import ServiceDefinition
from wsis_shared.web import build_app
from wsis_voting.adapters.rate_limits import ABUSE_INDEXES
from wsis_voting.adapters.repositories import INDEXES, RETIRED_INDEXES
from wsis_voting.adapters.voters import VOTER_INDEXES
from wsis_voting.entrypoints.consumers import ballot_handlers, tally_handlers
from wsis_voting.entrypoints.http import results, voters, voting
from wsis_voting.entrypoints.workers import finalise_results, relay_votes
from wsis_voting.settings import VotingSettings


def create_app(settings: VotingSettings) -> FastAPI:
    app = build_app(
        settings,
        title="WSIS Voting",
        description="Public voting for the nominees: the ballot, votes, tallies and results.",
        routers=[voting.router, results.router, voters.router],
        open_resources=SERVICE.open_resources,
    )
    voters.install(app, settings)  # voter sign-up: mailer, voter tokens, abuse limits
    return app


SERVICE: ServiceDefinition[VotingSettings] = ServiceDefinition(
    name="voting",
    settings_type=VotingSettings,
    create_app=create_app,
    indexes={**INDEXES, **VOTER_INDEXES, **ABUSE_INDEXES},
    consumers=(ballot_handlers, tally_handlers),
    tasks=(relay_votes, finalise_results),
    retired_indexes=RETIRED_INDEXES,
)
