from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wsis_shared.auth import Principal, require_role
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role
from wsis_voting.adapters.repositories import VotingUnitOfWork
from wsis_voting.service_layer.unit_of_work import Runner
from wsis_voting.settings import VotingSettings


async def voting_settings(request: Request) -> VotingSettings:
    settings: VotingSettings = request.app.state.resources.settings
    return settings


UoW = Annotated[Runner, Depends(runner_dependency(VotingUnitOfWork))]
Voter = Annotated[Principal, Depends(require_role(Role.VOTER))]
Settings = Annotated[VotingSettings, Depends(voting_settings)]
