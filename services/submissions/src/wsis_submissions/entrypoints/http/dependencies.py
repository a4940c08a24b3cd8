from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wsis_shared.auth import Principal, require_role
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role
from wsis_submissions.adapters.files import AttachmentLinks, GridFSFileStore
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork
from wsis_submissions.service_layer.clock import Clock, system_clock
from wsis_submissions.service_layer.unit_of_work import Runner
from wsis_submissions.settings import SubmissionsSettings


async def clock() -> Clock:
    return system_clock


async def file_store(request: Request) -> GridFSFileStore:
    return GridFSFileStore(request.app.state.resources.db)


async def attachment_links(request: Request) -> AttachmentLinks:
    settings: SubmissionsSettings = request.app.state.resources.settings
    return AttachmentLinks(settings.attachment_link_secret.get_secret_value())


UoW = Annotated[Runner, Depends(runner_dependency(SubmissionsUnitOfWork))]
Now = Annotated[Clock, Depends(clock)]
Files = Annotated[GridFSFileStore, Depends(file_store)]
Links = Annotated[AttachmentLinks, Depends(attachment_links)]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Submitter = Annotated[Principal, Depends(require_role(Role.SUBMITTER))]
SubmitterOrAdmin = Annotated[Principal, Depends(require_role(Role.SUBMITTER, Role.ADMIN))]
ReviewTeam = Annotated[Principal, Depends(require_role(Role.REVIEWER, Role.CHAIR, Role.ADMIN))]
