from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from wsis_shared.auth import Principal, require_role
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork
from wsis_submissions.service_layer.clock import Clock, system_clock
from wsis_submissions.service_layer.unit_of_work import Runner


def clock() -> Clock:
    return system_clock


UoW = Annotated[Runner, Depends(runner_dependency(SubmissionsUnitOfWork))]
Now = Annotated[Clock, Depends(clock)]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Submitter = Annotated[Principal, Depends(require_role(Role.SUBMITTER))]
SubmitterOrAdmin = Annotated[Principal, Depends(require_role(Role.SUBMITTER, Role.ADMIN))]
