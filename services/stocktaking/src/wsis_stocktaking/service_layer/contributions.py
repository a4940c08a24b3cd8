"""Use cases of contributions: filing one (as fields or a document), reading them, and the
editors' corrections of their tags.

Filing tags the text at once, so the organisation sees the suggested tags in the answer; an
editor (an admin) later confirms, rejects or adds tags, and every correction is kept in the
contribution's trail.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from pydantic import AwareDatetime, BaseModel

from wsis_shared.auth import Principal
from wsis_shared.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from wsis_shared.text import file_stem
from wsis_shared.uow import UnitOfWorkRunner
from wsis_shared.vocabulary import Role
from wsis_stocktaking.domain.contributions import (
    Contribution,
    ContributionFormat,
    ExtractedText,
    Tag,
    kind_of,
)
from wsis_stocktaking.domain.tagging import parse_code, suggest_tags

EXTENSIONS: Final[dict[ContributionFormat, str]] = {
    "pdf": "pdf",
    "docx": "docx",
    "markdown": "md",
    "text": "txt",
    "fields": "txt",
}
VALID_CODES_HINT: Final = (
    "use an action line C1–C11, a C7 application (C7.e-government, C7.e-business, "
    "C7.e-learning, C7.e-health, C7.e-employment, C7.e-environment, C7.e-agriculture, "
    "C7.e-science) or an SDG (SDG1–SDG17)"
)


class ContributionSummary(BaseModel):
    """A contribution in a list: an excerpt instead of the whole text, no corrections trail."""

    contribution_id: str
    edition: int
    organisation: str
    organisation_id: str | None = None
    title: str
    format: ContributionFormat
    submitted_at: AwareDatetime
    excerpt: str
    tags: list[Tag]

    @classmethod
    def of(cls, contribution: Contribution) -> ContributionSummary:
        return cls(
            contribution_id=contribution.contribution_id,
            edition=contribution.edition,
            organisation=contribution.organisation,
            organisation_id=contribution.organisation_id,
            title=contribution.title,
            format=contribution.format,
            submitted_at=contribution.submitted_at,
            excerpt=contribution.excerpt(),
            tags=contribution.tags,
        )


@dataclass(frozen=True)
class ContributionQuery:
    edition: int | None = None
    code: str | None = None
    include_suggested: bool = False
    """Match `code` also where it is only suggested (awaiting an editor), not yet in effect."""
    organisation: str | None = None
    organisation_id: str | None = None
    awaiting_review: bool | None = None


@dataclass(frozen=True)
class PageCursor:
    """Where a page ended: lists run newest first, ties broken by id."""

    submitted_at: datetime
    contribution_id: str

    def encode(self) -> str:
        raw = json.dumps([self.submitted_at.isoformat(), self.contribution_id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> PageCursor:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            at, contribution_id = json.loads(raw)
            submitted_at = datetime.fromisoformat(at)
            if submitted_at.tzinfo is None or not isinstance(contribution_id, str):
                raise ValueError(cursor)
            # A lone surrogate ("\ud800" in the JSON) is no UTF-8 that MongoDB could compare
            # with: UnicodeEncodeError, a ValueError.
            contribution_id.encode()
            # Queried as UTC: a date such as 0001-01-01T00:00+14:00 is well-formed but falls
            # before the year 1 there (OverflowError), and MongoDB could not be asked about it.
            submitted_at = submitted_at.astimezone(UTC)
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                "the cursor is not one this API gave out: pass the `next_cursor` of the "
                "previous page unchanged, or leave it out for the first page"
            ) from None
        return cls(submitted_at, contribution_id)

    @classmethod
    def after(cls, summary: ContributionSummary) -> PageCursor:
        return cls(summary.submitted_at, summary.contribution_id)


class ContributionRepository(Protocol):
    async def add(self, contribution: Contribution) -> None:
        """Raises AlreadyExists if a contribution of the same fingerprint is there."""

    async def get(self, contribution_id: str) -> Contribution:
        """Raises NotFound."""

    async def save(self, contribution: Contribution) -> None: ...
    async def find_by_fingerprint(self, fingerprint: str) -> Contribution | None: ...
    async def latest_of_organisation(self, organisation_id: str) -> Contribution | None: ...
    async def search(
        self, query: ContributionQuery, *, limit: int, after: PageCursor | None
    ) -> list[ContributionSummary]: ...
    async def count(self, query: ContributionQuery) -> int: ...


class ContributionsUnitOfWork(Protocol):
    @property
    def contributions(self) -> ContributionRepository: ...


Runner = UnitOfWorkRunner[ContributionsUnitOfWork]


class OriginalStore(Protocol):
    """Where uploaded originals live (GridFS; a dict in unit tests)."""

    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None: ...
    async def get(self, file_id: str) -> bytes: ...
    async def delete(self, file_id: str) -> None: ...


@dataclass(frozen=True)
class Filing:
    """What the filer said about the contribution (the text comes separately)."""

    edition: int
    title: str
    organisation: str | None = None
    organisation_id: str | None = None


@dataclass(frozen=True)
class Original:
    """An uploaded document as received, kept so anyone can read what was sent."""

    data: bytes
    filename: str | None


@dataclass(frozen=True)
class Page:
    items: list[ContributionSummary]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class Download:
    contribution: Contribution
    data: bytes
    filename: str
    media_type: str


def new_contribution_id() -> str:
    return uuid.uuid4().hex


def safe_filename(name: str | None, format: ContributionFormat, fallback: str) -> str:
    """A name in any script, safe in a Content-Disposition header and on any disk, with the
    extension of the type the bytes showed (a "report.pdf" that is a DOCX downloads as
    "report.docx")."""
    return f"{file_stem(name) or fallback}.{EXTENSIONS[format]}"


def parse_codes(raw_codes: Sequence[str]) -> list[str]:
    """Canonical codes, or a 422 naming every code that is not one."""
    codes: list[str] = []
    unknown: list[str] = []
    for raw in raw_codes:
        code = parse_code(raw)
        if code is None:
            unknown.append(raw)
        else:
            codes.append(code)
    if unknown:
        names = ", ".join(repr(raw) for raw in unknown)
        raise InvalidInput(f"unknown tag code {names}: {VALID_CODES_HINT}", unknown_codes=unknown)
    return codes


def action_line_filter(raw: str) -> str:
    """The canonical code of a list's `action_line` filter ("c7 e-health" → "C7.e-health")."""
    code = parse_code(raw)
    if code is None or kind_of(code) != "action_line":
        raise InvalidInput(
            f"{raw!r} is not an action line: use C1–C11, or a C7 application such as C7.e-learning"
        )
    return code


# --- filing -------------------------------------------------------------------------------------


async def file_contribution(
    runner: Runner,
    originals: OriginalStore,
    *,
    filing: Filing,
    extracted: ExtractedText,
    original: Original | None,
    by: Principal,
    now: datetime,
) -> Contribution:
    """Record a contribution with its suggested tags; the original (if any) is kept in the
    store. Filing the same text again for the same organisation and year is refused (409) with
    the id of the first one, so a retried upload does not make a second record."""
    organisation_id = _organisation_id_for(filing, by)
    tags = await asyncio.to_thread(suggest_tags, extracted.text, title=filing.title)
    contribution_id = new_contribution_id()
    kept_filename = (
        safe_filename(original.filename, extracted.format, fallback="contribution")
        if original is not None
        else None
    )

    async def work(uow: ContributionsUnitOfWork) -> Contribution:
        contribution = Contribution(
            contribution_id=contribution_id,
            edition=filing.edition,
            organisation=await _organisation_name(uow, filing, organisation_id),
            organisation_id=organisation_id,
            title=filing.title,
            text=extracted.text,
            format=extracted.format,
            original_file_id=contribution_id if original is not None else None,
            original_filename=kept_filename,
            original_media_type=extracted.media_type if original is not None else None,
            original_size=len(original.data) if original is not None else None,
            submitted_by=by.subject,
            submitted_at=now,
            tags=tags,
        )
        earlier = await uow.contributions.find_by_fingerprint(contribution.fingerprint)
        if earlier is not None:
            raise AlreadyExists(
                f"this text was already filed for {earlier.organisation} and {earlier.edition} "
                f"as contribution {earlier.contribution_id} ({earlier.title!r}); nothing was "
                "added",
                contribution_id=earlier.contribution_id,
            )
        await uow.contributions.add(contribution)
        return contribution

    if original is None:
        return await runner.run(work)
    # GridFS writes cannot join a transaction: the original goes first and is removed again if
    # the contribution is refused, so no record ever points to a missing file.
    await originals.put(
        contribution_id,
        original.data,
        {"contribution_id": contribution_id, "media_type": extracted.media_type},
    )
    try:
        return await runner.run(work)
    except BaseException:
        await originals.delete(contribution_id)
        raise


def _organisation_id_for(filing: Filing, by: Principal) -> str | None:
    """An admin files for any organisation (or none named); a submitter only for the
    organisation of their account."""
    if by.has(Role.ADMIN):
        return filing.organisation_id
    if not by.organisation_id:
        raise Forbidden(
            "your account is not linked to an organisation, so you cannot file for one: ask "
            "the WSIS team to link it, or to file the contribution for you"
        )
    if filing.organisation_id and filing.organisation_id != by.organisation_id:
        raise Forbidden(
            f"you may file only for your own organisation ({by.organisation_id}), not for "
            f"{filing.organisation_id}"
        )
    return by.organisation_id


async def _organisation_name(
    uow: ContributionsUnitOfWork, filing: Filing, organisation_id: str | None
) -> str:
    """The name given, else the one of the organisation's latest contribution."""
    if filing.organisation:
        return filing.organisation
    if organisation_id:
        latest = await uow.contributions.latest_of_organisation(organisation_id)
        if latest is not None:
            return latest.organisation
    raise InvalidInput(
        "name the organisation in `organisation` (later contributions of the same "
        "organisation account may leave it out)"
    )


# --- reading ------------------------------------------------------------------------------------


async def get_contribution(runner: Runner, *, contribution_id: str) -> Contribution:
    async def work(uow: ContributionsUnitOfWork) -> Contribution:
        return await uow.contributions.get(contribution_id)

    return await runner.run(work)


async def list_contributions(
    runner: Runner, query: ContributionQuery, *, limit: int, cursor: str | None
) -> Page:
    after = PageCursor.decode(cursor) if cursor else None

    async def work(uow: ContributionsUnitOfWork) -> Page:
        found = await uow.contributions.search(query, limit=limit + 1, after=after)
        items = found[:limit]
        return Page(
            items=items,
            next_cursor=PageCursor.after(items[-1]).encode() if len(found) > limit else None,
            total=await uow.contributions.count(query),
        )

    return await runner.run(work)


async def get_original(
    runner: Runner, originals: OriginalStore, *, contribution_id: str
) -> Download:
    contribution = await get_contribution(runner, contribution_id=contribution_id)
    if contribution.original_file_id is None or contribution.original_media_type is None:
        raise NotFound(
            f"contribution {contribution_id} was filed as text, not as a document: its text "
            "is the original (GET /contributions/{id})"
        )
    return Download(
        contribution=contribution,
        data=await originals.get(contribution.original_file_id),
        filename=contribution.original_filename
        or safe_filename(None, contribution.format, fallback=contribution_id),
        media_type=contribution.original_media_type,
    )


# --- editors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagChanges:
    """An editor's correction, as typed: codes are checked and made canonical here."""

    confirm: Sequence[str] = ()
    reject: Sequence[str] = ()
    add: Sequence[str] = ()
    note: str | None = None


async def correct_tags(
    runner: Runner, *, contribution_id: str, changes: TagChanges, by: Principal, now: datetime
) -> Contribution:
    confirm, reject, add = (
        parse_codes(changes.confirm),
        parse_codes(changes.reject),
        parse_codes(changes.add),
    )

    async def work(uow: ContributionsUnitOfWork) -> Contribution:
        contribution = await uow.contributions.get(contribution_id)
        corrected = contribution.corrected(
            confirm=confirm, reject=reject, add=add, note=changes.note, by=by.subject, at=now
        )
        await uow.contributions.save(corrected)
        return corrected

    return await runner.run(work)


async def retag(runner: Runner, *, contribution_id: str) -> Contribution:
    """Tag the text again with the current vocabulary; every editor's decision is kept."""
    current = await get_contribution(runner, contribution_id=contribution_id)
    suggestions = await asyncio.to_thread(suggest_tags, current.text, title=current.title)

    async def work(uow: ContributionsUnitOfWork) -> Contribution:
        contribution = await uow.contributions.get(contribution_id)
        retagged = contribution.retagged(suggestions)
        await uow.contributions.save(retagged)
        return retagged

    return await runner.run(work)
