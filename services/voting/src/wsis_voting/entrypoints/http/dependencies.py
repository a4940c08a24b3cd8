from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wsis_shared.auth import Principal
from wsis_shared.uow import runner_dependency
from wsis_voting.adapters.repositories import VotingUnitOfWork
from wsis_voting.adapters.vote_store import MongoVoteStore
from wsis_voting.entrypoints.http.voters import authenticate_voter
from wsis_voting.service_layer.unit_of_work import Runner
from wsis_voting.settings import VotingSettings


async def voting_settings(request: Request) -> VotingSettings:
    settings: VotingSettings = request.app.state.resources.settings
    return settings


UoW = Annotated[Runner, Depends(runner_dependency(VotingUnitOfWork))]
# The identity provider's tokens with the role voter, and the voting service's own voter tokens
# (which grant the role voter and nothing else): see entrypoints/http/voters.py.
Voter = Annotated[Principal, Depends(authenticate_voter)]
Settings = Annotated[VotingSettings, Depends(voting_settings)]


async def vote_store(request: Request) -> MongoVoteStore:
    """One store per API process: its group-commit writer and caches are shared by all requests.
    (A coroutine, so that FastAPI does not hand it to a worker thread on every vote.)"""
    state = request.app.state
    store: MongoVoteStore | None = getattr(state, "vote_store", None)
    if store is None:
        store = state.vote_store = MongoVoteStore(state.resources.db)
    return store


Store = Annotated[MongoVoteStore, Depends(vote_store)]
