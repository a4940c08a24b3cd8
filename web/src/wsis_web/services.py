"""The services' public HTTP APIs as the pages need them. The web app owns no data: every page
is made from these answers, read server-side, so the browser talks to one origin only."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from wsis_shared.events import EditionSchedule, EntryPublic, NomineeCard
from wsis_shared.vocabulary import Category, Phase


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Edition(Answer):
    year: int
    title: str
    schedule: EditionSchedule
    categories: tuple[Category, ...]
    show_running_counts: bool
    phase: Phase
    # Bumped by every change (the ETag, sent back as `If-Match`); None from a service that
    # does not say it, and then a change is made on the edition as it is.
    version: int | None = None
    # The schedule's dates an admin can no longer move; none said, none held back here (the
    # service still refuses what it must).
    fixed_dates: tuple[str, ...] = ()


class BallotCategory(Answer):
    category: Category
    nominees: list[NomineeCard]


class Receipt(Answer):
    receipt_id: str
    edition: int
    category: Category
    entry_id: str
    cast_at: datetime


class NomineeResult(Answer):
    nominee: NomineeCard
    votes: int | None


class Results(Answer):
    edition: int
    category: Category
    counts_public: bool
    nominees: list[NomineeResult]


class Finalist(Answer):
    entry_id: str
    votes: int | None  # None while the edition keeps its counts hidden (before the results)
    rank: int | None


class CategoryChampions(Answer):
    category: Category
    counts_public: bool = True
    finalists: tuple[Finalist, ...]
    valid_votes: int | None
    # Of those, the votes for nominations withdrawn during the vote (null while counts hidden).
    votes_for_withdrawn: int | None = None
    decided_at: datetime


class VoterToken(Answer):
    token: str
    expires_at: datetime


class CatalogueEntry(Answer):
    entry_id: str
    edition: int
    status: str
    entry: EntryPublic
    votes: int | None


class FacetValue(Answer):
    value: int | str
    count: int


class CataloguePage(Answer):
    items: list[CatalogueEntry]
    next_cursor: str | None
    total: int
    facets: dict[str, list[FacetValue]] = {}


class ReportDownload(Answer):
    format: Literal["html", "pdf", "csv", "json"]
    href: str
    media_type: str
    bytes: int


class Report(Answer):
    report_id: str
    edition: int
    kind: str
    published_at: datetime
    downloads: list[ReportDownload]


@dataclass(frozen=True)
class BulletinLine:
    entry_id: str
    votes: int
    withdrawn: bool


def receipt_digest(salt: str, receipt_id: str) -> str:
    """What the bulletin lists for a receipt: sha256 of `salt:receipt_id`, in hex."""
    return hashlib.sha256(f"{salt}:{receipt_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Bulletin:
    """A category's published bulletin as this process keeps it: the figures, and each
    nominee's receipt hashes as one sorted run of 32-byte digests (200,000 votes: 6.4 MB,
    against some 30 MB as Python strings), searched by bisection."""

    edition: int
    category: Category
    salt: str
    how_to_check: str
    valid_votes: int
    lines: tuple[BulletinLine, ...]
    etag: str | None
    _digests: dict[str, bytes] = field(repr=False)

    @classmethod
    def from_json(cls, content: bytes, etag: str | None) -> Bulletin:
        body = json.loads(content)
        lines, digests = [], {}
        for nominee in body["nominees"]:
            hashes = sorted(bytes.fromhex(h) for h in nominee["receipt_hashes"])
            digests[nominee["entry_id"]] = b"".join(hashes)
            lines.append(
                BulletinLine(
                    entry_id=nominee["entry_id"],
                    votes=int(nominee.get("votes", len(hashes))),
                    withdrawn=bool(nominee.get("withdrawn", False)),
                )
            )
        return cls(
            edition=int(body["edition"]),
            category=Category(body["category"]),
            salt=body["salt"],
            how_to_check=body.get("how_to_check", ""),
            valid_votes=int(body["valid_votes"]),
            lines=tuple(lines),
            etag=etag,
            _digests=digests,
        )

    def find(self, receipt_id: str) -> tuple[str, str | None]:
        """The receipt's hash, and the nominee whose list holds it (None: in no list)."""
        digest = receipt_digest(self.salt, receipt_id)
        wanted = bytes.fromhex(digest)
        for entry_id, run in self._digests.items():
            low, high = 0, len(run) // 32
            while low < high:
                middle = (low + high) // 2
                found = run[middle * 32 : middle * 32 + 32]
                if found == wanted:
                    return digest, entry_id
                if found < wanted:
                    low = middle + 1
                else:
                    high = middle
        return digest, None


BulletinState = Literal["published", "hidden", "not-yet", "unavailable"]
# Every category of an edition (about 6.4 MB each at 200,000 votes): on results day voters open
# receipts in all of them, and one evicted would be fetched and parsed whole again.
BULLETINS_KEPT: Final = len(Category)
_MAX_AGE: Final = re.compile(r"max-age=(\d+)")


def _fresh_for(cache_control: str) -> float:
    """Seconds a bulletin may be used without asking again: the service's max-age, unless it
    says no-cache (public before the results only by the edition's choice) or no-store."""
    if "no-cache" in cache_control or "no-store" in cache_control:
        return 0.0
    found = _MAX_AGE.search(cache_control)
    return min(float(found.group(1)), 3600.0) if found else 0.0


class Bulletins:
    """The bulletins of hashed receipts, fetched once per process and revalidated with the
    service's ETag (`If-None-Match`: a 304 costs the service two small reads and no body), not
    asked again within its `max-age`; concurrent pages wait for one fetch."""

    def __init__(self, kept: int = BULLETINS_KEPT) -> None:
        self._kept_max = kept
        self._kept: OrderedDict[tuple[int, Category], tuple[Bulletin, float]] = OrderedDict()
        self._locks: dict[tuple[int, Category], asyncio.Lock] = {}
        # One parse at a time: each holds a 13 MB body and its objects, and the GIL besides.
        self._parsing = asyncio.Semaphore(1)

    async def get(
        self, services: Services, year: int, category: Category
    ) -> tuple[BulletinState, Bulletin | None]:
        key = (year, category)
        async with self._locks.setdefault(key, asyncio.Lock()):
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() < kept[1]:
                self._kept.move_to_end(key)
                return "published", kept[0]
            headers = {"If-None-Match": kept[0].etag} if kept and kept[0].etag else {}
            try:
                response = await services.http.get(
                    f"{services.urls['voting']}/editions/{year}/bulletins/{category.value}",
                    headers=headers,
                )
            except httpx.TransportError:
                return "unavailable", None
            fresh_until = time.monotonic() + _fresh_for(response.headers.get("cache-control", ""))
            if response.status_code == 304 and kept is not None:
                bulletin = kept[0]
            elif response.status_code == 200:
                # 13 MB of JSON for 200,000 votes: parsed off the event loop, then dropped.
                async with self._parsing:
                    bulletin = await asyncio.to_thread(
                        Bulletin.from_json, response.content, response.headers.get("etag")
                    )
            else:
                self._kept.pop(key, None)
                if response.status_code == 409:
                    return "hidden", None
                if response.status_code == 404:
                    return "not-yet", None
                return "unavailable", None
            self._kept[key] = (bulletin, fresh_until)
            self._kept.move_to_end(key)
            while len(self._kept) > self._kept_max:
                self._kept.popitem(last=False)
            return "published", bulletin


class Problem(Exception):
    """A service refused: its status and problem+json body, for the page to explain."""

    def __init__(self, status: int, body: dict[str, Any], retry_after: str | None = None) -> None:
        super().__init__(f"{status}: {body.get('detail')}")
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        """The machine-readable reason (`code-incorrect`, `phase-closed`, …) when there is one."""
        for key in ("code", "reason"):
            value = self.body.get(key)
            if isinstance(value, str):
                return value
        kind = self.body.get("type")
        return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else ""


class Unavailable(Exception):
    """A service did not answer (down, timed out, or answered with a 5xx)."""


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 500:
        raise Unavailable(
            f"{response.request.url.host}:{response.request.url.port} answered "
            f"{response.status_code}"
        )
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        raise Problem(
            response.status_code,
            body if isinstance(body, dict) else {},
            response.headers.get("retry-after"),
        )
    return response


def _forwarded(client_ip: str | None) -> dict[str, str]:
    """The visitor's address for the voting service's per-address limits, which would otherwise
    count every visitor as this web server (the voting service must trust this process's
    address as a proxy: uvicorn's FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    return {"X-Forwarded-For": client_ip} if client_ip else {}


_EDITIONS = TypeAdapter(list[Edition])
_BALLOT = TypeAdapter(list[BallotCategory])
_RECEIPTS = TypeAdapter(list[Receipt])
_CHAMPIONS = TypeAdapter(list[CategoryChampions])
_REPORTS = TypeAdapter(list[Report])


class Services:
    """One pooled HTTP client for the four services."""

    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.http = http
        self.urls = urls
        self.bulletins = Bulletins()

    async def bulletin(
        self, year: int, category: Category
    ) -> tuple[BulletinState, Bulletin | None]:
        """A category's bulletin: "published" with it, or why not ("hidden": counts not public
        yet, "not-yet": voting not closed, "unavailable": the service did not answer)."""
        return await self.bulletins.get(self, year, category)

    async def call(
        self, method: str, service: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request to a service (`token`: the signed-in person's, so the service's own role
        and ownership checks apply); raises `Problem` for a 4xx and `Unavailable` for the rest."""
        headers: dict[str, str] = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self.http.request(
                method, self.urls[service] + path, headers=headers, **kwargs
            )
        except httpx.TransportError as error:
            raise Unavailable(f"{service}: {type(error).__name__}") from error
        return _checked(response)

    async def editions(self) -> list[Edition]:
        return _EDITIONS.validate_json((await self.call("GET", "submissions", "/editions")).content)

    async def edition(self, year: int) -> Edition:
        response = await self.call("GET", "submissions", f"/editions/{year}")
        return Edition.model_validate_json(response.content)

    async def ballot(self, year: int) -> list[BallotCategory]:
        response = await self.call("GET", "voting", f"/editions/{year}/ballot")
        return _BALLOT.validate_json(response.content)

    async def my_votes(self, year: int, token: str) -> list[Receipt]:
        response = await self.call("GET", "voting", f"/editions/{year}/my-votes", token=token)
        return _RECEIPTS.validate_json(response.content)

    async def cast_vote(
        self,
        year: int,
        category: Category,
        entry_id: str,
        token: str,
        idempotency_key: str,
        client_ip: str | None,
    ) -> Receipt:
        headers = {"Idempotency-Key": idempotency_key} | _forwarded(client_ip)
        response = await self.call(
            "POST",
            "voting",
            f"/editions/{year}/votes",
            token=token,
            headers=headers,
            json={"category": category.value, "entry_id": entry_id},
        )
        return Receipt.model_validate_json(response.content)

    async def request_code(
        self, email: str, client_ip: str | None, *, resend: bool = False
    ) -> None:
        path = "/voters/registrations/resend" if resend else "/voters/registrations"
        await self.call(
            "POST", "voting", path, json={"email": email}, headers=_forwarded(client_ip)
        )

    async def verify_code(self, email: str, code: str, client_ip: str | None) -> VoterToken:
        response = await self.call(
            "POST",
            "voting",
            "/voters/verification",
            json={"email": email, "code": code},
            headers=_forwarded(client_ip),
        )
        return VoterToken.model_validate_json(response.content)

    async def results(self, year: int, category: Category) -> Results:
        response = await self.call("GET", "voting", f"/editions/{year}/results/{category.value}")
        return Results.model_validate_json(response.content)

    async def champions(self, year: int) -> list[CategoryChampions]:
        response = await self.call("GET", "voting", f"/editions/{year}/champions")
        return _CHAMPIONS.validate_json(response.content)

    async def search(self, params: list[tuple[str, str]]) -> CataloguePage:
        response = await self.call("GET", "stocktaking", "/entries", params=params)
        return CataloguePage.model_validate_json(response.content)

    async def catalogue_entry(self, entry_id: str) -> CatalogueEntry:
        # Quoted whole: "." or "?limit=1" would otherwise reach another route of the service.
        response = await self.call("GET", "stocktaking", f"/entries/{quote(entry_id, safe='')}")
        return CatalogueEntry.model_validate_json(response.content)

    async def reports(self) -> list[Report]:
        response = await self.call("GET", "stocktaking", "/reports")
        return _REPORTS.validate_json(response.content)
