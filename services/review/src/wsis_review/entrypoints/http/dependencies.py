from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from wsis_shared.auth import Principal, require_role
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_shared.vocabulary import Role

from wsis_review.adapters.repositories import ReviewUnitOfWork
from wsis_review.service_layer.unit_of_work import Runner


def unit_of_work(request: Request) -> Runner:
    runner: Runner = MongoUnitOfWorkRunner(request.app.state.resources, ReviewUnitOfWork)
    return runner


UoW = Annotated[Runner, Depends(unit_of_work)]
Chair = Annotated[Principal, Depends(require_role(Role.CHAIR))]
ReviewTeam = Annotated[Principal, Depends(require_role(Role.CHAIR, Role.ADMIN, Role.REVIEWER))]
