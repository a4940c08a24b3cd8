"""The public ballot, casting votes, a voter's receipts, and results."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from wsis_shared.auth import Principal, current_principal, optional_bearer
from wsis_shared.errors import WsisError
from wsis_shared.events import NomineeCard, utcnow
from wsis_shared.vocabulary import CATEGORY_NAMES, Category, EditionYear, Role
from wsis_shared.web import etag_matches
from wsis_voting.entrypoints.http.dependencies import Store, UoW, Voter
from wsis_voting.entrypoints.http.voters import AdmittedVoter, client_ip
from wsis_voting.service_layer import casting
from wsis_voting.service_layer import voting as use_cases
from wsis_voting.service_layer.unit_of_work import Runner

router = APIRouter(tags=["voting"])


class VoteCreate(BaseModel):
    category: Category
    entry_id: str = Field(min_length=1, max_length=100)  # also refuses text that is not Unicode


class VoteReceipt(BaseModel):
    receipt_id: str
    edition: int
    category: Category
    entry_id: str
    cast_at: datetime


class BallotCategoryPublic(BaseModel):
    category: Category
    name: str
    nominees: list[NomineeCard]


class NomineeResult(BaseModel):
    nominee: NomineeCard
    votes: int | None


class ResultsPublic(BaseModel):
    edition: int
    category: Category
    counts_public: bool
    nominees: list[NomineeResult]


@router.get("/editions/{year}/ballot", summary="Nominees per category (public)")
async def get_ballot(year: EditionYear, uow: UoW) -> list[BallotCategoryPublic]:
    return [
        BallotCategoryPublic(
            category=c.category,
            name=CATEGORY_NAMES[c.category],
            nominees=[n.card for n in c.nominees],
        )
        for c in await use_cases.ballot(uow, edition=year)
    ]


@router.post(
    "/editions/{year}/votes",
    status_code=status.HTTP_201_CREATED,
    summary="Cast a vote: one per category (voter)",
    responses={
        404: {"description": "no such edition known to public voting"},
        409: {
            "description": "already voted in this category, or voting is closed (a retry with "
            "the Idempotency-Key of a vote accepted before the close gets that vote, 201)"
        },
        422: {"description": "the entry is not a nominee of the category"},
        429: {"description": "too many votes from this address or account: wait Retry-After"},
    },
)
async def cast_vote(
    year: EditionYear,
    body: VoteCreate,
    request: Request,
    voter: AdmittedVoter,
    store: Store,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="retrying with the same key returns the first answer, never a second vote",
        ),
    ] = None,
) -> VoteReceipt:
    vote = await casting.cast_vote(
        store,
        edition=year,
        category=body.category,
        entry_id=body.entry_id,
        voter=voter.subject,
        now=utcnow(),
        ip=client_ip(request),
        idempotency_key=idempotency_key,
    )
    return VoteReceipt.model_validate(vote.model_dump())


@router.get("/editions/{year}/my-votes", summary="The categories I voted in (voter)")
async def my_votes(year: EditionYear, voter: Voter, uow: UoW) -> list[VoteReceipt]:
    votes = await use_cases.votes_of(uow, edition=year, voter=voter.subject)
    return [VoteReceipt.model_validate(vote.model_dump()) for vote in votes]


async def _lenient_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(optional_bearer)],
) -> Principal | None:
    """Results are public: a token that is not the identity provider's (a voter token of this
    service, an expired one) just means the public view, never a 401."""
    if credentials is None:
        return None
    try:
        return await current_principal(request, credentials)
    except WsisError:
        return None


Viewer = Annotated[Principal | None, Depends(_lenient_principal)]


def is_admin(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.has(Role.ADMIN)


async def _snapshot(
    runner: Runner, year: int, category: Category, privileged: bool
) -> tuple[str, ResultsPublic]:
    result = await use_cases.results(runner, edition=year, category=category, privileged=privileged)
    body = ResultsPublic(
        edition=year,
        category=category,
        counts_public=result.counts_public,
        nominees=[NomineeResult(nominee=n.card, votes=votes) for n, votes in result.nominees],
    )
    return '"' + hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:32] + '"', body


@router.get(
    "/editions/{year}/results/{category}",
    summary="Results of a category (public once results are out; admins always see counts)",
    response_model=ResultsPublic,
    responses={304: {"description": "not modified since the ETag sent in If-None-Match"}},
)
async def get_results(
    year: EditionYear,
    category: Category,
    response: Response,
    uow: UoW,
    viewer: Viewer,
    if_none_match: Annotated[str | None, Header()] = None,
) -> ResultsPublic | Response:
    privileged = is_admin(viewer)
    etag, body = await _snapshot(uow, year, category, privileged)
    cache = "private, no-store" if privileged else "public, max-age=2"
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache
    return body


STREAM_INTERVAL_S: Final = 1.0


class SharedSnapshots:
    """The streams' results, read at most once per interval per process whatever the number of
    open pages: at a peak thousands of viewers share one query a second, not one each."""

    def __init__(self, max_age_s: float = STREAM_INTERVAL_S) -> None:
        self._max_age_s = max_age_s
        self._found: dict[tuple[int, Category, bool], tuple[float, str, ResultsPublic]] = {}
        self._locks: dict[tuple[int, Category, bool], asyncio.Lock] = {}

    async def get(
        self, runner: Runner, year: int, category: Category, privileged: bool
    ) -> tuple[str, ResultsPublic]:
        key = (year, category, privileged)
        async with self._locks.setdefault(key, asyncio.Lock()):
            found = self._found.get(key)
            if found is None or time.monotonic() - found[0] >= self._max_age_s:
                etag, body = await _snapshot(runner, year, category, privileged)
                found = self._found[key] = (time.monotonic(), etag, body)
        return found[1], found[2]


def _shared_snapshots(request: Request) -> SharedSnapshots:
    state = request.app.state
    snapshots: SharedSnapshots | None = getattr(state, "results_snapshots", None)
    if snapshots is None:
        snapshots = state.results_snapshots = SharedSnapshots()
    return snapshots


@router.get(
    "/editions/{year}/results/{category}/stream",
    summary="The results of a category as a live stream (Server-Sent Events, public)",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        404: {"description": "an edition public voting has never heard of"},
    },
)
async def stream_results(
    year: EditionYear, category: Category, request: Request, uow: UoW, viewer: Viewer
) -> EventSourceResponse:
    """An event `results` (the same JSON as GET …/results/{category}) at once and whenever the
    results change, checked every second; counts follow the same rule as the GET. A page keeps
    one connection; the browser's EventSource reconnects by itself."""
    privileged = is_admin(viewer)
    snapshots = _shared_snapshots(request)
    # Read before the stream starts: an edition voting has never heard of is a 404, not a
    # connection held open (and polled every second) for nothing.
    first = await snapshots.get(uow, year, category, privileged)

    async def events() -> AsyncIterator[dict[str, str]]:
        last = None
        while not await request.is_disconnected():
            etag, body = (
                first if last is None else await snapshots.get(uow, year, category, privileged)
            )
            if etag != last:
                last = etag
                yield {"event": "results", "id": etag.strip('"'), "data": body.model_dump_json()}
            await asyncio.sleep(STREAM_INTERVAL_S)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})
