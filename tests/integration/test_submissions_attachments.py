"""Attachments through the submissions API on the real mongod: a submitted entry's files are
frozen with it when the submission phase closes, the review team finds a submitted entry's files
and opens them by signed links (a draft's or a withdrawn entry's stay closed to them), a withdrawn
entry's files can be removed, a form upload is told how to send a file, HEAD answers the
downloads' headers, and a cut-off file is refused before it is stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from typing import Any, Final

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from tests.integration.helpers import COMPLETE_ENTRY, whole_png
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role
from wsis_submissions.app import create_app
from wsis_submissions.settings import SubmissionsSettings

pytestmark = pytest.mark.integration

PROBLEM: Final = "application/problem+json"
PDF: Final = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RAW: Final = {"content-type": "application/octet-stream"}
COMPLETE: Final = COMPLETE_ENTRY


PNG: Final = whole_png()


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    private_key: bytes
    years: count[int]

    def bearer(self, role: Role, org: str | None = None) -> dict[str, str]:
        token = sign_dev_token(
            self.private_key, subject=f"{role}-{org}", roles=[role], organisation_id=org
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.bearer(Role.ADMIN)

    @property
    def reviewer(self) -> dict[str, str]:
        return self.bearer(Role.REVIEWER)

    async def edition(self) -> int:
        """A new edition in its submission phase (one per test: tests close theirs)."""
        year = next(self.years)
        schedule = {
            "submission_opens": f"{year}-01-01T00:00:00Z",
            "submission_closes": f"{year}-02-01T00:00:00Z",
            "review_closes": f"{year}-03-01T00:00:00Z",
            "voting_opens": f"{year}-03-02T00:00:00Z",
            "voting_closes": f"{year}-04-01T00:00:00Z",
            "results_at": f"{year}-04-10T00:00:00Z",
        }
        created = await self.client.post(
            "/editions",
            json={"year": year, "title": f"Attachments {year}", "schedule": schedule},
            headers=self.admin,
        )
        assert created.status_code == 201, created.text
        await self.phase(year, "submission")
        return year

    async def phase(self, year: int, phase: str) -> None:
        moved = await self.client.post(
            f"/editions/{year}/phase", json={"phase": phase}, headers=self.admin
        )
        assert moved.status_code == 200, moved.text

    async def entry(self, year: int, team: dict[str, str], *, submit: bool) -> str:
        title = f"Project {uuid.uuid4().hex}"
        created = await self.client.post(
            f"/editions/{year}/entries", json=COMPLETE | {"title": title}, headers=team
        )
        assert created.status_code == 201, created.text
        entry_id: str = created.json()["entry_id"]
        if submit:
            submitted = await self.client.post(f"/entries/{entry_id}/submit", headers=team)
            assert submitted.status_code == 200, submitted.text
        return entry_id

    async def attach(
        self, entry_id: str, team: dict[str, str], data: bytes = PDF, name: str = "report.pdf"
    ) -> httpx.Response:
        return await self.client.post(
            f"/entries/{entry_id}/attachments",
            params={"filename": name},
            content=data,
            headers=team | RAW,
        )

    async def attached(self, entry_id: str, team: dict[str, str], **kwargs: Any) -> str:
        answer = await self.attach(entry_id, team, **kwargs)
        assert answer.status_code == 201, answer.text
        attachment_id: str = answer.json()["attachment_id"]
        return attachment_id

    async def stored_files(self, entry_id: str) -> int:
        db = self.app.state.resources.db
        found: int = await db["attachments.files"].count_documents({"metadata.entry_id": entry_id})
        return found


@pytest.fixture(scope="module")
async def api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    app = create_app(
        SubmissionsSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
        )
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield Api(http, app, private_key.read_bytes(), count(2061))
        resources = app.state.resources
        await resources.mongo.drop_database(resources.db.name)


def _team(api: Api) -> dict[str, str]:
    """A team of its own organisation (one entry per category per organisation)."""
    return api.bearer(Role.SUBMITTER, f"org-{uuid.uuid4().hex[:8]}")


def _problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


# --- a submitted entry's files are frozen with it ------------------------------------------------


async def test_a_submitted_entrys_files_change_only_while_the_submission_phase_lasts(
    api: Api,
) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=True)
    first = await api.attached(entry_id, team)
    second = await api.attached(entry_id, team, data=PNG, name="poster.png")
    removed = await api.client.delete(f"/entries/{entry_id}/attachments/{second}", headers=team)
    assert removed.status_code == 204, removed.text
    await api.phase(year, "review")

    amended = await api.client.post(
        f"/entries/{entry_id}/amend", json={"title": "Swapped after the close"}, headers=team
    )
    added = await api.attach(entry_id, team, data=PNG, name="swapped.png")
    dropped = await api.client.delete(f"/entries/{entry_id}/attachments/{first}", headers=team)

    # The same refusal as an amendment's: the phase, the one it needs, and its dates.
    for answer, action in (
        (amended, "amending an entry"),
        (added, "adding an attachment to a submitted entry"),
        (dropped, "removing an attachment from a submitted entry"),
    ):
        body = _problem(answer, 409, "phase-closed")
        assert body["detail"].startswith(f"{action} is possible only in the submission phase")
        assert f"{year}-02-01T00:00:00+00:00" in body["detail"]
        assert (body["current_phase"], body["required_phase"]) == ("review", "submission")
        assert body["closes_at"] == f"{year}-02-01T00:00:00+00:00"
    entry = (await api.client.get(f"/entries/{entry_id}", headers=team)).json()
    assert [a["attachment_id"] for a in entry["attachments"]] == [first]
    assert await api.stored_files(entry_id) == 1  # the refused upload was not kept
    history = (await api.client.get(f"/entries/{entry_id}/history", headers=team)).json()
    assert [(r["action"], r["changes"]) for r in history[-3:]] == [
        ("attached", {"attachment": "report.pdf"}),
        ("attached", {"attachment": "poster.png"}),
        ("detached", {"attachment": "poster.png"}),
    ]


async def test_a_draft_takes_files_after_the_close_as_before(api: Api) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=False)
    await api.phase(year, "review")

    attachment_id = await api.attached(entry_id, team)
    removed = await api.client.delete(
        f"/entries/{entry_id}/attachments/{attachment_id}", headers=team
    )

    assert removed.status_code == 204, removed.text


# --- the review team finds a submitted entry's files ---------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.CHAIR, Role.ADMIN])
async def test_the_review_team_lists_a_submitted_entrys_files_with_links(
    api: Api, role: Role
) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=True)
    report = await api.attached(entry_id, team, name="Отчёт 2025.pdf")
    poster = await api.attached(entry_id, team, data=PNG, name="poster.png")
    await api.phase(year, "review")

    listed = await api.client.get(f"/entries/{entry_id}/attachments", headers=api.bearer(role))

    assert listed.status_code == 200, listed.text
    files = listed.json()
    assert [
        {k: f[k] for k in ("attachment_id", "filename", "content_type", "size")} for f in files
    ] == [
        {
            "attachment_id": report,
            "filename": "Отчёт 2025.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        },
        {
            "attachment_id": poster,
            "filename": "poster.png",
            "content_type": "image/png",
            "size": len(PNG),
        },
    ]
    for found, data in zip(files, (PDF, PNG), strict=True):
        assert found["link"]["expires_in_s"] == 15 * 60
        opened = await api.client.get(found["link"]["url"])  # no token: the link is enough
        assert opened.status_code == 200, opened.text
        assert opened.content == data


async def test_the_review_team_finds_no_draft_withdrawn_or_missing_entry(api: Api) -> None:
    year = await api.edition()
    team = _team(api)
    drafted = await api.entry(year, team, submit=False)
    await api.attached(drafted, team)
    other_team = _team(api)
    withdrawn = await api.entry(year, other_team, submit=True)
    await api.attached(withdrawn, other_team)
    taken_back = await api.client.post(
        f"/entries/{withdrawn}/withdraw", json={}, headers=other_team
    )
    assert taken_back.status_code == 200, taken_back.text

    for entry_id in (drafted, withdrawn, str(uuid.uuid4())):
        listed = await api.client.get(f"/entries/{entry_id}/attachments", headers=api.reviewer)
        _problem(listed, 404, "not-found")
    refused = await api.client.get(f"/entries/{drafted}/attachments", headers=team)
    _problem(refused, 403, "forbidden")  # the team reads its entry itself


# --- signed links reach submitted entries only ---------------------------------------------------


async def test_no_link_to_a_drafts_file(api: Api) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=False)
    attachment_id = await api.attached(entry_id, team)

    link = await api.client.post(
        f"/entries/{entry_id}/attachments/{attachment_id}/link", headers=api.reviewer
    )

    _problem(link, 404, "not-found")


async def test_a_withdrawn_entrys_files_close_to_links_and_go_when_the_team_removes_them(
    api: Api,
) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=True)
    attachment_id = await api.attached(entry_id, team)
    link = await api.client.post(
        f"/entries/{entry_id}/attachments/{attachment_id}/link", headers=api.reviewer
    )
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert (await api.client.get(url)).status_code == 200
    withdrawn = await api.client.post(f"/entries/{entry_id}/withdraw", json={}, headers=team)
    assert withdrawn.status_code == 200, withdrawn.text
    await api.phase(year, "review")

    _problem(await api.client.get(url), 404, "not-found")  # the link, still in its 15 minutes
    assert (await api.client.head(url)).status_code == 404
    again = await api.client.post(
        f"/entries/{entry_id}/attachments/{attachment_id}/link", headers=api.reviewer
    )
    _problem(again, 404, "not-found")
    own = await api.client.get(f"/entries/{entry_id}/attachments/{attachment_id}", headers=team)
    assert own.content == PDF  # the team still has its file
    removed = await api.client.delete(
        f"/entries/{entry_id}/attachments/{attachment_id}", headers=team
    )
    assert removed.status_code == 204, removed.text
    assert await api.stored_files(entry_id) == 0
    added = await api.attach(entry_id, team)
    _problem(added, 409, "conflict")  # nothing new on a withdrawn entry
    history = (await api.client.get(f"/entries/{entry_id}/history", headers=team)).json()
    assert (history[-1]["action"], history[-1]["changes"]) == (
        "detached",
        {"attachment": "report.pdf"},
    )


# --- a file's raw bytes, not a form --------------------------------------------------------------


async def test_a_form_upload_or_json_is_told_to_send_the_raw_bytes(api: Api) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=False)

    as_form = await api.client.post(
        f"/entries/{entry_id}/attachments",
        files={"file": ("report.pdf", PDF, "application/pdf")},
        headers=team,
    )
    as_json = await api.client.post(
        f"/entries/{entry_id}/attachments", json={"file": "report.pdf"}, headers=team
    )

    for answer in (as_form, as_json):
        body = _problem(answer, 415, "unsupported-media-type")
        assert "Content-Type application/octet-stream" in body["detail"]
        assert "--data-binary @report.pdf" in body["detail"]
        assert body["accepted"] == ["application/octet-stream"]
    assert await api.stored_files(entry_id) == 0
    # curl --data-binary without a type sends application/x-www-form-urlencoded: still a file.
    plain = await api.client.post(
        f"/entries/{entry_id}/attachments",
        params={"filename": "report.pdf"},
        content=PDF,
        headers=team | {"content-type": "application/x-www-form-urlencoded"},
    )
    assert plain.status_code == 201, plain.text


# --- HEAD on the downloads -----------------------------------------------------------------------


async def test_head_answers_a_downloads_headers_without_the_file(api: Api) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=True)
    attachment_id = await api.attached(entry_id, team, name="Отчёт.pdf")
    link = await api.client.post(
        f"/entries/{entry_id}/attachments/{attachment_id}/link", headers=api.reviewer
    )
    team_path = f"/entries/{entry_id}/attachments/{attachment_id}"

    for path, headers in ((team_path, team), (link.json()["url"], {})):
        got = await api.client.get(path, headers=headers)
        head = await api.client.head(path, headers=headers)
        assert head.status_code == 200, (path, head.text)
        assert head.content == b""
        assert head.headers["content-length"] == str(len(PDF))
        for name in ("content-type", "content-disposition", "cache-control"):
            assert head.headers[name] == got.headers[name], name
        assert head.headers["x-content-type-options"] == "nosniff"

    other = await api.client.head(team_path, headers=_team(api))
    assert other.status_code == 404
    tampered = await api.client.head(link.json()["url"] + "x")
    assert tampered.status_code == 403


# --- whole files only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xd8\xff", "the JPEG image seems cut off"),
        (b"%PDF-", "the PDF seems cut off"),
        (b"\x89PNG\r\n\x1a\n", "the PNG image seems cut off"),
        (b"%PDF-1.7\n<html><body>a web page</body></html>\n", "the PDF seems cut off"),
        (PNG[:-12], "the PNG image seems cut off"),
    ],
    ids=["jpeg-3-bytes", "pdf-5-bytes", "png-8-bytes", "html-as-pdf", "png-no-end"],
)
async def test_a_cut_off_or_fake_file_is_refused_with_what_to_do(
    api: Api, data: bytes, says: str
) -> None:
    year = await api.edition()
    team = _team(api)
    entry_id = await api.entry(year, team, submit=False)

    answer = await api.attach(entry_id, team, data=data, name="file.pdf")

    body = _problem(answer, 422, "invalid-input")
    assert body["detail"].startswith(says)
    assert "upload the complete file" in body["detail"]
    assert await api.stored_files(entry_id) == 0
