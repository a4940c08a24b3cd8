"""After the window: the champions (finalists) per category, the bulletin of hashed receipts;
during it, the admins' rulings on invalid votes and the tally's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from wsis_shared.auth import Principal, require_role
from wsis_shared.errors import NotFound
from wsis_shared.events import Finalist, utcnow
from wsis_shared.vocabulary import Category, EditionYear, Role
from wsis_voting.domain.invalidation import Invalidation, InvalidationRule
from wsis_voting.entrypoints.http.dependencies import UoW
from wsis_voting.service_layer import closing, invalidation, tally_audit

router = APIRouter(tags=["results"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class CategoryChampions(BaseModel):
    category: Category
    finalists: tuple[Finalist, ...]
    tie_break_rule: str
    valid_votes: int = Field(description="every valid vote of the category, as in its bulletin")
    votes_for_withdrawn: int = Field(
        description="of those, votes for nominations withdrawn during the window: they stay in "
        "the bulletin (their voters find their receipts) and cannot make a finalist"
    )
    decided_at: datetime


@router.get(
    "/editions/{year}/champions",
    summary="The five finalists of each category, once the window has closed (public)",
)
async def get_champions(year: EditionYear, uow: UoW) -> list[CategoryChampions]:
    return [
        CategoryChampions.model_validate(r.model_dump())
        for r in await closing.champions(uow, year=year)
    ]


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


@router.get(
    "/editions/{year}/bulletins/{category}",
    summary="Every valid vote of a category as a hashed receipt, per nominee (public)",
)
async def get_bulletin(year: EditionYear, category: Category, uow: UoW) -> Bulletin:
    found = await closing.bulletin(uow, year=year, category=category)
    if found is None:
        raise NotFound(f"no bulletin for {category} in {year}: it is published when voting closes")
    results, hashes = found
    return Bulletin(
        edition=year,
        category=category,
        salt=results.bulletin_salt,
        how_to_check=(
            "sha256 of '<salt>:<your receipt id>' in hex is in your nominee's receipt_hashes; "
            "each nominee's votes equal the number of its hashes, and together they make "
            "valid_votes, the figure published with the champions"
        ),
        valid_votes=sum(len(found_hashes) for found_hashes in hashes.values()),
        nominees=[
            BulletinNominee(
                entry_id=entry,
                votes=len(found_hashes),
                withdrawn=entry in results.withdrawn,
                receipt_hashes=found_hashes,
            )
            for entry, found_hashes in hashes.items()
        ],
    )


class InvalidationRequest(InvalidationRule):
    dry_run: bool = Field(default=False, description="count the votes it would rule out, only")


@router.post(
    "/editions/{year}/invalidations",
    summary="Rule votes invalid by voters, address range or time window, with a reason (admin)",
)
async def rule_out_votes(
    year: EditionYear, body: InvalidationRequest, admin: Admin, uow: UoW
) -> Invalidation:
    rule = InvalidationRule.model_validate(body.model_dump(exclude={"dry_run"}))
    return await invalidation.rule_out_votes(
        uow, year=year, rule=rule, dry_run=body.dry_run, admin=admin, now=utcnow()
    )


@router.get("/editions/{year}/invalidations", summary="The audit trail of rulings (admin)")
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
