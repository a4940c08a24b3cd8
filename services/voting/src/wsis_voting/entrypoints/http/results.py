"""After the window: the champions (finalists) per category, the bulletin of hashed receipts;
during it, the admins' rulings on invalid votes and the tally's verification."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from wsis_shared.auth import Principal, require_role
from wsis_shared.errors import NotFound
from wsis_shared.events import utcnow
from wsis_shared.vocabulary import Category, EditionYear, Role
from wsis_shared.web import etag_matches
from wsis_voting.domain.ballot import CategoryResults
from wsis_voting.domain.invalidation import Invalidation, InvalidationRule
from wsis_voting.entrypoints.http.dependencies import UoW
from wsis_voting.entrypoints.http.voting import Viewer, is_admin
from wsis_voting.service_layer import closing, invalidation, tally_audit

router = APIRouter(tags=["results"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class FinalistPublic(BaseModel):
    entry_id: str
    votes: int | None = Field(description="null until the counts are public (as in the results)")
    rank: int | None = Field(
        description="1 = most valid votes; null until the counts are public (the order would "
        "tell them)"
    )


class CategoryChampions(BaseModel):
    category: Category
    counts_public: bool
    finalists: tuple[FinalistPublic, ...]
    tie_break_rule: str
    valid_votes: int | None = Field(
        description="every valid vote of the category, as in its bulletin (null until the counts "
        "are public)"
    )
    votes_for_withdrawn: int | None = Field(
        description="of those, votes for nominations withdrawn during the window: they stay in "
        "the bulletin (their voters find their receipts) and cannot make a finalist (null until "
        "the counts are public)"
    )
    decided_at: datetime


def _champions_public(results: CategoryResults, counts_public: bool) -> CategoryChampions:
    if counts_public:
        finalists = tuple(FinalistPublic.model_validate(f.model_dump()) for f in results.finalists)
    else:
        # Announced at the close, counted with the results: in a fixed order that tells nothing.
        finalists = tuple(
            FinalistPublic(entry_id=f.entry_id, votes=None, rank=None)
            for f in sorted(results.finalists, key=lambda f: f.entry_id)
        )
    return CategoryChampions(
        category=results.category,
        counts_public=counts_public,
        finalists=finalists,
        tie_break_rule=results.tie_break_rule,
        valid_votes=results.valid_votes if counts_public else None,
        votes_for_withdrawn=results.votes_for_withdrawn if counts_public else None,
        decided_at=results.decided_at,
    )


@router.get(
    "/editions/{year}/champions",
    summary="The five finalists of each category, once the window has closed (public; their "
    "votes as the results show them: admins always, the public once counts are public)",
)
async def get_champions(
    year: EditionYear, response: Response, uow: UoW, viewer: Viewer
) -> list[CategoryChampions]:
    privileged = is_admin(viewer)
    counts_public, decided = await closing.champions(uow, year=year, privileged=privileged)
    if privileged:
        response.headers["Cache-Control"] = "private, no-store"
    return [_champions_public(results, counts_public) for results in decided]


class BulletinNominee(BaseModel):
    entry_id: str
    votes: int
    withdrawn: bool = Field(
        description="the nomination was withdrawn during the window: its votes are listed, it "
        "could not be a finalist"
    )
    receipt_hashes: list[str]


class Bulletin(BaseModel):
    edition: int
    category: Category
    salt: str
    how_to_check: str
    valid_votes: int = Field(description="the sum of all nominees' votes: the champions' figure")
    nominees: list[BulletinNominee]


# Once the results are out a bulletin cannot change (no ruling, no vote after them) nor be hidden
# again: browsers and shared caches may keep it a day, and revalidate with its ETag at no cost.
BULLETIN_CACHE_CONTROL: Final = "public, max-age=86400"
# Public earlier only because the edition shows running counts, which an admin may turn off:
# caches keep it but ask each time (a 304 while it is still public, the 409 once hidden).
BULLETIN_WHILE_COUNTS_SHOWN: Final = "public, no-cache"
BULLETINS_KEPT: Final = 4  # categories whose bodies a process keeps …
BULLETIN_BYTES_KEPT: Final = 64 * 1024 * 1024  # … within this many bytes (the newest always)
BULLETIN_KEPT_S: Final = 120.0  # … for this long


def _bulletin_etag(results: CategoryResults) -> str:
    """Strong: the salt is drawn once per category at the close, and with the valid votes it
    fixes the body (a new decision would draw a new salt)."""
    tag = f"{results.edition}:{results.category}:{results.bulletin_salt}:{results.valid_votes}"
    return '"' + hashlib.sha256(tag.encode()).hexdigest()[:32] + '"'


BulletinKey = tuple[int, Category, str]  # edition, category, ETag


class SharedBulletins:
    """Bulletin bodies per process: concurrent requests for one bulletin share one computation,
    and the last few are kept a short while as bytes. A bulletin is a scan and a hash of every
    valid vote of its category (200,000 votes: 13 MB, one to two seconds), the same for every
    reader: when results are published, many ask for it at once."""

    def __init__(
        self,
        *,
        kept: int = BULLETINS_KEPT,
        kept_bytes: int = BULLETIN_BYTES_KEPT,
        kept_s: float = BULLETIN_KEPT_S,
    ) -> None:
        self._kept_max, self._bytes_max, self._kept_s = kept, kept_bytes, kept_s
        self._kept: OrderedDict[BulletinKey, tuple[float, bytes]] = OrderedDict()
        self._computing: dict[BulletinKey, asyncio.Task[bytes]] = {}

    async def get(self, key: BulletinKey, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < self._kept_s:
            self._kept.move_to_end(key)
            return kept[1]
        task = self._computing.get(key)
        if task is None:
            # A task of its own: a reader who hangs up does not cancel it for the others.
            task = self._computing[key] = asyncio.create_task(self._compute(key, compute))
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    async def _compute(self, key: BulletinKey, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        body = await compute()
        self._kept.pop(key, None)
        self._kept[key] = (time.monotonic(), body)
        total = sum(len(b) for _, b in self._kept.values())
        while len(self._kept) > 1 and (len(self._kept) > self._kept_max or total > self._bytes_max):
            _, (_, dropped) = self._kept.popitem(last=False)
            total -= len(dropped)
        return body

    def _finished(self, key: BulletinKey, task: asyncio.Task[bytes]) -> None:
        if self._computing.get(key) is task:
            del self._computing[key]
        if not task.cancelled():
            task.exception()  # retrieved: when every reader hung up, no "never retrieved" noise


def _shared_bulletins(request: Request) -> SharedBulletins:
    state = request.app.state
    bulletins: SharedBulletins | None = getattr(state, "bulletins", None)
    if bulletins is None:
        bulletins = state.bulletins = SharedBulletins()
    return bulletins


HOW_TO_CHECK: Final = (
    "sha256 of '<salt>:<your receipt id>' in hex is in your nominee's receipt_hashes; "
    "each nominee's votes equal the number of its hashes, and together they make "
    "valid_votes, the figure published with the champions"
)


@router.get(
    "/editions/{year}/bulletins/{category}",
    summary="Every valid vote of a category as a hashed receipt, per nominee (public once the "
    "counts are public; admins always)",
    response_model=Bulletin,
    responses={
        304: {"description": "not modified since the ETag sent in If-None-Match"},
        404: {"description": "no results yet: the bulletin comes with the close of the window"},
        409: {"description": "the counts are not public yet: published with the results"},
    },
)
async def get_bulletin(
    year: EditionYear,
    category: Category,
    request: Request,
    uow: UoW,
    viewer: Viewer,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    privileged = is_admin(viewer)
    # Who may see it and which results it belongs to: two small reads, then a 304 or the body.
    found = await closing.bulletin(
        uow, year=year, category=category, privileged=privileged, hashes=False
    )
    if found is None:
        raise NotFound(f"no bulletin for {category} in {year}: it is published when voting closes")
    etag = _bulletin_etag(found.results)
    # An admin may read it before the public: no shared cache may keep that copy.
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-store"
        if privileged
        else BULLETIN_CACHE_CONTROL
        if found.final
        else BULLETIN_WHILE_COUNTS_SHOWN,
    }
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)

    async def compute() -> bytes:
        built = await closing.bulletin(uow, year=year, category=category, privileged=privileged)
        if built is None:  # results are never taken back; kept for the type checker
            raise NotFound(f"no bulletin for {category} in {year}")
        results, hashes, _ = built
        return (
            Bulletin(
                edition=year,
                category=category,
                salt=results.bulletin_salt,
                how_to_check=HOW_TO_CHECK,
                valid_votes=sum(len(listed) for listed in hashes.values()),
                nominees=[
                    BulletinNominee(
                        entry_id=entry,
                        votes=len(listed),
                        withdrawn=entry in results.withdrawn,
                        receipt_hashes=listed,
                    )
                    for entry, listed in hashes.items()
                ],
            )
            .model_dump_json()
            .encode()
        )

    body = await _shared_bulletins(request).get((year, category, etag), compute)
    return Response(content=body, media_type="application/json", headers=headers)


class InvalidationRequest(InvalidationRule):
    dry_run: bool = Field(default=False, description="count the votes it would rule out, only")


@router.post(
    "/editions/{year}/invalidations",
    summary="Rule votes invalid by voters, address range or time window, with a reason (admin)",
    responses={
        409: {"description": "the results are decided: no ruling any more"},
        422: {"description": "not a valid rule, or more than 100,000 votes: narrow it"},
    },
)
async def rule_out_votes(
    year: EditionYear, body: InvalidationRequest, admin: Admin, uow: UoW
) -> Invalidation:
    rule = InvalidationRule.model_validate(body.model_dump(exclude={"dry_run"}))
    return await invalidation.rule_out_votes(
        uow, year=year, rule=rule, dry_run=body.dry_run, admin=admin, now=utcnow()
    )


@router.get(
    "/editions/{year}/invalidations",
    summary="The audit trail of rulings, those that matched no vote included (admin)",
)
async def list_invalidations(year: EditionYear, admin: Admin, uow: UoW) -> list[Invalidation]:
    return await invalidation.invalidations(uow, year=year)


class TallyCheckPublic(BaseModel):
    ok: bool
    counted_votes: int
    uncounted_votes: int = Field(description="accepted, not yet reached by the tally (its lag)")
    differences: list[dict[str, object]]


@router.get(
    "/editions/{year}/tally/verify",
    summary="Compare the tally with the votes it counted: there must be no difference (admin)",
)
async def verify_tally(year: EditionYear, admin: Admin, uow: UoW) -> TallyCheckPublic:
    check = await tally_audit.verify(uow, edition=year)
    return TallyCheckPublic(
        ok=check.ok,
        counted_votes=check.counted_votes,
        uncounted_votes=check.uncounted,
        differences=[
            {"category": c, "entry_id": n, "tally": t, "votes": v}
            for (_, c, n), (t, v) in check.differences.items()
        ],
    )
