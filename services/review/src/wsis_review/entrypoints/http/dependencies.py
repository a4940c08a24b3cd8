from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from wsis_review.adapters.repositories import ReviewUnitOfWork
from wsis_review.service_layer.unit_of_work import Runner
from wsis_shared.auth import Principal, require_role
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role

UoW = Annotated[Runner, Depends(runner_dependency(ReviewUnitOfWork))]
# The chair decides (eligibility, nominations, winners); an admin runs the platform and may
# manage the expert group and its settings, but does not decide.
Chair = Annotated[Principal, Depends(require_role(Role.CHAIR))]
ChairOrAdmin = Annotated[Principal, Depends(require_role(Role.CHAIR, Role.ADMIN))]
Reviewer = Annotated[Principal, Depends(require_role(Role.REVIEWER))]
ReviewTeam = Annotated[Principal, Depends(require_role(Role.REVIEWER, Role.CHAIR, Role.ADMIN))]
