"""Every endpoint of every service × every kind of caller gets exactly the answer of the README's
roles table; tokens that are not genuine, current tokens for this platform are refused.

Callers: anonymous, a submitter of another organisation, the submitter (owner of the entry), the
reviewer assigned to the entry, another reviewer, the chair, an admin, a voter. The services run
in-process on the real mongod with real data seeded through their own APIs and event handlers
(an edition, an entry of `org-1` with an attachment, a reviewer assigned to it, a nominee on the
ballot), so "not yours" is tested on resources that exist.

The expected answer of a (row, caller):
- a role the row does not let in: 403 problem+json (401 without a token);
- an endpoint scoped to its owner (an organisation's entry, a reviewer's assignment): 404 for a
  caller of the right role who is not the owner — the same answer as for a missing resource;
- otherwise the caller gets past the door: never 401 or 403, never a 5xx, and for an
  owner-scoped endpoint never 404 either (the resource is there for its owner).

A new endpoint without a row here fails `test_every_endpoint_has_a_row`, naming it. (This
folds in the review service's former test_review_authorization.py: the same rows, more callers.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from wsis_devstack.processes import free_ports
from wsis_devstack.smtp_sink import SmtpSink
from wsis_review.app import create_app as create_review
from wsis_review.entrypoints.consumers import handlers as review_handlers
from wsis_review.settings import ReviewSettings
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import (
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    EntryPublic,
    EventBase,
    NominationDecided,
    NominationDecision,
    NomineeCard,
    PhaseChange,
    SubmissionSubmitted,
    event_type_of,
)
from wsis_shared.messaging import Handlers, Tx
from wsis_shared.mongo import Session
from wsis_shared.settings import ServiceSettings
from wsis_shared.vocabulary import (
    ActionLine,
    Category,
    Phase,
    ProjectStatus,
    Region,
    Role,
    StakeholderType,
)
from wsis_stocktaking.app import create_app as create_stocktaking
from wsis_stocktaking.settings import StocktakingSettings
from wsis_submissions.app import create_app as create_submissions
from wsis_submissions.settings import SubmissionsSettings
from wsis_voting.app import create_app as create_voting
from wsis_voting.entrypoints.consumers import ballot_handlers
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration

Service = Literal["submissions", "review", "voting", "stocktaking"]
SERVICES: Final[tuple[Service, ...]] = ("submissions", "review", "voting", "stocktaking")
YEAR: Final = 2031
OWNER_ORG: Final = "org-1"
ASSIGNED_REVIEWER: Final = "reviewer-1"
PROBLEM: Final = "application/problem+json"
PDF: Final = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- the table -----------------------------------------------------------------------------------

Owner = Literal["organisation", "reviewer"]


@dataclass(frozen=True)
class Door:
    """Who an endpoint lets in: `roles` (None: anyone), and whether it is scoped to an owner."""

    roles: frozenset[Role] | None
    owner: Owner | None = None


def door(*roles: Role, owner: Owner | None = None) -> Door:
    return Door(frozenset(roles), owner)


ANYONE: Final = Door(None)
ADMIN: Final = door(Role.ADMIN)
CHAIR: Final = door(Role.CHAIR)
CHAIR_OR_ADMIN: Final = door(Role.CHAIR, Role.ADMIN)
REVIEW_TEAM: Final = door(Role.REVIEWER, Role.CHAIR, Role.ADMIN)
REVIEWER: Final = door(Role.REVIEWER)
OWN_ASSIGNMENT: Final = door(Role.REVIEWER, owner="reviewer")
SUBMITTER: Final = door(Role.SUBMITTER)
OWN_ENTRY: Final = door(Role.SUBMITTER, owner="organisation")
OWN_ENTRY_OR_ADMIN: Final = door(Role.SUBMITTER, Role.ADMIN, owner="organisation")
FILER: Final = door(Role.SUBMITTER, Role.ADMIN)
VOTER: Final = door(Role.VOTER)

OPERATIONS: Final = {"/healthz": ANYONE, "/readyz": ANYONE}

# (method, path) -> door, per service: the README's roles table.
MATRIX: Final[dict[Service, dict[tuple[str, str], Door]]] = {
    "submissions": {
        **{("GET", path): d for path, d in OPERATIONS.items()},
        ("POST", "/editions"): ADMIN,
        ("GET", "/editions"): ANYONE,
        ("GET", "/editions/{year}"): ANYONE,
        ("PATCH", "/editions/{year}"): ADMIN,
        ("POST", "/editions/{year}/phase"): ADMIN,
        ("POST", "/editions/{year}/entries"): SUBMITTER,
        # lists the caller's own organisation's entries (checked apart below)
        ("GET", "/editions/{year}/entries"): SUBMITTER,
        ("GET", "/entries/{entry_id}"): OWN_ENTRY_OR_ADMIN,
        ("PATCH", "/entries/{entry_id}"): OWN_ENTRY,
        ("POST", "/entries/{entry_id}/submit"): OWN_ENTRY,
        ("POST", "/entries/{entry_id}/amend"): OWN_ENTRY,
        ("POST", "/entries/{entry_id}/withdraw"): OWN_ENTRY,
        ("GET", "/entries/{entry_id}/history"): OWN_ENTRY_OR_ADMIN,
        ("POST", "/entries/{entry_id}/attachments"): OWN_ENTRY,
        ("GET", "/entries/{entry_id}/attachments/{attachment_id}"): OWN_ENTRY_OR_ADMIN,
        ("HEAD", "/entries/{entry_id}/attachments/{attachment_id}"): OWN_ENTRY_OR_ADMIN,
        ("DELETE", "/entries/{entry_id}/attachments/{attachment_id}"): OWN_ENTRY,
        # a submitted entry's files, each with a signed link
        ("GET", "/entries/{entry_id}/attachments"): REVIEW_TEAM,
        ("POST", "/entries/{entry_id}/attachments/{attachment_id}/link"): REVIEW_TEAM,
        ("GET", "/attachments/{token}"): ANYONE,  # holding a valid link
        ("HEAD", "/attachments/{token}"): ANYONE,
        ("GET", "/admin/editions/{year}/entries"): ADMIN,
        ("GET", "/admin/editions/{year}/entries.csv"): ADMIN,
        ("GET", "/dead-letters"): ADMIN,  # counts and the latest, no payloads
    },
    "review": {
        **{("GET", path): d for path, d in OPERATIONS.items()},
        ("GET", "/editions/{year}/review-settings"): REVIEW_TEAM,
        ("PUT", "/editions/{year}/review-settings/rules"): CHAIR_OR_ADMIN,
        ("PUT", "/editions/{year}/review-settings/rubric"): CHAIR_OR_ADMIN,
        ("POST", "/reviewers"): CHAIR_OR_ADMIN,
        ("GET", "/reviewers"): CHAIR_OR_ADMIN,
        ("GET", "/reviewers/{reviewer_id}"): CHAIR_OR_ADMIN,
        ("PATCH", "/reviewers/{reviewer_id}"): CHAIR_OR_ADMIN,
        ("POST", "/reviewers/import"): CHAIR_OR_ADMIN,
        ("GET", "/me/reviewer"): REVIEWER,
        ("POST", "/me/conflicts"): REVIEWER,
        ("GET", "/editions/{year}/candidates"): CHAIR_OR_ADMIN,
        ("POST", "/candidates/{entry_id}/eligibility"): CHAIR,
        ("POST", "/candidates/{entry_id}/nomination"): CHAIR,
        ("POST", "/editions/{year}/nominations"): CHAIR,
        ("POST", "/editions/{year}/assignments/run"): CHAIR_OR_ADMIN,
        ("GET", "/editions/{year}/assignments"): CHAIR_OR_ADMIN,
        ("POST", "/candidates/{entry_id}/assignments"): CHAIR_OR_ADMIN,
        ("GET", "/me/assignments"): REVIEWER,  # the caller's own only
        ("GET", "/me/assignments/{entry_id}"): OWN_ASSIGNMENT,
        ("POST", "/me/assignments/{entry_id}/decline"): OWN_ASSIGNMENT,
        ("PATCH", "/me/assignments/{entry_id}/review"): OWN_ASSIGNMENT,
        ("POST", "/me/assignments/{entry_id}/review/submit"): OWN_ASSIGNMENT,
        ("GET", "/candidates/{entry_id}/reviews"): CHAIR_OR_ADMIN,
        ("GET", "/candidates/{entry_id}/trail"): CHAIR_OR_ADMIN,
        ("GET", "/editions/{year}/ranking"): CHAIR,
        ("GET", "/editions/{year}/progress"): CHAIR_OR_ADMIN,
        ("GET", "/editions/{year}/reviews/export"): CHAIR_OR_ADMIN,
        ("GET", "/editions/{year}/finalists"): CHAIR_OR_ADMIN,
        ("POST", "/editions/{year}/categories/{category}/winner"): CHAIR,
    },
    "voting": {
        **{("GET", path): d for path, d in OPERATIONS.items()},
        ("GET", "/editions/{year}/ballot"): ANYONE,
        ("GET", "/editions/{year}/results/{category}"): ANYONE,  # counts: by phase and role
        ("GET", "/editions/{year}/results/{category}/stream"): ANYONE,
        ("POST", "/editions/{year}/votes"): VOTER,
        ("GET", "/editions/{year}/my-votes"): VOTER,
        ("GET", "/editions/{year}/champions"): ANYONE,  # once the window has closed
        ("GET", "/editions/{year}/bulletins/{category}"): ANYONE,
        ("POST", "/editions/{year}/invalidations"): ADMIN,
        ("GET", "/editions/{year}/invalidations"): ADMIN,
        ("GET", "/editions/{year}/tally/verify"): ADMIN,
        ("POST", "/voters/registrations"): ANYONE,
        ("POST", "/voters/registrations/resend"): ANYONE,
        ("POST", "/voters/verification"): ANYONE,
        ("GET", "/voters/bot-challenge"): ANYONE,
    },
    "stocktaking": {
        **{("GET", path): d for path, d in OPERATIONS.items()},
        ("GET", "/entries"): ANYONE,
        ("GET", "/entries/{entry_id}"): ANYONE,
        ("POST", "/contributions"): FILER,  # a submitter for their organisation, or an admin
        ("POST", "/contributions/uploads"): FILER,
        ("GET", "/contributions"): ANYONE,
        ("GET", "/contributions/{contribution_id}"): ANYONE,
        ("GET", "/contributions/{contribution_id}/original"): ANYONE,
        ("PATCH", "/contributions/{contribution_id}/tags"): ADMIN,
        ("POST", "/contributions/{contribution_id}/retag"): ADMIN,
        ("POST", "/reports"): ADMIN,
        ("GET", "/reports/jobs/{job_id}"): ADMIN,
        ("GET", "/reports"): ANYONE,
        ("GET", "/reports/{report_id}"): ANYONE,
        ("GET", "/reports/{report_id}/report.{format}"): ANYONE,
    },
}

# Endpoints that use up their resource when the owner calls them: each test gets its own.
FRESH: Final[set[tuple[Service, str, str]]] = {
    ("submissions", "DELETE", "/entries/{entry_id}/attachments/{attachment_id}"),
    ("review", "POST", "/me/assignments/{entry_id}/decline"),
}
# Bodies valid enough that validation does not answer before the door and the owner check.
BODIES: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("POST", "/entries/{entry_id}/attachments"): {
        "content": PDF,
        "headers": {"content-type": "application/octet-stream"},
        "params": {"filename": "report.pdf"},
    },
    ("POST", "/me/assignments/{entry_id}/decline"): {"json": {"reason": "I advised this team"}},
}
# Query strings an endpoint needs to reach its handler.
QUERIES: Final[dict[tuple[str, str], str]] = {
    ("GET", "/me/assignments"): f"?year={YEAR}",
    ("GET", "/editions/{year}/ranking"): "?category=C4",
    ("GET", "/editions/{year}/reviews/export"): "?format=csv",
}
STREAMS: Final = {("GET", "/editions/{year}/results/{category}/stream")}


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    subject: str = ""
    organisation: str | None = None


CALLERS: Final = (
    Caller("anonymous", None),
    Caller("submitter-of-another-organisation", Role.SUBMITTER, "team-2", "org-2"),
    Caller("submitter", Role.SUBMITTER, "team-1", OWNER_ORG),
    Caller("reviewer", Role.REVIEWER, ASSIGNED_REVIEWER),
    Caller("another-reviewer", Role.REVIEWER, "reviewer-2"),
    Caller("chair", Role.CHAIR, "chair-1"),
    Caller("admin", Role.ADMIN, "admin-1"),
    Caller("voter", Role.VOTER, "voter-1"),
)
PASSES: Final = 0  # "gets past the door"


def expected_answer(entry: Door, caller: Caller) -> int:
    """The status the README's table promises, or PASSES."""
    if entry.roles is None:
        return PASSES
    if caller.role is None:
        return 401
    if caller.role not in entry.roles:
        return 403
    if entry.owner == "organisation" and caller.role is Role.SUBMITTER:
        return PASSES if caller.organisation == OWNER_ORG else 404
    if entry.owner == "reviewer" and caller.role is Role.REVIEWER:
        return PASSES if caller.subject == ASSIGNED_REVIEWER else 404
    return PASSES


# --- the services, seeded ------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    private: bytes
    public_file: Path
    private_file: Path
    # Signed once per caller: loading the PEM key checks it, a tenth of a second every time.
    _tokens: dict[Caller, str] = field(default_factory=dict, compare=False)

    def token(self, caller: Caller) -> str:
        assert caller.role is not None
        if caller not in self._tokens:
            self._tokens[caller] = sign_dev_token(
                self.private,
                subject=caller.subject,
                roles=[caller.role],
                organisation_id=caller.organisation,
            )
        return self._tokens[caller]

    def headers(self, caller: Caller) -> dict[str, str]:
        return {} if caller.role is None else {"Authorization": f"Bearer {self.token(caller)}"}


def make_keys(directory: Path) -> Keys:
    private, public = ensure_dev_keys(directory)
    return Keys(private.read_bytes(), public, private)


def caller(name: str) -> Caller:
    return next(c for c in CALLERS if c.name == name)


def settings_for(
    service: Service,
    *,
    mongo_uri: str,
    kafka_bootstrap: str,
    db_prefix: str,
    keys: Keys,
    smtp_port: int | None = None,
) -> ServiceSettings:
    common: dict[str, Any] = {
        "mongo_uri": mongo_uri,
        "kafka_bootstrap": kafka_bootstrap,
        "mongo_db_prefix": db_prefix,
        "jwt_public_key_file": keys.public_file,
    }
    if service == "submissions":
        return SubmissionsSettings(**common)
    if service == "review":
        return ReviewSettings(**common)
    if service == "voting":
        return VotingSettings(
            **common,
            voter_token_private_key_file=keys.private_file,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port or 9,
            smtp_security="none",
            smtp_timeout_s=2.0,
        )
    return StocktakingSettings(**common)


def create_app(service: Service, settings: ServiceSettings) -> FastAPI:
    if isinstance(settings, SubmissionsSettings):
        return create_submissions(settings)
    if isinstance(settings, ReviewSettings):
        return create_review(settings)
    if isinstance(settings, VotingSettings):
        return create_voting(settings)
    assert isinstance(settings, StocktakingSettings), service
    return create_stocktaking(settings)


def endpoints_of(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def schedule(year: int = YEAR) -> EditionSchedule:
    def at(month: int, day: int) -> datetime:
        return datetime(year, month, day, tzinfo=UTC)

    return EditionSchedule(
        submission_opens=at(1, 1),
        submission_closes=at(2, 1),
        review_closes=at(3, 1),
        voting_opens=at(3, 2),
        voting_closes=at(4, 1),
        results_at=at(4, 10),
    )


COMPLETE_ENTRY: Final[dict[str, Any]] = {
    "title": "Solar classrooms",
    "short_description": " ".join(f"word{i}" for i in range(160)),
    "full_description": "The whole story.",
    "category": "C4",
    "sdgs": [4],
    "country": "KE",
    "stakeholder_type": "civil society",
    "organisation_name": "Open Schools",
    "impact_qualitative": "Pupils learn with digital tools.",
    "beneficiaries": "12,000 pupils",
    "start_date": "2025-02-01",
    "project_status": "completed",
    "contact_name": "Amina",
    "contact_email": "amina@schools.example.org",
}


def entry_public(entry_id: str) -> EntryPublic:
    return EntryPublic(
        entry_id=entry_id,
        category=Category("C4"),
        title="Solar classrooms",
        short_description=COMPLETE_ENTRY["short_description"],
        organisation_id=OWNER_ORG,
        organisation_name="Open Schools",
        country="KE",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        action_lines=(ActionLine("C4"),),
        sdgs=(4,),
        project_status=ProjectStatus.COMPLETED,
    )


def edition_events(phase: Phase, *, year: int = YEAR) -> list[EventBase]:
    payload = EditionPayload(
        year=year,
        title=f"WSIS Prizes {year}",
        schedule=schedule(year),
        categories=tuple(Category),
        show_running_counts=False,
    )
    created = EditionCreated(
        aggregate_id=str(year), aggregate_version=1, edition=year, payload=payload
    )
    changed = EditionPhaseChanged(
        aggregate_id=str(year),
        aggregate_version=2,
        edition=year,
        payload=PhaseChange(
            year=year,
            phase=phase,
            previous_phase=Phase.PLANNED,
            changed_by="admin",
            schedule=schedule(year),
        ),
    )
    return [created, changed]


async def deliver(app: FastAPI, handlers: Handlers, events: list[EventBase]) -> None:
    """Hand events to the service's consumer handlers, each in its transaction, as the consumer
    runner would (the broker is not what these tests are about)."""
    resources = app.state.resources
    for event in events:
        found = handlers.for_type(event_type_of(type(event)))
        assert found is not None, type(event)

        async def work(session: Session, event: EventBase = event, handler: Any = found) -> None:
            await handler(event, Tx(resources.db, session, resources.outbox))

        await resources.transaction(work)


async def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def seed_submissions(http: httpx.AsyncClient, keys: Keys) -> dict[str, str]:
    """An edition in its submission phase and a submitted entry of OWNER_ORG with an attachment
    and a reviewer's signed link to it (links reach submitted entries only): the path
    parameters of every endpoint."""
    admin = keys.headers(caller("admin"))
    created = await http.post(
        "/editions",
        json={
            "year": YEAR,
            "title": f"WSIS Prizes {YEAR}",
            "schedule": schedule().model_dump(mode="json"),
        },
        headers=admin,
    )
    await _ok(created, 201, 409)
    await _ok(
        await http.post(f"/editions/{YEAR}/phase", json={"phase": "submission"}, headers=admin)
    )
    ids = await new_entry(http, keys)
    await _ok(
        await http.post(
            f"/entries/{ids['entry_id']}/submit", headers=keys.headers(caller("submitter"))
        )
    )
    link = await _ok(
        await http.post(
            f"/entries/{ids['entry_id']}/attachments/{ids['attachment_id']}/link",
            headers=admin,
        )
    )
    ids["token"] = link["url"].rsplit("/", 1)[1]
    spare = await _ok(
        await http.post(
            f"/entries/{ids['entry_id']}/attachments",
            params={"filename": "spare.pdf"},
            content=PDF,
            headers=keys.headers(caller("submitter"))
            | {"content-type": "application/octet-stream"},
        )
    )
    return ids | {"spare_attachment_id": spare["attachment_id"]}  # one to delete


async def new_entry(http: httpx.AsyncClient, keys: Keys) -> dict[str, str]:
    team = keys.headers(caller("submitter"))
    entry = await _ok(
        await http.post(f"/editions/{YEAR}/entries", json=COMPLETE_ENTRY, headers=team)
    )
    entry_id = entry["entry_id"]
    attachment = await _ok(
        await http.post(
            f"/entries/{entry_id}/attachments",
            params={"filename": "report.pdf"},
            content=PDF,
            headers=team | {"content-type": "application/octet-stream"},
        )
    )
    return {
        "year": str(YEAR),
        "entry_id": entry_id,
        "attachment_id": attachment["attachment_id"],
    }


async def seed_review(http: httpx.AsyncClient, app: FastAPI, keys: Keys) -> dict[str, str]:
    """An edition in review, two reviewers (the second declared a conflict with the entries'
    organisation, so no assignment run ever gives them one), an eligible entry assigned to the
    first."""
    await deliver(app, review_handlers, edition_events(Phase.REVIEW))
    chair = keys.headers(caller("chair"))
    for reviewer_id, country in ((ASSIGNED_REVIEWER, "BR"), ("reviewer-2", "JP")):
        created = await http.post(
            "/reviewers",
            json={
                "reviewer_id": reviewer_id,
                "name": f"Reviewer {reviewer_id}",
                "email": f"{reviewer_id}@review.example.org",
                "organisation": f"University {country}",
                "country": country,
                "languages": ["en"],
                "categories": ["C4"],
                "max_load": 50,
            },
            headers=chair,
        )
        await _ok(created, 201, 409)
    await _ok(
        await http.post(
            "/me/conflicts",
            json={"organisation": COMPLETE_ENTRY["organisation_name"]},
            headers=keys.headers(caller("another-reviewer")),
        )
    )
    return await new_assignment(http, app, keys)


async def new_assignment(http: httpx.AsyncClient, app: FastAPI, keys: Keys) -> dict[str, str]:
    """A received entry, found eligible, assigned to ASSIGNED_REVIEWER by the chair."""
    entry_id = f"entry-{uuid.uuid4().hex[:8]}"
    submitted = SubmissionSubmitted(
        aggregate_id=entry_id, aggregate_version=1, edition=YEAR, payload=entry_public(entry_id)
    )
    await deliver(app, review_handlers, [submitted])
    chair = keys.headers(caller("chair"))
    await _ok(
        await http.post(
            f"/candidates/{entry_id}/eligibility", json={"eligible": True}, headers=chair
        )
    )
    await _ok(
        await http.post(
            f"/candidates/{entry_id}/assignments",
            json={"add_reviewer_id": ASSIGNED_REVIEWER},
            headers=chair,
        )
    )
    return {
        "year": str(YEAR),
        "entry_id": entry_id,
        "reviewer_id": ASSIGNED_REVIEWER,
        "category": "C4",
    }


async def seed_voting(http: httpx.AsyncClient, app: FastAPI, keys: Keys) -> dict[str, str]:
    """An edition in its voting phase with one nominee in C4, and a vote for it."""
    entry_id = f"entry-{uuid.uuid4().hex[:8]}"
    card = NomineeCard(
        entry_id=entry_id,
        category=Category("C4"),
        title="Solar classrooms",
        short_description=COMPLETE_ENTRY["short_description"],
        organisation_name="Open Schools",
        country="KE",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
    )
    nominated = NominationDecided(
        aggregate_id=entry_id,
        aggregate_version=1,
        edition=YEAR,
        payload=NominationDecision(nominated=True, nominee=card),
    )
    await deliver(app, ballot_handlers, [*edition_events(Phase.VOTING), nominated])

    async def voted() -> bool:
        answer = await http.post(
            f"/editions/{YEAR}/votes",
            json={"category": "C4", "entry_id": entry_id},
            headers=keys.headers(caller("voter")),
        )
        assert answer.status_code in (201, 409, 422), answer.text
        # 409 phase-closed or 422 while the ballot cache is a second old.
        return answer.status_code == 201 or answer.json()["code"] == "already-voted"

    deadline = time.monotonic() + 10
    while not await voted():
        assert time.monotonic() < deadline, "the nominee never reached the ballot"
        await asyncio.sleep(0.2)
    return {"year": str(YEAR), "entry_id": entry_id, "category": "C4"}


@dataclass
class Running:
    service: Service
    app: FastAPI
    http: httpx.AsyncClient
    keys: Keys
    ids: dict[str, str] = field(default_factory=dict)

    def concrete(self, path: str, ids: Mapping[str, str] | None = None) -> str:
        values = {"year": str(YEAR), "category": "C4"} | dict(ids or self.ids)
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        path = path.replace("{format}", "json")
        return re.sub(r"{(\w+?)(_id)?}", lambda m: f"no-such-{m.group(1)}", path)


async def seed(
    service: Service, http: httpx.AsyncClient, app: FastAPI, keys: Keys
) -> dict[str, str]:
    if service == "submissions":
        return await seed_submissions(http, keys)
    if service == "review":
        return await seed_review(http, app, keys)
    if service == "voting":
        return await seed_voting(http, app, keys)
    return {"year": str(YEAR)}


@asynccontextmanager
async def running(
    service: Service, settings: ServiceSettings, keys: Keys, *, drop: bool = True
) -> AsyncIterator[Running]:
    """The service's app with its lifespan, an HTTP client on it, and its seeded data."""
    app = create_app(service, settings)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        try:
            yield Running(service, app, http, keys, await seed(service, http, app, keys))
        finally:
            if drop:
                resources = app.state.resources
                await resources.mongo.drop_database(resources.db.name)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    smtp_port, http_port = free_ports(2)
    with SmtpSink(smtp_port=smtp_port, http_port=http_port) as started:
        yield started


@pytest.fixture(scope="module")
async def services(
    mongo_uri: str, kafka_bootstrap: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> AsyncIterator[dict[Service, Running]]:
    prefix = f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_"
    opened: dict[Service, Running] = {}
    async with AsyncExitStack() as stack:
        for service in SERVICES:
            settings = settings_for(
                service,
                mongo_uri=mongo_uri,
                kafka_bootstrap=kafka_bootstrap,
                db_prefix=prefix,
                keys=keys,
                smtp_port=sink.smtp_port,
            )
            opened[service] = await stack.enter_async_context(running(service, settings, keys))
        yield opened


# --- every endpoint has a row --------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_every_endpoint_has_a_row(services: dict[Service, Running], service: Service) -> None:
    served = endpoints_of(services[service].app)
    table = set(MATRIX[service])
    missing = sorted(served - table)
    gone = sorted(table - served)
    assert not missing, (
        f"{service}: endpoints without a row in the authorization table (add them to MATRIX "
        f"and to the README's roles table): {missing}"
    )
    assert not gone, f"{service}: rows for endpoints that no longer exist: {gone}"


# --- every endpoint × every caller ---------------------------------------------------------------

CASES: Final = [
    (service, method, path) for service in SERVICES for (method, path) in sorted(MATRIX[service])
]


async def _status_of_stream(app: FastAPI, path: str, headers: dict[str, str]) -> int:
    """The status of an endless response (Server-Sent Events): taken from its start, then the
    client goes away."""
    started = asyncio.Event()
    status = 0
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await started.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            started.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("198.51.100.7", 40000),
        "server": ("test", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=15)
    return status


async def _answer(
    target: Running, method: str, path: str, caller_: Caller
) -> tuple[int, httpx.Response | None]:
    ids = target.ids
    if (target.service, method, path) in FRESH:
        if target.service == "submissions":
            ids = await new_entry(target.http, target.keys)
        else:
            ids = await new_assignment(target.http, target.app, target.keys)
    url = target.concrete(path, ids) + QUERIES.get((method, path), "")
    headers = target.keys.headers(caller_)
    if (method, path) in STREAMS:
        return await _status_of_stream(target.app, url, headers), None
    body = BODIES.get((method, path), {"json": {}})
    response = await target.http.request(
        method,
        url,
        headers=headers | body.get("headers", {}),
        params=body.get("params"),
        json=body.get("json"),
        content=body.get("content"),
    )
    return response.status_code, response


@pytest.mark.parametrize(("service", "method", "path"), CASES, ids=lambda v: str(v))
async def test_each_caller_gets_exactly_the_answer_of_the_table(
    services: dict[Service, Running], service: Service, method: str, path: str
) -> None:
    entry = MATRIX[service][(method, path)]
    wrong = []
    for who in CALLERS:
        expected = expected_answer(entry, who)
        status, response = await _answer(services[service], method, path, who)
        text = response.text[:300] if response is not None else ""
        if expected == PASSES:
            if status in (401, 403) or status >= 500:
                wrong.append(f"{who.name}: {status}, should get past the door: {text}")
            elif entry.owner is not None and status == 404:
                wrong.append(f"{who.name}: 404 for the owner, the resource is there: {text}")
        elif status != expected:
            wrong.append(f"{who.name}: {status} instead of {expected}: {text}")
        elif response is None or response.headers["content-type"] != PROBLEM:
            wrong.append(f"{who.name}: {status} is not problem+json")
        elif expected == 401 and not response.headers["www-authenticate"].startswith("Bearer"):
            wrong.append(f"{who.name}: 401 without WWW-Authenticate: Bearer")
    assert not wrong, f"{method} {path} ({service}):\n" + "\n".join(wrong)


async def test_a_team_lists_only_its_own_organisations_entries(
    services: dict[Service, Running],
) -> None:
    target = services["submissions"]
    listed = {
        name: await target.http.get(
            f"/editions/{YEAR}/entries", headers=target.keys.headers(caller(name))
        )
        for name in ("submitter", "submitter-of-another-organisation")
    }
    assert [answer.status_code for answer in listed.values()] == [200, 200]
    mine, theirs = (answer.json() for answer in listed.values())
    assert target.ids["entry_id"] in {e["entry_id"] for e in mine}
    assert {e["organisation_id"] for e in mine} == {OWNER_ORG}
    assert {e["organisation_id"] for e in theirs} <= {"org-2"}


async def test_a_reviewer_lists_only_their_own_assignments(
    services: dict[Service, Running],
) -> None:
    target = services["review"]
    chair = target.keys.headers(caller("chair"))
    for name in ("reviewer", "another-reviewer"):
        who = caller(name)
        mine = await target.http.get(
            "/me/assignments", params={"year": YEAR}, headers=target.keys.headers(who)
        )
        assigned = await target.http.get(
            f"/editions/{YEAR}/assignments", params={"reviewer_id": who.subject}, headers=chair
        )
        assert mine.status_code == assigned.status_code == 200, (mine.text, assigned.text)
        active = {a["entry_id"] for a in assigned.json() if a["status"] == "active"}
        assert {a["entry"]["entry_id"] for a in mine.json()} == active
        assert (target.ids["entry_id"] in active) == (who.subject == ASSIGNED_REVIEWER)


# --- tokens that must be refused -----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "mallory",
        "roles": ["admin", "voter", "chair", "submitter", "reviewer"],
        "org": OWNER_ORG,
        "aud": "wsis",
        "iss": "wsis-dev",
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_the_public_key(claims: dict[str, Any], public_pem: bytes) -> str:
    """The classic confusion attack: HMAC-signed with the server's public key as the secret."""
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}."
        f"{_b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture(scope="module")
def refused_tokens(keys: Keys) -> dict[str, str]:
    """A genuine token claiming every role, and tokens like it that must open no door."""
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = keys.public_file.read_bytes()
    genuine = jwt.encode(_claims(), keys.private, algorithm="RS256")
    header, payload, signature = genuine.split(".")
    tampered_claims = _b64(json.dumps(_claims(sub="someone-else")).encode())
    return {
        "genuine": genuine,
        "wrong-signature": jwt.encode(_claims(), other_pem, algorithm="RS256"),
        "tampered-claims": f"{header}.{tampered_claims}.{signature}",
        "alg-none": _unsigned(_claims()),
        "alg-None-capitalised": _unsigned(_claims(), alg="None"),
        "hs256-with-the-public-key": _hs256_with_the_public_key(_claims(), public_pem),
        "expired": jwt.encode(
            _claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 60),
            keys.private,
            algorithm="RS256",
        ),
        "wrong-audience": jwt.encode(_claims(aud="another-app"), keys.private, algorithm="RS256"),
        "no-audience": jwt.encode(_claims(aud=None), keys.private, algorithm="RS256"),
        "wrong-issuer": jwt.encode(_claims(iss="evil-idp"), keys.private, algorithm="RS256"),
        "no-expiry": jwt.encode(_claims(exp=None), keys.private, algorithm="RS256"),
        "garbage": "not-a-jwt",
        "garbage-three-parts": "a.b.c",
        "empty-signature": f"{header}.{payload}.",
    }


# One door per kind of check: the identity provider's verifier on each service, and the voting
# service's own voter door (which also takes its voter tokens).
GUARDED: Final[list[tuple[Service, str, str]]] = [
    ("submissions", "GET", f"/admin/editions/{YEAR}/entries"),
    ("submissions", "POST", f"/editions/{YEAR}/entries"),
    ("review", "GET", "/reviewers"),
    ("review", "GET", "/me/reviewer"),
    ("voting", "GET", f"/editions/{YEAR}/tally/verify"),
    ("voting", "GET", f"/editions/{YEAR}/my-votes"),
    ("stocktaking", "POST", "/contributions"),
    ("stocktaking", "GET", "/reports/jobs/no-such-job"),
]


@pytest.mark.parametrize(("service", "method", "path"), GUARDED, ids=lambda v: str(v))
async def test_tokens_that_are_not_genuine_and_current_are_refused(
    services: dict[Service, Running],
    refused_tokens: dict[str, str],
    service: Service,
    method: str,
    path: str,
) -> None:
    target = services[service]
    genuine = refused_tokens["genuine"]
    control = await target.http.request(
        method, path, headers={"Authorization": f"Bearer {genuine}"}, json={}
    )
    assert control.status_code not in (401, 403), f"the genuine token was refused: {control.text}"
    schemes = {
        "basic-scheme": f"Basic {genuine}",
        "no-scheme": genuine,
        **{name: f"Bearer {token}" for name, token in refused_tokens.items() if token != genuine},
    }
    for name, value in schemes.items():
        answer = await target.http.request(method, path, headers={"Authorization": value}, json={})
        assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
        assert answer.headers["content-type"] == PROBLEM, name
        assert answer.headers["www-authenticate"].startswith("Bearer realm="), name
